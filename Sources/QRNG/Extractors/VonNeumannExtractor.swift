/// The von Neumann extractor (1951): reads bits in pairs and outputs the first bit of each unequal pair.
///
/// Pair `10` gives 1, `01` gives 0, `00` and `11` give nothing. For independent bits with a constant bias the
/// output is exactly unbiased, at the cost of rate: p(1 − p) output bits per input bit, at most a quarter.
/// It needs no seed, which is why qrng also uses it to draw the Toeplitz seed. ``PeresExtractor`` recovers most
/// of the rate it throws away.
public struct VonNeumannExtractor: Extractor {
    /// The first bit of a pair whose second bit has not arrived yet.
    private var pendingBit: Bool?

    public init() {}

    public var name: String { "von-neumann" }

    public mutating func extract(_ input: BitBuffer, into output: inout BitBuffer) {
        guard !input.isEmpty else { return }
        var position = 0
        if let first = pendingBit {
            if first != input[0] { output.append(first) }
            pendingBit = nil
            position = 1
        }
        let pairs = (input.count - position) / 2
        output.reserveCapacity(output.count + pairs / 2 + 64)
        var writer = BitWriter()
        PairTable.forEachByte(of: input, from: position, pairs: pairs) { entry, pairMask in
            let (bits, count) = entry.vonNeumann(pairMask)
            writer.write(bits, count: count, to: &output)
        }
        writer.flush(to: &output)
        position += 2 * pairs
        if position < input.count { pendingBit = input[position] }
    }

    public var bufferedInputBits: Int { pendingBit == nil ? 0 : 1 }

    public mutating func reset() { pendingBit = nil }
}

/// What the four bit pairs of one input byte give the von Neumann and Peres extractors.
struct PairTable {
    /// For each byte, packed: von Neumann bits (4) and count (3), the first bits of equal pairs (4) and count
    /// (3), and the XOR of every pair (4), each group most significant pair first.
    private static let entries: [UInt32] = (0..<256).map { byte in
        var vonNeumann: UInt32 = 0
        var vonNeumannCount: UInt32 = 0
        var equal: UInt32 = 0
        var equalCount: UInt32 = 0
        var xor: UInt32 = 0
        for pair in 0..<4 {
            let first = UInt32(byte >> (7 - 2 * pair)) & 1
            let second = UInt32(byte >> (6 - 2 * pair)) & 1
            xor = xor << 1 | (first ^ second)
            if first != second {
                vonNeumann = vonNeumann << 1 | first
                vonNeumannCount += 1
            } else {
                equal = equal << 1 | first
                equalCount += 1
            }
        }
        return vonNeumann | vonNeumannCount << 4 | equal << 8 | equalCount << 12 | xor << 16
    }

    struct Entry {
        let byte: UInt8
        let packed: UInt32

        /// The von Neumann output of the byte's pairs, right-aligned, and its length; only the first `pairs`
        /// pairs count when the byte is the last, partial one.
        @inline(__always)
        func vonNeumann(_ pairs: Int) -> (UInt64, Int) {
            pairs == 4 ? (UInt64(packed & 0xF), Int(packed >> 4 & 0x7)) : PairTable.slow(byte, pairs: pairs).vonNeumann
        }

        @inline(__always)
        func equalFirstBits(_ pairs: Int) -> (UInt64, Int) {
            pairs == 4 ? (UInt64(packed >> 8 & 0xF), Int(packed >> 12 & 0x7)) : PairTable.slow(byte, pairs: pairs).equal
        }

        @inline(__always)
        func xorBits(_ pairs: Int) -> (UInt64, Int) {
            pairs == 4 ? (UInt64(packed >> 16 & 0xF), 4) : PairTable.slow(byte, pairs: pairs).xor
        }
    }

    /// The three outputs for the first `pairs` (< 4) pairs of a byte.
    static func slow(_ byte: UInt8, pairs: Int) -> (vonNeumann: (UInt64, Int), equal: (UInt64, Int), xor: (UInt64, Int)) {
        var vonNeumann: (UInt64, Int) = (0, 0)
        var equal: (UInt64, Int) = (0, 0)
        var xor: UInt64 = 0
        for pair in 0..<pairs {
            let first = UInt64(byte >> (7 - 2 * pair)) & 1
            let second = UInt64(byte >> (6 - 2 * pair)) & 1
            xor = xor << 1 | (first ^ second)
            if first != second {
                vonNeumann = (vonNeumann.0 << 1 | first, vonNeumann.1 + 1)
            } else {
                equal = (equal.0 << 1 | first, equal.1 + 1)
            }
        }
        return (vonNeumann, equal, (xor, pairs))
    }

    /// Calls `body` for each byte's worth (four pairs) of the `pairs` bit pairs starting at bit `start`, with the
    /// number of pairs that count in it (4, or fewer for the last).
    @inline(__always)
    static func forEachByte(
        of input: BitBuffer, from start: Int, pairs: Int, _ body: (Entry, Int) -> Void
    ) {
        entries.withUnsafeBufferPointer { table in
            var pair = 0
            while pair < pairs {
                let width = min(64, 2 * (pairs - pair))
                let chunk = input.word(atBit: start + 2 * pair, width: width)
                var taken = 0
                while taken < width {
                    let byte = UInt8(truncatingIfNeeded: chunk >> UInt64(56 - taken))
                    let counted = min(4, (width - taken) / 2)
                    body(Entry(byte: byte, packed: table[Int(byte)]), counted)
                    taken += 8
                }
                pair += width / 2
            }
        }
    }
}
