#if canImport(Glibc)
import Glibc
#endif
import QRNG

/// SP 800-90B §6.3.3, the Markov estimate, for binary sequences only.
///
/// A first-order Markov model is fitted (P0, P1 from the whole sequence; the transition probabilities from the
/// first L − 1 bits), and p̂_max is the largest probability of a 128-bit sequence, found among the six candidates
/// the standard lists (all 0, 0101…, 011…1, 100…0, 1010…, all 1). H = min(−log2(p̂_max)/128, 1). A candidate whose
/// transition was never observed has probability 0 and is skipped, as in the tool.
func markovEstimate(_ s: UnsafeBufferPointer<UInt8>) -> Estimate {
    let length = s.count
    guard length > 1 else { return Estimate(.markov, nil) }
    var c0 = 0
    var c00 = 0
    var c10 = 0
    for i in 0..<(length - 1) {
        if s[i] == 0 {
            c0 += 1
            if s[i + 1] == 0 { c00 += 1 }
        } else if s[i + 1] == 0 {
            c10 += 1
        }
    }
    let c1 = length - 1 - c0
    let p00 = c0 > 0 ? Double(c00) / Double(c0) : 0
    let p01 = c0 > 0 ? 1.0 - p00 : 0
    let p10 = c1 > 0 ? Double(c10) / Double(c1) : 0
    let p11 = c1 > 0 ? 1.0 - p10 : 0
    if s[length - 1] == 0 { c0 += 1 }
    let p0 = Double(c0) / Double(length)
    let p1 = 1.0 - p0

    var hMin = 128.0
    if p00 > 0 { hMin = min(hMin, -log2(p0) - 127 * log2(p00)) }
    if p01 > 0 && p10 > 0 { hMin = min(hMin, -log2(p0) - 64 * log2(p01) - 63 * log2(p10)) }
    if p01 > 0 && p11 > 0 { hMin = min(hMin, -log2(p0) - log2(p01) - 126 * log2(p11)) }
    if p10 > 0 && p00 > 0 { hMin = min(hMin, -log2(p1) - log2(p10) - 126 * log2(p00)) }
    if p10 > 0 && p01 > 0 { hMin = min(hMin, -log2(p1) - 64 * log2(p10) - 63 * log2(p01)) }
    if p11 > 0 { hMin = min(hMin, -log2(p1) - 127 * log2(p11)) }
    return Estimate(.markov, min(hMin / 128, 1.0), [
        ("P_0", p0), ("P_1", p1), ("P_0,0", p00), ("P_0,1", p01), ("P_1,0", p10), ("P_1,1", p11),
        ("p-hat_max", pow(2.0, -hMin)),
    ])
}
