/// A growable string of bits, packed into 64-bit words, most significant bit first.
///
/// Bit `i` of the buffer is bit `63 - i % 64` of `words[i / 64]`, so the words read left to right in the same
/// order as the bits, and writing the words out big-endian gives the MSB-first byte packing that NIST STS,
/// cryptomite and qrng's files use (bit 0 is `0x80` of byte 0).
///
/// Every stage after the health tests works on `BitBuffer`s: the extractors take and produce them, the pool stores
/// their words. The bits past ``count`` in the last word are always zero, so two buffers with the same bits compare
/// equal word by word.
public struct BitBuffer: Sendable, Hashable {
    /// The packed words; the unused low bits of the last word are zero. The layout is the library's own: other
    /// modules of the package use it for speed, a user reads bits through ``word(atBit:width:)`` and
    /// ``packedBytes()``.
    @usableFromInline package private(set) var words: [UInt64]
    /// The number of bits in the buffer.
    public private(set) var count: Int

    /// Creates an empty buffer.
    public init() {
        self.words = []
        self.count = 0
    }

    /// Creates an empty buffer with room for `bits` bits before it reallocates.
    public init(minimumCapacity bits: Int) {
        self.words = []
        self.words.reserveCapacity((bits + 63) >> 6)
        self.count = 0
    }

    /// Creates a buffer of `count` zero bits.
    public init(zeros count: Int) {
        precondition(count >= 0, "a bit count cannot be negative")
        self.words = Array(repeating: 0, count: (count + 63) >> 6)
        self.count = count
    }

    /// Creates a buffer from words already packed MSB-first, keeping the first `count` bits.
    public init(words: [UInt64], count: Int) {
        precondition(count >= 0 && count <= words.count * 64, "count must fit in the words given")
        self.words = Array(words.prefix((count + 63) >> 6))
        self.count = count
        self.clearTail()
    }

    /// Creates a buffer from bytes packed MSB-first (bit 0 is `0x80` of byte 0).
    ///
    /// - Parameters:
    ///   - bytes: The packed bytes.
    ///   - count: How many bits to keep; all of them (`8 * bytes.count`) when `nil`.
    public init(packedBytes bytes: some Collection<UInt8>, count: Int? = nil) {
        let bitCount = count ?? bytes.count * 8
        precondition(bitCount >= 0 && bitCount <= bytes.count * 8, "count must fit in the bytes given")
        var words = [UInt64](repeating: 0, count: (bitCount + 63) >> 6)
        var index = 0
        for byte in bytes.prefix((bitCount + 7) >> 3) {
            words[index >> 3] |= UInt64(byte) << (56 - 8 * (index & 7))
            index += 1
        }
        self.init(words: words, count: bitCount)
    }

    /// Makes room for `bits` bits in all before the buffer reallocates.
    public mutating func reserveCapacity(_ bits: Int) {
        words.reserveCapacity((bits + 63) >> 6)
    }

    /// Whether the buffer holds no bits.
    @inlinable public var isEmpty: Bool { count == 0 }

    /// The bit at `index`.
    public subscript(index: Int) -> Bool {
        precondition(index >= 0 && index < count, "bit index out of range")
        return (words[index >> 6] >> (63 - UInt64(index & 63))) & 1 == 1
    }

    /// Appends one bit.
    public mutating func append(_ bit: Bool) {
        if count & 63 == 0 { words.append(0) }
        if bit { words[count >> 6] |= 1 << (63 - UInt64(count & 63)) }
        count += 1
    }

    /// Appends the low `width` bits of `value`, most significant of them first.
    public mutating func append(bits value: UInt64, width: Int) {
        precondition(width >= 0 && width <= 64, "width must be between 0 and 64")
        guard width > 0 else { return }
        let aligned = width == 64 ? value : (value & ((1 << UInt64(width)) - 1)) << UInt64(64 - width)
        appendLeftAligned(aligned, width: width)
    }

    /// Appends the first `width` bits of `word` (its most significant bits); the rest of `word` must be zero.
    @usableFromInline
    mutating func appendLeftAligned(_ word: UInt64, width: Int) {
        let used = count & 63
        if used == 0 {
            words.append(word)
        } else {
            words[words.count - 1] |= word >> UInt64(used)
            if used + width > 64 { words.append(word << UInt64(64 - used)) }
        }
        count += width
    }

    /// Appends all bits of `other`.
    public mutating func append(contentsOf other: BitBuffer) {
        append(contentsOf: other, range: 0..<other.count)
    }

    /// Appends the bits of `other` in `range`.
    public mutating func append(contentsOf other: BitBuffer, range: Range<Int>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= other.count, "range out of bounds")
        other.words.withUnsafeBufferPointer { append(words: $0, range: range) }
    }

    /// Appends bits `range` of the MSB-first bit string held in `words`.
    ///
    /// The bits are moved a whole word at a time into storage grown once, not one `append` per word: this copy
    /// is on the path of every bit the health tests release.
    public mutating func append(words source: UnsafeBufferPointer<UInt64>, range: Range<Int>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= source.count * 64, "range out of bounds")
        let bitCount = range.count
        guard bitCount > 0 else { return }
        let used = UInt64(count & 63)
        let firstWord = count >> 6
        let newWordCount = (count + bitCount + 63) >> 6
        words.append(contentsOf: repeatElement(0, count: newWordCount - words.count))
        let chunks = (bitCount + 63) >> 6
        let sourceWord = range.lowerBound >> 6
        let shift = UInt64(range.lowerBound & 63)
        let sourceEnd = source.count
        words.withUnsafeMutableBufferPointer { destination in
            let target = destination.baseAddress! + firstWord
            let from = source.baseAddress! + sourceWord
            for chunk in 0..<chunks {
                var value = from[chunk] << shift
                if shift != 0 && sourceWord + chunk + 1 < sourceEnd { value |= from[chunk + 1] >> (64 - shift) }
                if used == 0 {
                    target[chunk] = value
                } else {
                    target[chunk] |= value >> used
                    if firstWord + chunk + 1 < newWordCount { target[chunk + 1] = value << (64 - used) }
                }
            }
        }
        count += bitCount
        clearTail()
    }

    /// Appends `samples.count` samples of `width` bits each (1 to 16), most significant bit first, as the
    /// health monitor releases wide samples.
    ///
    /// 8- and 16-bit samples are written a whole word at a time once the buffer ends on a word boundary: the
    /// samples are stored in order, then each word is byte-swapped into MSB-first order. Other widths go
    /// through a shift register.
    public mutating func append(samples: UnsafeBufferPointer<UInt16>, width: Int) {
        precondition((1...16).contains(width), "samples are 1 to 16 bits wide")
        var next = 0
        let total = samples.count
        guard total > 0 else { return }
        let fast = width == 8 || width == 16
        let perWord = 64 / width
        // A partial last word goes back into the shift register.
        let used = count & 63
        var register: UInt64 = 0
        var filled = 0
        if used != 0 {
            register = words.removeLast()
            filled = used
            count -= used
        }
        words.reserveCapacity((count + filled + total * width + 63) >> 6)
        // Sample by sample: every sample for other widths, and for 8 and 16 bits until a word boundary.
        while next < total && (!fast || filled != 0) {
            let value = UInt64(samples[next])
            let free = 64 - filled
            if width < free {
                register |= value << UInt64(free - width)
                filled += width
            } else {
                let spill = width - free
                words.append(register | value >> UInt64(spill))
                count += 64
                register = spill == 0 ? 0 : value << UInt64(64 - spill)
                filled = spill
            }
            next += 1
        }
        // Word-aligned 8- or 16-bit samples: whole words, then the rest through the register.
        let wholeWords = (total - next) / perWord
        if wholeWords > 0 {
            let firstWord = words.count
            words.append(contentsOf: repeatElement(0, count: wholeWords))
            words.withUnsafeMutableBufferPointer { destination in
                let raw = UnsafeMutableRawPointer(destination.baseAddress! + firstWord)
                let source = samples.baseAddress! + next
                // Raw stores: the words are bound to UInt64, so no typed UInt8 or UInt16 pointer may alias them.
                if width == 8 {
                    for index in 0..<wholeWords * 8 {
                        let byte = UInt8(truncatingIfNeeded: source[index])
                        raw.storeBytes(of: byte, toByteOffset: index, as: UInt8.self)
                    }
                } else {
                    for index in 0..<wholeWords * 4 {
                        raw.storeBytes(of: source[index].byteSwapped, toByteOffset: 2 * index, as: UInt16.self)
                    }
                }
                let packed = destination.baseAddress! + firstWord
                for index in 0..<wholeWords { packed[index] = UInt64(bigEndian: packed[index]) }
            }
            count += wholeWords * 64
            next += wholeWords * perWord
        }
        while next < total {
            register |= UInt64(samples[next]) << UInt64(64 - filled - width)
            filled += width
            next += 1
        }
        if filled > 0 {
            words.append(register)
            count += filled
        }
    }

    /// Up to 64 bits starting at bit `offset`, left-aligned in the result; bits past `width` are zero.
    @inlinable
    public func word(atBit offset: Int, width: Int = 64) -> UInt64 {
        precondition(offset >= 0 && width >= 0 && width <= 64 && offset + width <= count, "bits out of range")
        guard width > 0 else { return 0 }
        let index = offset >> 6
        let shift = UInt64(offset & 63)
        var value = words[index] << shift
        if shift != 0 && index + 1 < words.count { value |= words[index + 1] >> (64 - shift) }
        return width == 64 ? value : value & ~(UInt64.max >> UInt64(width))
    }

    /// The bits in `range`, as a new buffer.
    public func extracting(_ range: Range<Int>) -> BitBuffer {
        var result = BitBuffer(minimumCapacity: range.count)
        result.append(contentsOf: self, range: range)
        return result
    }

    /// Removes the first `k` bits, shifting the rest to the front.
    public mutating func removeFirst(_ k: Int) {
        precondition(k >= 0 && k <= count, "cannot remove more bits than the buffer holds")
        guard k > 0 else { return }
        let rest = extracting(k..<count)
        removeAll(keepingCapacity: true)
        append(contentsOf: rest)
    }

    /// Removes every bit, overwriting the storage with zeros first.
    public mutating func removeAll(keepingCapacity: Bool = false) {
        words.withUnsafeMutableBufferPointer { secureZero(UnsafeMutableRawBufferPointer($0)) }
        words.removeAll(keepingCapacity: keepingCapacity)
        count = 0
    }

    /// The bits packed MSB-first into bytes; a final partial byte is padded with zero bits.
    public func packedBytes() -> [UInt8] {
        let byteCount = (count + 7) >> 3
        return [UInt8](unsafeUninitializedCapacity: byteCount) { bytes, initialized in
            copyPackedBytes(into: UnsafeMutableRawBufferPointer(bytes))
            initialized = byteCount
        }
    }

    /// Writes the bits packed MSB-first into the first `(count + 7) / 8` bytes of `destination`.
    public func copyPackedBytes(into destination: UnsafeMutableRawBufferPointer) {
        let byteCount = (count + 7) >> 3
        precondition(destination.count >= byteCount, "destination too small")
        words.withUnsafeBufferPointer { source in
            var offset = 0
            for word in source {
                let bigEndian = word.bigEndian
                let take = min(8, byteCount - offset)
                withUnsafeBytes(of: bigEndian) { raw in
                    destination.baseAddress!.advanced(by: offset).copyMemory(from: raw.baseAddress!, byteCount: take)
                }
                offset += take
            }
        }
    }

    /// The number of one bits.
    public var nonzeroBitCount: Int {
        words.reduce(0) { $0 + $1.nonzeroBitCount }
    }

    private mutating func clearTail() {
        let used = count & 63
        if used != 0 { words[words.count - 1] &= ~(UInt64.max >> UInt64(used)) }
    }
}

extension BitBuffer: CustomStringConvertible {
    /// The bits as a string of `0` and `1`, abbreviated past 128 bits.
    public var description: String {
        let shown = (0..<min(count, 128)).map { self[$0] ? "1" : "0" }.joined()
        return count > 128 ? "\(shown)… (\(count) bits)" : shown
    }
}
