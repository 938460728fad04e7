import QRNG

/// SP 800-90B §6.3.5 (t-tuple) and §6.3.6 (longest repeated substring, LRS), computed together from one LCP array.
///
/// For each length t, Q[t] is the count of the most common t-tuple (overlapping tuples, L − t + 1 of them) and
/// S[t] = Σ over distinct t-tuples of C(count, 2), the number of pairs of equal t-tuples. In suffix order every
/// t-tuple's occurrences are a run of neighbours whose LCPs are all ≥ t, so one pass over the LCP array with a
/// stack of smaller values gives both: every interval of LCP values with minimum m is a pair of suffixes sharing
/// exactly m symbols, and every maximal run of values ≥ m is a group of equal m-tuples.
///
/// - t-tuple: t is the largest length with Q[t] ≥ 35 (the tool stops at the first t with Q[t] < 35, the same since
///   Q only decreases); p̂_max = max over 1 ≤ i ≤ t of (Q[i]/(L − i + 1))^{1/i}; no estimate when no symbol occurs
///   35 times.
/// - LRS: u = t + 1 (the tool's u, the first length whose most common tuple occurs fewer than 35 times) and v the
///   length of the longest repeated substring; P_W = S[W]/C(L − W + 1, 2) and p̂ = max over u ≤ W ≤ v of P_W^{1/W};
///   no estimate when v < u.
/// - Both: p_u = min(1, p̂ + z·√(p̂(1 − p̂)/(L − 1))), H = −log2(p_u), in `long double` as the tool computes it.
func tupleEstimates<Symbol: FixedWidthInteger & UnsignedInteger>(
    _ s: UnsafeBufferPointer<Symbol>, alphabetSize k: Int, cutoff: Int = 35
) -> (tTuple: Estimate, lrs: Estimate) {
    let n = s.count
    guard n >= 2 else { return (Estimate(.tTuple, nil), Estimate(.longestRepeatedSubstring, nil)) }
    let lcp = SuffixSorting.lcpArray(s, alphabetSize: k)
    let counts = RepeatCounts(lcp: lcp)
    let v = counts.longestRepeat
    let q = counts.mostCommon
    let pairs = counts.equalPairs

    var u = 1
    while u <= v && q[u] >= cutoff { u += 1 }

    let tTuple: Estimate
    if u > 1 {
        var pMax: Extended = -1
        for i in 1..<u {
            let p = extendedPow(Extended(q[i]) / Extended(n - i + 1), 1 / Extended(i))
            if p > pMax { pMax = p }
        }
        let pU = min(1, pMax + AssessmentMath.zAlphaExtended * extendedSqrt(pMax * (1 - pMax) / Extended(n - 1)))
        let details = [("t", Double(u - 1)), ("p-hat_max", Double(pMax)), ("p_u", Double(pU))]
        tTuple = Estimate(.tTuple, Double(-extendedLog2(pU)), details)
    } else {
        tTuple = Estimate(.tTuple, nil)
    }

    let lrs: Estimate
    if v >= u {
        var pMax: Extended = 0
        for w in u...v {
            let choices = Extended(n - w) * Extended(n - w + 1) / 2
            let p = extendedPow(Extended(pairs[w]) / choices, 1 / Extended(w))
            if p > pMax { pMax = p }
        }
        let pU = min(1, pMax + AssessmentMath.zAlphaExtended * extendedSqrt(pMax * (1 - pMax) / Extended(n - 1)))
        lrs = Estimate(.longestRepeatedSubstring, Double(-extendedLog2(pU)), [
            ("u", Double(u)), ("v", Double(v)), ("p-hat", Double(pMax)), ("p_u", Double(pU)),
        ])
    } else {
        lrs = Estimate(.longestRepeatedSubstring, nil, [("u", Double(u)), ("v", Double(v))])
    }
    return (tTuple, lrs)
}

/// Q[t] and S[t] for every t up to the longest repeat, from an LCP array.
struct RepeatCounts {
    /// The length of the longest repeated substring (the largest LCP), at least 0.
    let longestRepeat: Int
    /// `mostCommon[t]`: occurrences of the most common t-tuple, 1 ≤ t ≤ longestRepeat (index 0 unused).
    let mostCommon: [Int]
    /// `equalPairs[t]`: pairs of positions whose t-tuples are equal.
    let equalPairs: [UInt64]

    init(lcp: [Int32]) {
        let n = lcp.count
        var longest = 0
        for value in lcp where Int(value) > longest { longest = Int(value) }
        longestRepeat = longest
        var exactPairs = [UInt64](repeating: 0, count: longest + 2)
        var largestGroup = [Int](repeating: 1, count: longest + 2)
        // Stack of LCP indices with non-decreasing values. When index j is popped by a smaller value at r, the
        // intervals with their (leftmost) minimum at j span (below, r), where `below` is the index under j; the
        // run of values ≥ lcp[j] around j is a group of r − below suffixes sharing lcp[j] symbols. Index 0 is a
        // sentinel holding the smallest value; a final pass with r = n empties the stack.
        var stack = [Int32](repeating: 0, count: n + 1)
        lcp.withUnsafeBufferPointer { lcp in
        stack.withUnsafeMutableBufferPointer { stack in
        exactPairs.withUnsafeMutableBufferPointer { exactPairs in
        largestGroup.withUnsafeMutableBufferPointer { largestGroup in
            var top = 0
            stack[0] = 0
            for r in 1...n {
                let value = r < n ? lcp[r] : -1
                while top > 0 && lcp[Int(stack[top])] > value {
                    let j = Int(stack[top])
                    top -= 1
                    let below = Int(stack[top])
                    let popped = Int(lcp[j])
                    exactPairs[popped] &+= UInt64(j - below) * UInt64(r - j)
                    if r - below > largestGroup[popped] { largestGroup[popped] = r - below }
                }
                if r < n {
                    top += 1
                    stack[top] = Int32(r)
                }
            }
        }
        }
        }
        }
        var q = [Int](repeating: 1, count: longest + 2)
        var pairs = [UInt64](repeating: 0, count: longest + 2)
        var runningGroup = 1
        var runningPairs: UInt64 = 0
        if longest >= 1 {
            for t in stride(from: longest, through: 1, by: -1) {
                runningGroup = max(runningGroup, largestGroup[t])
                runningPairs &+= exactPairs[t]
                q[t] = runningGroup
                pairs[t] = runningPairs
            }
        }
        mostCommon = q
        equalPairs = pairs
    }
}
