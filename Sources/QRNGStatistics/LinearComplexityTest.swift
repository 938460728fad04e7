#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import QRNG

/// SP 800-22 §2.10: the linear complexity of M-bit blocks, by the Berlekamp–Massey algorithm.
extension SP80022 {
    /// The linear complexity test, §2.10: for each of the N = ⌊n/M⌋ blocks its linear complexity Lᵢ,
    /// Tᵢ = (−1)^M (Lᵢ − μ) + 2/9 with μ = M/2 + (9 + (−1)^(M+1))/36 − (M/3 + 2/9)/2^M, seven classes,
    /// χ² against π = (0.010417, 0.03125, 0.125, 0.5, 0.25, 0.0625, 0.020833), P = igamc(3, χ²/2).
    public static func linearComplexity(_ bits: BitBuffer, blockLength: Int = 500,
                                        constants: ReferenceConstants = .specification) -> TestResult {
        linearComplexity(PackedBits(bits), blockLength: blockLength, constants: constants)
    }

    static func linearComplexity(_ bits: PackedBits, blockLength m: Int, constants: ReferenceConstants) -> TestResult {
        let blockCount = bits.count / m
        guard blockCount > 0 else {
            return .notApplicable(.linearComplexity, "n = \(bits.count) is shorter than one block of M = \(m) bits")
        }
        // §2.10.4 step 6; NIST STS's linearComplexity.c has 0.01047 for π₀.
        let probabilities = [constants == .nistSTS ? 0.01047 : 0.010417, 0.03125, 0.125, 0.5, 0.25, 0.0625, 0.020833]
        let sign = m % 2 == 0 ? 1.0 : -1.0  // (−1)^M
        let mean = Double(m) / 2 + (9 - sign) / 36 - (Double(m) / 3 + 2.0 / 9) / exp2(Double(m))
        var counts = [Int](repeating: 0, count: 7)
        var solver = BerlekampMassey(maximumLength: m)
        bits.withWords { words in
            for block in 0..<blockCount {
                let complexity = solver.linearComplexity(words, from: block * m, count: m)
                let t = sign * (Double(complexity) - mean) + 2.0 / 9
                // Classes T ≤ −2.5, (−2.5, −1.5], …, (1.5, 2.5], T > 2.5.
                let index = [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5].firstIndex { t <= $0 } ?? 6
                counts[index] += 1
            }
        }
        let chiSquare = chiSquare(counts, probabilities: probabilities, total: blockCount)
        return TestResult(test: .linearComplexity, subtests: [
            SubtestResult(statistic: chiSquare, pValue: SpecialFunctions.igamc(3, chiSquare / 2)),
        ])
    }
}

/// The Berlekamp–Massey algorithm over GF(2) on bit-packed polynomials.
///
/// The connection polynomial C and the previous one B are little-endian bit arrays (coefficient i in bit i).
/// The discrepancy d = Σ_{i≤L} cᵢ·s_{N−i} needs the sequence backwards from s_N; 64 of those bits, s_{N−64w−63}
/// … s_{N−64w}, are exactly the 64-bit window of the packed sequence that ends at N − 64w read as an integer
/// (its last bit least significant), so d is the parity of ANDs of C with windows read in place. C has degree
/// at most L and B at most the L it had when it was saved, which bounds every loop: about M²/64 word
/// operations for an M-bit block instead of M² bit operations.
struct BerlekampMassey {
    private var connection: [UInt64]
    private var previous: [UInt64]
    private var saved: [UInt64]

    init(maximumLength: Int) {
        connection = [UInt64](repeating: 0, count: maximumLength / 64 + 3)
        previous = connection
        saved = connection
    }

    /// The linear complexity of the `count` bits starting at bit `start` of `words`.
    mutating func linearComplexity(_ words: UnsafePointer<UInt64>, from start: Int, count: Int) -> Int {
        for index in connection.indices {
            connection[index] = 0
            previous[index] = 0
        }
        connection[0] = 1
        previous[0] = 1
        return connection.withUnsafeMutableBufferPointer { c in
            previous.withUnsafeMutableBufferPointer { b in
                saved.withUnsafeMutableBufferPointer { t in
                    var complexity = 0
                    var previousComplexity = 0
                    var lastChange = -1
                    for step in 0..<count {
                        var sum: UInt64 = 0
                        for w in 0...(complexity >> 6) {
                            let end = step - 64 * w
                            let window: UInt64
                            if end >= 63 {
                                window = words.word(at: start + end - 63)
                            } else if end >= 0 {
                                window = words.bits(at: start, width: end + 1)
                            } else {
                                window = 0
                            }
                            sum ^= c[w] & window
                        }
                        guard sum.nonzeroBitCount & 1 == 1 else { continue }
                        let lengthens = complexity <= step / 2
                        if lengthens {
                            for w in 0...(complexity >> 6) { t[w] = c[w] }
                        }
                        // C ← C + x^(step − lastChange)·B.
                        let shift = step - lastChange
                        let wordShift = shift >> 6
                        let bitShift = UInt64(shift & 63)
                        for w in 0...(previousComplexity >> 6) {
                            let word = b[w]
                            c[w + wordShift] ^= word << bitShift
                            if bitShift != 0 { c[w + wordShift + 1] ^= word >> (64 - bitShift) }
                        }
                        if lengthens {
                            for w in 0...(previousComplexity >> 6) { b[w] = 0 }
                            for w in 0...(complexity >> 6) { b[w] = t[w] }
                            previousComplexity = complexity
                            complexity = step + 1 - complexity
                            lastChange = step
                        }
                    }
                    return complexity
                }
            }
        }
    }
}
