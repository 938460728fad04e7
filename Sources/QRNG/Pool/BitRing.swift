/// A fixed-capacity ring of bits that zeroes every bit it hands out.
///
/// The capacity is a power of two number of 64-bit words, so positions wrap with a mask. `head` and `tail` count
/// bits from the ring's creation and never wrap themselves (2⁶⁴ bits is centuries at any real rate). The bits
/// outside [head, tail) are always zero; writing ORs into them.
struct BitRing: ~Copyable {
    let capacityBits: Int
    private let wordMask: Int
    private let storage: UnsafeMutableBufferPointer<UInt64>
    private(set) var head: UInt64 = 0
    private(set) var tail: UInt64 = 0

    /// Creates a ring holding at least `minimumCapacityBits` bits.
    init(minimumCapacityBits: Int) {
        var words = 1
        while words * 64 < minimumCapacityBits { words <<= 1 }
        self.capacityBits = words * 64
        self.wordMask = words - 1
        self.storage = .allocate(capacity: words)
        self.storage.initialize(repeating: 0)
    }

    deinit {
        secureZero(UnsafeMutableRawBufferPointer(storage))
        storage.deallocate()
    }

    var count: Int { Int(tail - head) }
    var freeBits: Int { capacityBits - count }

    /// Appends the bits of `bits` in `range`; they must fit.
    mutating func write(_ bits: BitBuffer, range: Range<Int>) {
        precondition(range.count <= freeBits, "the ring has no room for these bits")
        var position = range.lowerBound
        while position < range.upperBound {
            let width = min(64, range.upperBound - position)
            let chunk = bits.word(atBit: position, width: width)
            let index = Int(truncatingIfNeeded: tail >> 6) & wordMask
            let shift = Int(tail & 63)
            storage[index] |= chunk >> UInt64(shift)
            if shift + width > 64 { storage[(index + 1) & wordMask] |= chunk << UInt64(64 - shift) }
            tail += UInt64(width)
            position += width
        }
    }

    /// Removes up to 64 bits from the front, zeroing them in the ring; returns them left-aligned.
    mutating func takeWord(width: Int) -> UInt64 {
        precondition(width >= 1 && width <= 64 && width <= count, "not enough bits in the ring")
        let index = Int(truncatingIfNeeded: head >> 6) & wordMask
        let next = (index + 1) & wordMask
        let shift = UInt64(head & 63)
        let mask = width == 64 ? UInt64.max : ~(UInt64.max >> UInt64(width))
        var value = storage[index] << shift
        if shift != 0 { value |= storage[next] >> (64 - shift) }
        storage[index] &= ~(mask >> shift)
        if shift != 0 && Int(shift) + width > 64 { storage[next] &= ~(mask << (64 - shift)) }
        head += UInt64(width)
        return value & mask
    }

    /// Removes `bitCount` bits from the front into `output`.
    mutating func take(_ bitCount: Int, into output: inout BitBuffer) {
        var remaining = bitCount
        while remaining > 0 {
            let width = min(64, remaining)
            output.appendLeftAligned(takeWord(width: width), width: width)
            remaining -= width
        }
    }

    /// Removes `destination.count` bytes' worth of bits from the front, packing them MSB-first.
    ///
    /// A word at a time whatever the alignment: the FIFO server hands out bytes at pipe speed through here.
    mutating func take(into destination: UnsafeMutableRawBufferPointer) {
        guard let out = destination.baseAddress else { return }
        let wholeWords = destination.count / 8
        if wholeWords > 0 {
            var index = Int(truncatingIfNeeded: head >> 6) & wordMask
            let shift = UInt64(head & 63)
            if shift == 0 {
                for word in 0..<wholeWords {
                    out.storeBytes(of: storage[index].bigEndian, toByteOffset: 8 * word, as: UInt64.self)
                    storage[index] = 0
                    index = (index + 1) & wordMask
                }
            } else {
                for word in 0..<wholeWords {
                    // The word's low bits and the next word's high bits. Only the bits taken are cleared: in a
                    // full ring the word at the head also holds the newest bits, before the head.
                    let next = (index + 1) & wordMask
                    let value = storage[index] << shift | storage[next] >> (64 - shift)
                    storage[index] &= ~(UInt64.max >> shift)
                    storage[next] &= UInt64.max >> shift
                    out.storeBytes(of: value.bigEndian, toByteOffset: 8 * word, as: UInt64.self)
                    index = next
                }
            }
            head += UInt64(64 * wholeWords)
        }
        let rest = destination.count - 8 * wholeWords
        if rest > 0 {
            let value = takeWord(width: 8 * rest).bigEndian
            withUnsafeBytes(of: value) { raw in
                (out + 8 * wholeWords).copyMemory(from: raw.baseAddress!, byteCount: rest)
            }
        }
    }

    /// Whether every storage bit outside [head, tail) is zero, as the ring promises; for tests.
    var isZeroOutsideContents: Bool {
        (0..<capacityBits).allSatisfy { bit in
            let position = UInt64(bit)
            let inside = (position &- head) % UInt64(capacityBits) < UInt64(count)
            return inside || (storage[bit >> 6] >> UInt64(63 - bit & 63)) & 1 == 0
        }
    }

    /// The bits in the ring, in order, without taking them; for tests.
    var contents: [Bool] {
        (0..<count).map { offset in
            let position = Int(truncatingIfNeeded: (head + UInt64(offset)) % UInt64(capacityBits))
            return (storage[position >> 6] >> UInt64(63 - position & 63)) & 1 == 1
        }
    }

    /// Zeroes and drops every bit.
    mutating func removeAll() {
        secureZero(UnsafeMutableRawBufferPointer(storage))
        head = tail
    }
}
