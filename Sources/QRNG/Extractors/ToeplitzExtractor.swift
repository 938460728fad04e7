/// Toeplitz hashing over GF(2): a 2-universal family, and so by the leftover hash lemma a strong seeded extractor.
///
/// An n-bit input block x becomes an m-bit output y = T·x, where T is the m × n Toeplitz matrix built from a
/// seed s of n + m − 1 bits: T[i][j] = s[i − j] when i ≥ j and s[n + m − 1 − (j − i)] when i < j. This is the
/// convention of the extractor library cryptomite 0.3.0, so results can be checked against it.
///
/// The seed is public in the sense of a strong extractor: it need not be secret and is reused for every block,
/// but it must be independent of the input and is never written to the output.
///
/// ## How it is computed
/// Row i of T, read over j, is a window of n consecutive bits of v = reverse(s[0..<m]) ++ reverse(s[m..<n+m−1])
/// starting at offset m − 1 − i. The extractor keeps the 64 bit-shifts of v, so every window starts on a word
/// boundary and y_i is the parity of n/64 word-wise ANDs.
public struct ToeplitzExtractor: Extractor {
    /// n, the input block length in bits.
    public let inputBits: Int
    /// m, the output length per block in bits.
    public let outputBits: Int

    /// The 64 shifts of v: `shiftedRows[r]` word w holds bits v[64w + r ..< 64w + r + 64].
    private let shiftedRows: [[UInt64]]
    private var pending: BitBuffer

    /// Creates an extractor for n-bit blocks and m-bit outputs.
    ///
    /// - Parameters:
    ///   - seed: At least n + m − 1 bits; bits past n + m − 1 are ignored.
    ///   - inputBits: n ≥ 1.
    ///   - outputBits: m, with 1 ≤ m ≤ n.
    public init(seed: BitBuffer, inputBits: Int, outputBits: Int) throws(QRNGError) {
        guard inputBits >= 1 else {
            throw .invalidArgument("block bits", "the input block n must be at least 1 bit, got \(inputBits)")
        }
        guard outputBits >= 1 && outputBits <= inputBits else {
            throw .invalidArgument(
                "output bits", "the output length m must be in 1...n = 1...\(inputBits), got \(outputBits)")
        }
        let seedBits = inputBits + outputBits - 1
        guard seed.count >= seedBits else {
            throw .invalidArgument(
                "seed",
                "a Toeplitz seed for n = \(inputBits), m = \(outputBits) needs n + m − 1 = \(seedBits) bits, "
                    + "got \(seed.count)")
        }
        self.inputBits = inputBits
        self.outputBits = outputBits
        self.pending = BitBuffer(minimumCapacity: inputBits)

        var v = BitBuffer(minimumCapacity: seedBits + 64)
        for index in stride(from: outputBits - 1, through: 0, by: -1) { v.append(seed[index]) }
        for index in stride(from: seedBits - 1, through: outputBits, by: -1) { v.append(seed[index]) }
        let wordsPerRow = (seedBits + 63) / 64 + 1
        v.append(contentsOf: BitBuffer(zeros: wordsPerRow * 64 - v.count + 64))
        self.shiftedRows = (0..<64).map { shift in
            (0..<wordsPerRow).map { word in v.word(atBit: word * 64 + shift) }
        }
    }

    public var name: String { "toeplitz(\(inputBits)→\(outputBits))" }

    public mutating func extract(_ input: BitBuffer, into output: inout BitBuffer) {
        var position = 0
        if !pending.isEmpty {
            let needed = min(inputBits - pending.count, input.count)
            pending.append(contentsOf: input, range: 0..<needed)
            position = needed
            guard pending.count == inputBits else { return }
            output.append(contentsOf: hash(pending))
            pending.removeAll(keepingCapacity: true)
        }
        while input.count - position >= inputBits {
            output.append(contentsOf: hash(input.extracting(position..<position + inputBits)))
            position += inputBits
        }
        if position < input.count { pending.append(contentsOf: input, range: position..<input.count) }
    }

    /// Hashes one block of exactly n bits to m bits.
    public func hash(_ block: BitBuffer) -> BitBuffer {
        precondition(block.count == inputBits, "a Toeplitz block must have exactly n bits")
        var result = BitBuffer(minimumCapacity: outputBits)
        let inputWords = block.words.count
        block.words.withUnsafeBufferPointer { x in
            var accumulator: UInt64 = 0
            var filled = 0
            for row in 0..<outputBits {
                let offset = outputBits - 1 - row
                let start = offset >> 6
                var parity: UInt64 = 0
                shiftedRows[offset & 63].withUnsafeBufferPointer { window in
                    for word in 0..<inputWords { parity ^= window[start + word] & x[word] }
                }
                accumulator |= UInt64(parity.nonzeroBitCount & 1) << UInt64(63 - filled)
                filled += 1
                if filled == 64 {
                    result.appendLeftAligned(accumulator, width: 64)
                    accumulator = 0
                    filled = 0
                }
            }
            if filled > 0 { result.appendLeftAligned(accumulator, width: filled) }
        }
        return result
    }

    public mutating func reset() {
        pending.removeAll(keepingCapacity: true)
    }
}

/// The leftover hash lemma's output length for a 2-universal hash: m = ⌊n·h − 2·log2(1/ε)⌋.
///
/// - Parameters:
///   - inputBits: n, the input block length.
///   - minEntropyPerBit: h, the min-entropy per input bit, in (0, 1].
///   - epsilon: ε, the allowed statistical distance of the output from uniform.
/// - Throws: ``QRNGError/Code/invalidArgument`` when h is out of range or the result is not positive.
public func leftoverHashOutputLength(
    inputBits n: Int, minEntropyPerBit h: Double, epsilon: ErrorProbability = .defaultEpsilon
) throws(QRNGError) -> Int {
    guard h.isFinite && h > 0 && h <= 1 else {
        throw .invalidArgument("min-entropy", "h must be in (0, 1] bits per input bit, got \(h)")
    }
    let m = (Double(n) * h - 2 * epsilon.negativeLog2).rounded(.down)
    guard m > 0 else {
        throw .invalidArgument(
            "block bits",
            "no output: n·h − 2·log2(1/ε) = \(n)·\(h) − \(2 * epsilon.negativeLog2) ≤ 0; use a larger block "
                + "(n > \(Int((2 * epsilon.negativeLog2 / h).rounded(.up)))) or a larger ε")
    }
    return min(Int(m), n)
}
