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
/// m − 1 − i, so y_i = Σ_j v[m − 1 − i + j]·x_j: coefficient n + m − 2 − i of the polynomial product V(z)·X̄(z),
/// with V(z) = Σ v_k·zᵏ and X̄ the input reversed. The input's MSB-first words taken in reverse order are
/// already X̄ (times zᵖᵃᵈ for the padding of the last word), so the outputs are the m middle coefficients of
/// one carry-less product, and the word-level middle product (``CarrylessMultiplier``) computes just those from
/// the input words as they are. The product's words in reverse order are the output bits in order: no bit
/// shuffling anywhere.
public struct ToeplitzExtractor: Extractor {
    /// n, the input block length in bits.
    public let inputBits: Int
    /// m, the output length per block in bits.
    public let outputBits: Int
    /// The multiplier in use.
    package let multiplier: CarrylessMultiplier

    /// V's words, least significant first, behind one zero word and padded with zeros to the length the middle
    /// product reads: the seed rearranged once.
    private let seedPolynomial: [UInt64]
    private let inputWords: Int
    /// Middle-product outputs per block: the product's anti-diagonals from word B − 1 up.
    private let diagonals: Int
    /// The bit offset of y_0 in the product words taken in reverse order.
    private let outputOffset: Int
    private var pending: BitBuffer
    private var scratch: HashScratch

    /// Creates an extractor for n-bit blocks and m-bit outputs.
    ///
    /// - Parameters:
    ///   - seed: At least n + m − 1 bits; bits past n + m − 1 are ignored.
    ///   - inputBits: n ≥ 1.
    ///   - outputBits: m, with 1 ≤ m ≤ n.
    ///
    /// The carry-less multiplier is the fastest this CPU supports; every kernel gives the same output.
    public init(seed: BitBuffer, inputBits: Int, outputBits: Int) throws(QRNGError) {
        try self.init(seed: seed, inputBits: inputBits, outputBits: outputBits, multiplier: .best)
    }

    /// An extractor on a chosen carry-less multiplier kernel, for benchmarks and the kernels' tests.
    package init(
        seed: BitBuffer, inputBits: Int, outputBits: Int, multiplier: CarrylessMultiplier
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

        // With a = z⁶⁴·V, word s of a·X̄·zᵖᵃᵈ is the low half of anti-diagonal s plus the high half of
        // anti-diagonal s − 1, and the outputs are its coefficients top + 64 − i, i < m.
        let words = (inputBits + 63) / 64
        let padding = 64 * words - inputBits
        let top = padding + inputBits + outputBits - 2
        let highestWord = (top + 64) / 64
        self.inputWords = words
        self.diagonals = highestWord - words + 2
        self.outputOffset = 64 * highestWord - 1 - top
        var polynomial = [UInt64](repeating: 0, count: max(diagonals + words - 1, (seedBits + 63) / 64 + 1))
        for k in 0..<seedBits where seed[k < outputBits ? outputBits - 1 - k : inputBits + 2 * outputBits - 2 - k] {
            polynomial[1 + (k >> 6)] |= 1 << UInt64(k & 63)
        }
        self.seedPolynomial = polynomial
        self.scratch = HashScratch(inputWords: words, diagonals: diagonals)
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
        let (words, n, diagonals) = (inputWords, inputBits, self.diagonals)
        scratch.withBuffers { input, sums, productWords, work in
            for index in 0..<words {
                input[index] = source.word(atBit: offset + 64 * index, width: min(64, n - 64 * index))
            }
            sums.update(repeating: 0)
            seedPolynomial.withUnsafeBufferPointer { seed in
                multiplier.middleProduct(seed, UnsafeBufferPointer(input), outputs: diagonals, into: sums, scratch: work)
            }
            // Product word B + t is the low word of diagonal t + 1 and the high word of diagonal t; they are
            // stored highest first, which puts the output bits in order.
            let count = diagonals - 1
            for t in 0..<count {
                productWords[count - 1 - t] = sums[2 * (t + 1)] ^ sums[2 * t + 1]
            }
            output.append(words: UnsafeBufferPointer(productWords), range: outputOffset..<outputOffset + outputBits)
        }
    }
}

/// Reusable buffers for hashing, owned by one extractor value; copying the extractor copies them lazily.
private struct HashScratch: Sendable {
    private var storage: [UInt64]
    private let inputWords: Int
    private let diagonals: Int

    init(inputWords: Int, diagonals: Int) {
        self.inputWords = inputWords
        self.diagonals = diagonals
        self.storage = [UInt64](
            repeating: 0,
            count: inputWords + 3 * diagonals
                + CarrylessMultiplier.scratchWords(outputs: diagonals, length: inputWords))
    }

    /// The block's words, the diagonal sums (two words each), the output words, and the multiplier's scratch.
    mutating func withBuffers(
        _ body: (
            UnsafeMutableBufferPointer<UInt64>, UnsafeMutableBufferPointer<UInt64>,
            UnsafeMutableBufferPointer<UInt64>, UnsafeMutableBufferPointer<UInt64>
        ) -> Void
    ) {
        let (inputWords, diagonals) = (self.inputWords, self.diagonals)
        storage.withUnsafeMutableBufferPointer { all in
            var start = 0
            func next(_ count: Int) -> UnsafeMutableBufferPointer<UInt64> {
                defer { start += count }
                return UnsafeMutableBufferPointer(rebasing: all[start..<start + count])
            }
            let input = next(inputWords)
            let sums = next(2 * diagonals)
            let product = next(diagonals - 1)
            body(input, sums, product, UnsafeMutableBufferPointer(rebasing: all[start...]))
        }
    }
}
/// The leftover hash lemma's output length for a 2-universal hash: m = ⌊n·h − 2·log2(1/ε)⌋.
///
/// - Parameters:
///   - n: The input block length in bits.
///   - h: The min-entropy per input bit, in (0, 1].
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
