#if canImport(Glibc)
import Glibc
#endif
import QRNG

/// SP 800-90B §6.3.4, the Compression estimate (Maurer's universal statistic), for binary sequences only.
///
/// The bits are cut into 6-bit blocks; the first d = 1000 fill a dictionary of last positions, and each later
/// block contributes log2 of its distance to its previous occurrence. X̄' = X̄ − z·σ̂/√v with σ̂ = 0.5907·s, and p
/// solves X̄' = G(p) + (2⁶ − 1)·G((1 − p)/(2⁶ − 1)) on [2⁻⁶, 1]. H = −log2(p)/6, or 1 when no p above 2⁻⁶ solves it.
///
/// Following the tool rather than the letter of the standard:
/// - Only binary data is assessed (the standard allows any alphabet through its bit-string conversion; the tool
///   runs it on the bit string, or on samples with two distinct values).
/// - G is evaluated with the sums rearranged so each costs O(L) instead of O(L²) (UL's observation, as in the
///   tool): G(z) = (1/v)·[z²·Σ_{u<L} log2(u)(1 − z)^{u−1}·(L − max(d, u)) + z·Σ_{t=d+1..L} log2(t)(1 − z)^{t−1}],
///   stopping once the terms underflow, and Kahan-summed.
/// - The bisection and its failure rules are the tool's (see ``AssessmentMath/bisectDecreasing``); a failed search
///   gives H = 1 as the standard's step 8 says.
func compressionEstimate(_ s: UnsafeBufferPointer<UInt8>, dictionarySize d: Int = 1000) -> Estimate {
    let b = 6
    let blockCount = s.count / b
    guard blockCount > d else { return Estimate(.compression, nil) }
    var last = [Int](repeating: 0, count: 1 << b)
    func block(_ index: Int) -> Int {
        var value = 0
        for j in 0..<b { value = (value << 1) | Int(s[index * b + j] & 1) }
        return value
    }
    for i in 0..<d { last[block(i)] = i + 1 }
    var sum = KahanSum()
    var sumOfSquares = KahanSum()
    for i in d..<blockCount {
        let value = block(i)
        let distance = log2(Double(i + 1 - last[value]))
        sum.add(distance)
        sumOfSquares.add(distance * distance)
        last[value] = i + 1
    }
    let v = blockCount - d
    let mean = sum.value / Double(v)
    let sigma = 0.5907 * (sumOfSquares.value / (Double(v) - 1.0) - mean * mean).squareRoot()
    let bound = mean - AssessmentMath.zAlpha * sigma / Double(v).squareRoot()

    let g = CompressionExpectation(blockCount: blockCount, dictionarySize: d)
    let alphabet = Double(1 << b)
    let floor = 1.0 / alphabet
    func expected(_ p: Double) -> Double {
        g.value(p) + (alphabet - 1.0) * g.value((1.0 - p) / (alphabet - 1.0))
    }
    var p = -1.0
    if expected(floor) > bound {
        p = AssessmentMath.bisectDecreasing(
            low: floor, high: 1.0, target: bound, onSearchFailure: floor, function: expected)
    }
    let entropy: Double
    if p > floor {
        entropy = -log2(p) / Double(b)
    } else {
        p = floor
        entropy = 1.0
    }
    return Estimate(.compression, entropy, [("X-bar", mean), ("sigma-hat", sigma), ("X-bar'", bound), ("p", p)])
}

/// Compensated summation, as the tool uses for the compression statistic.
struct KahanSum {
    private(set) var value = 0.0
    private var compensation = 0.0

    mutating func add(_ x: Double) {
        let y = x - compensation
        let t = value + y
        compensation = (t - value) - y
        value = t
    }
}

/// The G function of §6.3.4 step 7 for a fixed number of blocks L and dictionary size d.
struct CompressionExpectation {
    let blockCount: Int
    let dictionarySize: Int
    private let log2Table: [Double]

    init(blockCount: Int, dictionarySize: Int) {
        self.blockCount = blockCount
        self.dictionarySize = dictionarySize
        self.log2Table = (0...blockCount).map { $0 == 0 ? 0 : log2(Double($0)) }
    }

    func value(_ z: Double) -> Double {
        let count = blockCount
        let d = dictionarySize
        let v = Double(count - d)
        return log2Table.withUnsafeBufferPointer { log2Table in
            // a_u = log2(u)·(1 − z)^{u−1}; `power` holds (1 − z)^{u−1}.
            let ratio = 1.0 - z
            var power = ratio  // u = 2 (a_1 = 0)
            var head = KahanSum()  // Σ_{u=2..d} a_u
            var u = 2
            while u <= d {
                head.add(log2Table[u] * power)
                power *= ratio
                u += 1
            }
            var tail = KahanSum()  // Σ_{u=d+1..L} a_u
            var weighted = KahanSum()  // Σ_{u=d+1..L−1} (L − u)·a_u
            var truncated = false
            // The tool sums until the terms underflow. Every later term is below L·log2(L)·(1 − z)^{u−1}, so the
            // whole rest is below L·log2(L)·(1 − z)^{u−1}/z; once that is under 2⁻⁶⁴ of the sum so far it cannot
            // change the double result, and the loop stops there (tens of times sooner for the usual z).
            let restFactor = Double(count) * log2Table[count] / z
            while u <= count - 1 {
                let a = log2Table[u] * power
                tail.add(a)
                let scaled = Double(count - u) * a
                if scaled > 0 {
                    weighted.add(scaled)
                } else {
                    truncated = true
                    break
                }
                power *= ratio
                u += 1
                if u & 255 == 0 && restFactor * power < 0x1p-64 * weighted.value {
                    truncated = true
                    break
                }
            }
            weighted.add(Double(count - d) * head.value)
            if !truncated { tail.add(log2Table[count] * power) }
            return (1.0 / v) * z * (z * weighted.value + tail.value)
        }
    }
}
