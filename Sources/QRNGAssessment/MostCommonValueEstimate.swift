#if canImport(Glibc)
import Glibc
#endif
import QRNG

/// SP 800-90B §6.3.1, the Most Common Value estimate: p̂ = (count of the mode) / L, p_u its 99% upper bound
/// min(1, p̂ + z·√(p̂(1 − p̂)/(L − 1))), and H = −log2(p_u).
func mostCommonValueEstimate<Symbol: FixedWidthInteger & UnsignedInteger>(
    _ s: UnsafeBufferPointer<Symbol>, alphabetSize k: Int
) -> Estimate {
    var counts = [Int](repeating: 0, count: k)
    counts.withUnsafeMutableBufferPointer { counts in
        for symbol in s { counts[Int(symbol)] += 1 }
    }
    let mode = counts.max() ?? 0
    let pHat = Double(mode) / Double(s.count)
    let pU = AssessmentMath.upperBound(pHat, count: s.count)
    return Estimate(.mostCommonValue, -log2(pU), [("mode", Double(mode)), ("p-hat", pHat), ("p_u", pU)])
}
