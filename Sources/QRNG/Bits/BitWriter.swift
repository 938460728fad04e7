/// Collects bits a few at a time and appends them to a ``BitBuffer`` a whole word at a time.
///
/// The extractors emit a variable number of bits per input byte; appending each group directly would cost a
/// buffer access per group.
@usableFromInline
struct BitWriter {
    @usableFromInline var word: UInt64 = 0
    @usableFromInline var filled = 0

    @inlinable
    init() {}

    /// Appends the low `count` bits of `bits` (0 ≤ count ≤ 32), most significant first.
    @inlinable @inline(__always)
    mutating func write(_ bits: UInt64, count: Int, to output: inout BitBuffer) {
        guard count > 0 else { return }
        let free = 64 - filled
        if count < free {
            word |= bits << UInt64(free - count)
            filled += count
        } else {
            let spill = count - free
            word |= bits >> UInt64(spill)
            output.appendLeftAligned(word, width: 64)
            word = spill == 0 ? 0 : bits << UInt64(64 - spill)
            filled = spill
        }
    }

    /// Appends whatever is still collected.
    @inlinable
    mutating func flush(to output: inout BitBuffer) {
        if filled > 0 { output.appendLeftAligned(word, width: filled) }
        word = 0
        filled = 0
    }
}
