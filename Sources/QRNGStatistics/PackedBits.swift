import QRNG

/// Read-only, word-at-a-time access to a sequence under test.
///
/// The words are a copy of a ``BitBuffer``'s, MSB-first, with two zero words appended so that any read of up
/// to 64 bits that starts before the end may look one word ahead without a bounds check. The bits past
/// ``count`` read as zero.
@usableFromInline
struct PackedBits: Sendable {
    @usableFromInline let words: [UInt64]
    @usableFromInline let count: Int

    @usableFromInline
    init(_ bits: BitBuffer) {
        var words = bits.words
        words.append(contentsOf: [0, 0])
        self.words = words
        self.count = bits.count
    }

    /// The bits followed by their first `extra` bits again, for the tests that read the sequence cyclically
    /// (serial, approximate entropy): position i of the result is bit i mod n.
    init(cyclicallyExtending bits: BitBuffer, by extra: Int) {
        precondition(extra >= 0 && extra <= bits.count, "can only wrap around once")
        var extended = bits
        extended.append(contentsOf: bits, range: 0..<extra)
        self.init(extended)
    }

    @inlinable
    func withWords<R>(_ body: (UnsafePointer<UInt64>) throws -> R) rethrows -> R {
        try words.withUnsafeBufferPointer { try body($0.baseAddress!) }
    }
}

extension UnsafePointer<UInt64> {
    /// The `width` bits (1…64) starting at bit `offset`, right-aligned: the first of them is the most
    /// significant.
    @inlinable @inline(__always)
    func bits(at offset: Int, width: Int) -> UInt64 {
        let index = offset &>> 6
        let shift = UInt64(offset & 63)
        var value = self[index] &<< shift
        if shift != 0 { value |= self[index &+ 1] &>> (64 &- shift) }
        return value &>> UInt64(64 &- width)
    }

    /// The 64 bits starting at bit `offset`, the first of them in the most significant position.
    @inlinable @inline(__always)
    func word(at offset: Int) -> UInt64 {
        let index = offset &>> 6
        let shift = UInt64(offset & 63)
        guard shift != 0 else { return self[index] }
        return (self[index] &<< shift) | (self[index &+ 1] &>> (64 &- shift))
    }

    /// The bit at `offset`, 0 or 1.
    @inlinable @inline(__always)
    func bit(at offset: Int) -> Int {
        Int(truncatingIfNeeded: (self[offset &>> 6] &>> UInt64(63 &- (offset & 63))) & 1)
    }

    /// The number of one bits in `range`.
    @inlinable
    func popcount(in range: Range<Int>) -> Int {
        guard !range.isEmpty else { return 0 }
        let first = range.lowerBound &>> 6
        let last = (range.upperBound &- 1) &>> 6
        let headMask = UInt64.max &>> UInt64(range.lowerBound & 63)
        let tailMask = UInt64.max &<< UInt64(63 &- ((range.upperBound &- 1) & 63))
        if first == last { return (self[first] & headMask & tailMask).nonzeroBitCount }
        var total = (self[first] & headMask).nonzeroBitCount + (self[last] & tailMask).nonzeroBitCount
        var index = first &+ 1
        while index < last {
            total &+= self[index].nonzeroBitCount
            index &+= 1
        }
        return total
    }
}
