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
/// Row i of T, read along j, is a window of v = reverse(s[0..<m]) ++ reverse(s[m..<n+m−1]) starting at
/// m − 1 − i, so y_i = Σ_j v[m − 1 − i + j]·x_j, which is coefficient n + m − 2 − i of the polynomial product
/// V(z)·X̄(z), with V(z) = Σ v_k·zᵏ and X̄ the input reversed. The input's MSB-first words, taken in reverse
/// order, are already X̄ (times a power of z for the padding), and the product's words in reverse order are
/// the output bits in order; so each block costs one carry-less product (``CarrylessMultiplier``, PCLMULQDQ
/// with Karatsuba where the CPU has it) and no bit shuffling.
public struct ToeplitzExtractor: Extractor {
    /// n, the input block length in bits.
    public let inputBits: Int
    /// m, the output length per block in bits.
    public let outputBits: Int
    /// The multiplier in use.
    public let multiplier: CarrylessMultiplier

    /// V's words, least significant first: the seed rearranged once.
    private let seedPolynomial: [UInt64]
    private let inputWords: Int
    /// The bit offset of y_0 in the product's words taken in reverse order.
    private let outputOffset: Int
    private var pending: BitBuffer
    private var scratch: HashScratch

    /// Creates an extractor for n-bit blocks and m-bit outputs.
    ///
    /// - Parameters:
    ///   - seed: At least n + m − 1 bits; bits past n + m − 1 are ignored.
    ///   - inputBits: n ≥ 1.
    ///   - outputBits: m, with 1 ≤ m ≤ n.
    ///   - multiplier: The carry-less multiplier; the fastest this CPU supports by default. All give the same
    ///     output.
    public init(
        seed: BitBuffer, inputBits: Int, outputBits: Int, multiplier: CarrylessMultiplier = .best
    ) throws(QRNGError) {
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
        self.multiplier = multiplier
        self.pending = BitBuffer(minimumCapacity: inputBits)

        var polynomial = [UInt64](repeating: 0, count: (seedBits + 63) / 64)
        for k in 0..<seedBits where seed[k < outputBits ? outputBits - 1 - k : inputBits + 2 * outputBits - 2 - k] {
            polynomial[k >> 6] |= 1 << UInt64(k & 63)
        }
        self.seedPolynomial = polynomial
        self.inputWords = (inputBits + 63) / 64
        let padding = 64 * inputWords - inputBits
        let productWords = polynomial.count + inputWords
        self.outputOffset = 64 * productWords - 1 - (inputBits + outputBits - 2 + padding)
        self.scratch = HashScratch(seedWords: polynomial.count, inputWords: inputWords)
    }

    public var name: String { "toeplitz(\(inputBits)→\(outputBits))" }

    public mutating func extract(_ input: BitBuffer, into output: inout BitBuffer) {
        var position = 0
        if !pending.isEmpty {
            let needed = min(inputBits - pending.count, input.count)
            pending.append(contentsOf: input, range: 0..<needed)
            position = needed
            guard pending.count == inputBits else { return }
            hashBlock(of: pending, at: 0, into: &output)
            pending.removeAll(keepingCapacity: true)
        }
        while input.count - position >= inputBits {
            hashBlock(of: input, at: position, into: &output)
            position += inputBits
        }
        if position < input.count { pending.append(contentsOf: input, range: position..<input.count) }
    }

    /// Hashes one block of exactly n bits to m bits.
    public func hash(_ block: BitBuffer) -> BitBuffer {
        precondition(block.count == inputBits, "a Toeplitz block must have exactly n bits")
        var copy = self
        var result = BitBuffer(minimumCapacity: outputBits)
        copy.hashBlock(of: block, at: 0, into: &result)
        return result
    }

    public var bufferedInputBits: Int { pending.count }

    public mutating func reset() {
        pending.removeAll(keepingCapacity: true)
    }

    private mutating func hashBlock(of source: BitBuffer, at offset: Int, into output: inout BitBuffer) {
        let words = inputWords
        let n = inputBits
        scratch.withBuffers { reversedInput, product, work in
            // X̄'s words: the block's MSB-first words in reverse order, the final partial word zero-padded.
            for index in 0..<words {
                let width = min(64, n - 64 * index)
                reversedInput[words - 1 - index] = source.word(atBit: offset + 64 * index, width: width)
            }
            seedPolynomial.withUnsafeBufferPointer { seed in
                multiplier.multiply(seed, UnsafeBufferPointer(reversedInput), into: product, scratch: work)
            }
            var outputOrder = product  // the same memory, reversed in place: the output bits in order
            outputOrder.reverse()
            output.append(words: UnsafeBufferPointer(outputOrder), range: outputOffset..<outputOffset + outputBits)
        }
    }
}

/// Reusable buffers for hashing, owned by one extractor value; copying the extractor copies them lazily.
private struct HashScratch: Sendable {
    private var storage: [UInt64]
    private let inputWords: Int
    private let productWords: Int

    init(seedWords: Int, inputWords: Int) {
        self.inputWords = inputWords
        self.productWords = seedWords + inputWords
        self.storage = [UInt64](
            repeating: 0,
            count: inputWords + productWords + CarrylessMultiplier.scratchWords(seedWords, inputWords))
    }

    mutating func withBuffers(
        _ body: (
            UnsafeMutableBufferPointer<UInt64>, UnsafeMutableBufferPointer<UInt64>, UnsafeMutableBufferPointer<UInt64>
        ) -> Void
    ) {
        let (inputWords, productWords) = (self.inputWords, self.productWords)
        storage.withUnsafeMutableBufferPointer { all in
            let input = UnsafeMutableBufferPointer(rebasing: all[0..<inputWords])
            let product = UnsafeMutableBufferPointer(rebasing: all[inputWords..<inputWords + productWords])
            let work = UnsafeMutableBufferPointer(rebasing: all[(inputWords + productWords)...])
            body(input, product, work)
        }
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
