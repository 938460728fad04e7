#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import QRNG

/// SP 800-22 §2.11 and §2.12: the frequencies of all overlapping m-bit patterns, read cyclically.
extension SP80022 {
    /// The serial test, §2.11: ψ²_m = (2^m/n) Σ ν² − n over the n cyclic m-bit patterns; ∇ψ²_m = ψ²_m − ψ²_{m−1},
    /// ∇²ψ²_m = ψ²_m − 2ψ²_{m−1} + ψ²_{m−2} (ψ²₀ = ψ²₋₁ = 0); P₁ = igamc(2^(m−2), ∇ψ²_m/2),
    /// P₂ = igamc(2^(m−3), ∇²ψ²_m/2).
    public static func serial(_ bits: BitBuffer, blockLength: Int = 16) -> TestResult {
        let counts = CyclicPatternCounts(bits, width: blockLength)
        return serial(counts, blockLength: blockLength)
    }

    /// The approximate entropy test, §2.12: φ^(m) = Σ πᵢ ln πᵢ over the cyclic m-bit patterns,
    /// ApEn(m) = φ^(m) − φ^(m+1), χ² = 2n(ln 2 − ApEn(m)), P = igamc(2^(m−1), χ²/2).
    public static func approximateEntropy(_ bits: BitBuffer, blockLength: Int = 10) -> TestResult {
        let counts = CyclicPatternCounts(bits, width: blockLength + 1)
        return approximateEntropy(counts, blockLength: blockLength)
    }

    static func serial(_ counts: CyclicPatternCounts, blockLength m: Int) -> TestResult {
        let n = counts.length
        guard n > 0 else { return .notApplicable(.serial, "the sequence is empty") }
        func psiSquare(_ width: Int) -> Double {
            guard width >= 1 else { return 0 }
            return exp2(Double(width)) / Double(n) * counts.sumOfSquares(width: width) - Double(n)
        }
        let psi = (psiSquare(m), psiSquare(m - 1), psiSquare(m - 2))
        let first = psi.0 - psi.1
        let second = psi.0 - 2 * psi.1 + psi.2
        return TestResult(test: .serial, subtests: [
            SubtestResult(name: "∇ψ²", statistic: first,
                          pValue: SpecialFunctions.igamc(exp2(Double(m - 2)), first / 2)),
            SubtestResult(name: "∇²ψ²", statistic: second,
                          pValue: SpecialFunctions.igamc(exp2(Double(m - 3)), second / 2)),
        ])
    }

    static func approximateEntropy(_ counts: CyclicPatternCounts, blockLength m: Int) -> TestResult {
        let n = counts.length
        guard n > 0 else { return .notApplicable(.approximateEntropy, "the sequence is empty") }
        let apEn = counts.phi(width: m) - counts.phi(width: m + 1)
        let chiSquare = 2 * Double(n) * (log(2) - apEn)
        return TestResult(test: .approximateEntropy, subtests: [
            SubtestResult(statistic: chiSquare, pValue: SpecialFunctions.igamc(exp2(Double(m - 1)), chiSquare / 2)),
        ])
    }
}

/// How often each w-bit pattern occurs at the n positions of a sequence read cyclically (the sequence
/// followed by its own first w − 1 bits), for w up to `width`.
///
/// The counts for a narrower width follow from the widest by summing over the last bit, because every cyclic
/// position starts exactly one pattern of each width. So one pass over the sequence serves the serial test
/// (m, m − 1, m − 2) and the approximate entropy test (m, m + 1) together.
struct CyclicPatternCounts {
    let length: Int
    let width: Int
    /// counts[w] holds the 2^w counts of width w, for w = 0…width (counts[0] = [n]).
    private var counts: [[UInt32]]

    init(_ bits: BitBuffer, width: Int) {
        self.init(PackedBits(cyclicallyExtending: bits, by: min(max(width - 1, 0), bits.count)), length: bits.count,
                  width: width)
    }

    /// Counts from `extended`, a sequence of `length` bits followed by its first `width − 1` bits.
    init(_ extended: PackedBits, length: Int, width: Int) {
        precondition(width >= 1 && width <= 28, "pattern widths are 1…28")
        self.length = length
        self.width = width
        var widest = [UInt32](repeating: 0, count: 1 << width)
        if length >= width {
            extended.withWords { words in
                widest.withUnsafeMutableBufferPointer { histogram in
                    NonOverlappingTemplateTest.tallyWindows(words, from: 0, to: length + width - 1, width: width,
                                                            into: histogram.baseAddress!)
                }
            }
        } else {
            // Shorter than a pattern: wrap around more than once, bit by bit.
            for start in 0..<length {
                var value = 0
                for j in 0..<width {
                    value = (value << 1) | (extended.withWords { $0.bit(at: (start + j) % length) })
                }
                widest[value] += 1
            }
        }
        var counts = [[UInt32]](repeating: [], count: width + 1)
        counts[width] = widest
        for w in stride(from: width - 1, through: 0, by: -1) {
            let wider = counts[w + 1]
            counts[w] = (0..<1 << w).map { wider[2 * $0] + wider[2 * $0 + 1] }
        }
        self.counts = counts
    }

    /// Σ ν² over the patterns of width w, exact in integers.
    func sumOfSquares(width w: Int) -> Double {
        Double(counts[w].reduce(0) { $0 + Int($1) * Int($1) })
    }

    /// φ^(w) = Σ (ν/n) ln(ν/n) over the patterns of width w that occur; φ^(0) = 0.
    func phi(width w: Int) -> Double {
        guard w >= 1 else { return 0 }
        let n = Double(length)
        var sum = 0.0
        for count in counts[w] where count > 0 {
            let c = Double(count)
            sum += c * log(c / n)
        }
        return sum / n
    }
}
