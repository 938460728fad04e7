#if canImport(Glibc)
import Glibc
#endif
import QRNG

/// SP 800-90B §6.3.2, the Collision estimate, for binary sequences only.
///
/// The sequence is cut into runs that end at the first repeated value: two bits when the first two are equal,
/// three otherwise (a final pair that is unequal, with no third bit, is dropped). X̄ is the mean run length and
/// σ̂ its standard deviation; X̄' = X̄ − z·σ̂/√v.
///
/// Where the standard and the tool differ, qrng follows the tool:
/// - The standard solves X̄' = p·q⁻²·(1 + (p⁻¹ − q⁻¹)/2)·F(q) − p·q⁻¹·(p⁻¹ − q⁻¹)/2 for p by a binary search.
///   For two symbols that expression reduces to X̄' = 2 + 2p − 2p², so the tool solves the quadratic in closed
///   form, p = 1/2 + √(5/4 − X̄'/2), which is the exact root the search approximates.
/// - X̄' below 2 (only possible for degenerate data) is raised to 2, where p = 1 and H = 0.
/// - When X̄' ≥ 2.5 there is no root above 1/2 and the estimate is 1 (the standard's "p = 1/k").
/// - Like the tool, qrng runs it only on binary data (the bit string, or samples with two distinct values).
func collisionEstimate(_ s: UnsafeBufferPointer<UInt8>) -> Estimate {
    var i = 0
    var v = 0
    var sumOfSquares = 0.0
    let length = s.count
    while i < length - 1 {
        let t: Int
        if s[i] == s[i + 1] {
            t = 2
        } else if i < length - 2 {
            t = 3
        } else {
            break
        }
        v += 1
        sumOfSquares += Double(t * t)
        i += t
    }
    guard v >= 2 else { return Estimate(.collision, nil) }
    let mean = Double(i) / Double(v)
    let sigma = ((sumOfSquares - Double(i) * mean) / Double(v - 1)).squareRoot()
    let bound = max(2.0, mean - AssessmentMath.zAlpha * sigma / Double(v).squareRoot())
    let p: Double
    let entropy: Double
    if bound < 2.5 {
        p = 0.5 + (1.25 - 0.5 * bound).squareRoot()
        entropy = -log2(p)
    } else {
        p = 0.5
        entropy = 1.0
    }
    return Estimate(
        .collision, entropy, [("v", Double(v)), ("X-bar", mean), ("sigma-hat", sigma), ("X-bar'", bound), ("p", p)])
}
