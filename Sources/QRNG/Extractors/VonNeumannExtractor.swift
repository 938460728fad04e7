/// The von Neumann extractor (1951): reads bits in pairs and outputs the first bit of each unequal pair.
///
/// Pair `10` gives 1, `01` gives 0, `00` and `11` give nothing. For independent bits with a constant bias the
/// output is exactly unbiased, at the cost of rate: at most a quarter of the input for unbiased bits, p(1 − p)
/// per input bit in general. It needs no seed, which is why qrng also uses it to draw the Toeplitz seed.
public struct VonNeumannExtractor: Extractor {
    /// The first bit of a pair whose second bit has not arrived yet.
    private var pendingBit: Bool?

    public init() {}

    public var name: String { "von-neumann" }

    public mutating func extract(_ input: BitBuffer, into output: inout BitBuffer) {
        guard !input.isEmpty else { return }
        var position = 0
        if let first = pendingBit {
            let second = input[0]
            if first != second { output.append(first) }
            pendingBit = nil
            position = 1
        }
        output.reserveCapacity(output.count + (input.count - position) / 4 + 64)
        var accumulator: UInt64 = 0
        var filled = 0
        while input.count - position >= 2 {
            let width = min(64, (input.count - position) & ~1)
            let chunk = input.word(atBit: position, width: width)
            // Eight bits, four pairs, at a time through the table; bits past `width` are zero pairs.
            for byteIndex in 0..<((width + 7) >> 3) {
                let byte = Int(truncatingIfNeeded: chunk >> UInt64(56 - 8 * byteIndex)) & 0xFF
                let entry = vonNeumannTable[byte]
                let outCount = Int(entry >> 4)
                guard outCount > 0 else { continue }
                let bits = UInt64(entry & 0xF) >> UInt64(4 - outCount)
                if filled + outCount <= 64 {
                    accumulator |= bits << UInt64(64 - filled - outCount)
                    filled += outCount
                } else {
                    let fits = 64 - filled
                    accumulator |= bits >> UInt64(outCount - fits)
                    output.appendLeftAligned(accumulator, width: 64)
                    accumulator = bits << UInt64(64 - (outCount - fits))
                    filled = outCount - fits
                }
                if filled == 64 {
                    output.appendLeftAligned(accumulator, width: 64)
                    accumulator = 0
                    filled = 0
                }
            }
            position += width
        }
        if filled > 0 { output.appendLeftAligned(accumulator, width: filled) }
        if position < input.count { pendingBit = input[position] }
    }

    public mutating func reset() { pendingBit = nil }
}

/// For each byte (four pairs, most significant first): the output count in the high nibble and the output bits
/// left-aligned in the low nibble.
private let vonNeumannTable: [UInt8] = (0..<256).map { byte in
    var bits: UInt8 = 0
    var count: UInt8 = 0
    for pair in 0..<4 {
        let first = (byte >> (7 - 2 * pair)) & 1
        let second = (byte >> (6 - 2 * pair)) & 1
        if first != second {
            bits |= UInt8(first) << (3 - count)
            count += 1
        }
    }
    return count << 4 | bits
}
