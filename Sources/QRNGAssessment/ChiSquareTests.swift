#if canImport(Glibc)
import Glibc
#endif
import QRNG

/// The chi-square tests of SP 800-90B §5.2 (independence, §5.2.1/§5.2.3, and goodness of fit, §5.2.2/§5.2.4), as
/// the reference tool runs them on the translated samples. Each fails when its p-value is below 0.001.
enum ChiSquareTests {
    /// Largest alphabet for which the non-binary independence test's table of k² pairs is built (k = 4096 gives
    /// 16.8 million pairs). The reference tool stops at 8-bit samples (k ≤ 256); beyond this bound qrng does not
    /// run the independence test and says so.
    static let independenceAlphabetLimit = 4096

    static func independence(_ s: UnsafeBufferPointer<UInt16>, alphabetSize k: Int) -> IIDTestResults.ChiSquare? {
        if k == 2 { return binaryIndependence(s) }
        guard k <= independenceAlphabetLimit else { return nil }
        let n = s.count
        let p = proportions(s, alphabetSize: k)
        let half = (Double(n) * 0.5).rounded(.down)
        // Every ordered pair (i, j), its expected count p_i·p_j·⌊n/2⌋, sorted by expectation then by pair index.
        let pairCount = k * k
        var order = [Int32](unsafeUninitializedCapacity: pairCount) { buffer, initialized in
            for index in 0..<pairCount { buffer[index] = Int32(index) }
            initialized = pairCount
        }
        var expectation = [Double](repeating: 0, count: pairCount)
        for i in 0..<k {
            for j in 0..<k { expectation[i * k + j] = p[i] * p[j] * half }
        }
        expectation.withUnsafeBufferPointer { e in
            order.sort { e[Int($0)] != e[Int($1)] ? e[Int($0)] < e[Int($1)] : $0 < $1 }
        }
        let (bins, binOf) = allocateBins(order: order, expectation: expectation)
        var observed = [Int](repeating: 0, count: bins.count)
        var j = 0
        while j < n - 1 {
            observed[Int(binOf[Int(s[j]) * k + Int(s[j + 1])])] += 1
            j += 2
        }
        let statistic = chiSquareStatistic(observed: observed, expected: bins)
        return .init(statistic: statistic, degreesOfFreedom: bins.count - k)
    }

    static func goodnessOfFit(_ s: UnsafeBufferPointer<UInt16>, alphabetSize k: Int) -> IIDTestResults.ChiSquare {
        if k == 2 { return binaryGoodnessOfFit(s) }
        let n = s.count
        let p = proportions(s, alphabetSize: k)
        let tenth = (Double(n) / 10.0).rounded(.down)
        let expectation = p.map { $0 * tenth }
        var order = (0..<Int32(k)).map { $0 }
        order.sort {
            expectation[Int($0)] != expectation[Int($1)] ? expectation[Int($0)] < expectation[Int($1)] : $0 < $1
        }
        let (bins, binOf) = allocateBins(order: order, expectation: expectation)
        let block = n / 10
        var statistic = 0.0
        for part in 0..<10 {
            var observed = [Int](repeating: 0, count: bins.count)
            for index in (part * block)..<((part + 1) * block) { observed[Int(binOf[Int(s[index])])] += 1 }
            statistic += chiSquareStatistic(observed: observed, expected: bins)
        }
        return .init(statistic: statistic, degreesOfFreedom: 9 * (bins.count - 1))
    }

    /// §5.2.3: m-bit non-overlapping blocks, m the largest value ≤ 11 with p_min^m·⌊L/m⌋ ≥ 5; not run (passing,
    /// as in the tool) when m < 2.
    private static func binaryIndependence(_ s: UnsafeBufferPointer<UInt16>) -> IIDTestResults.ChiSquare {
        let n = s.count
        var ones = 0.0
        for bit in s { ones += Double(bit) }
        let p1 = ones / Double(n)
        let p0 = 1.0 - p1
        let pMin = min(p0, p1)
        var m = 11
        while m > 1 {
            if pow(pMin, Double(m)) * Double(n / m) >= 5 { break }
            m -= 1
        }
        guard m >= 2 else { return .init(statistic: 0, degreesOfFreedom: 0) }
        let blocks = n / m
        var occurrences = [Int](repeating: 0, count: 1 << m)
        for b in 0..<blocks {
            var value = 0
            for j in 0..<m { value = (value << 1) | Int(s[b * m + j]) }
            occurrences[value] += 1
        }
        var statistic = 0.0
        for value in 0..<(1 << m) {
            let w = value.nonzeroBitCount
            let expected = pow(p1, Double(w)) * pow(p0, Double(m - w)) * Double(blocks)
            statistic += pow(Double(occurrences[value]) - expected, 2) / expected
        }
        return .init(statistic: statistic, degreesOfFreedom: (1 << m) - 2)
    }

    /// §5.2.4: ten equal parts, each compared with the whole sequence's proportion of ones.
    private static func binaryGoodnessOfFit(_ s: UnsafeBufferPointer<UInt16>) -> IIDTestResults.ChiSquare {
        let n = s.count
        let part = n / 10
        var ones = 0
        for bit in s { ones += Int(bit) }
        let p = Double(ones) / Double(n)
        let e0 = (1.0 - p) * Double(part)
        let e1 = p * Double(part)
        var statistic = 0.0
        for i in 0..<10 {
            var o1 = 0
            for j in 0..<part { o1 += Int(s[i * part + j]) }
            let o0 = part - o1
            statistic += pow(Double(o0) - e0, 2) / e0 + pow(Double(o1) - e1, 2) / e1
        }
        return .init(statistic: statistic, degreesOfFreedom: 9)
    }

    /// The proportions as the tool computes them, by adding 1/L once per occurrence: symbols with equal counts get
    /// bit-identical proportions, which decides the order of tied expectations.
    static func proportions(_ s: UnsafeBufferPointer<UInt16>, alphabetSize k: Int) -> [Double] {
        var counts = [Int](repeating: 0, count: k)
        for symbol in s { counts[Int(symbol)] += 1 }
        let step = 1.0 / Double(s.count)
        var memo: [Int: Double] = [:]
        return counts.map { count in
            if let known = memo[count] { return known }
            var sum = 0.0
            for _ in 0..<count { sum += step }
            memo[count] = sum
            return sum
        }
    }

    /// Walks the cells in order, closing a bin once its expectation reaches 5; a last bin below 5 joins the one
    /// before it (§5.2.1 step 4, as the tool does it).
    private static func allocateBins(order: [Int32], expectation: [Double]) -> (bins: [Double], binOf: [Int32]) {
        var bins: [Double] = []
        var binOf = [Int32](repeating: 0, count: expectation.count)
        var current = 0.0
        var bin: Int32 = 0
        for cell in order {
            if current >= 5.0 {
                bins.append(current)
                bin += 1
                current = 0
            }
            binOf[Int(cell)] = bin
            current += expectation[Int(cell)]
        }
        if bin != 0 && current < 5.0 {
            var index = order.count - 1
            while index >= 0 && binOf[Int(order[index])] == bin {
                binOf[Int(order[index])] = bin - 1
                index -= 1
            }
            bins[Int(bin) - 1] += current
        } else {
            bins.append(current)
        }
        return (bins, binOf)
    }

    private static func chiSquareStatistic(observed: [Int], expected: [Double]) -> Double {
        var statistic = 0.0
        for (o, e) in zip(observed, expected) { statistic += pow(Double(o) - e, 2) / e }
        return statistic
    }

    /// The p-value of a chi-square statistic x with `df` degrees of freedom, Q(df/2, x/2); 1 when df ≤ 0 or x ≤ 0.
    static func pValue(statistic x: Double, degreesOfFreedom df: Int) -> Double {
        regularizedUpperGamma(Double(df) / 2, x / 2)
    }

    /// Q(a, x) = Γ(a, x)/Γ(a): the power series of P below x < a + 1, Lentz's continued fraction above.
    static func regularizedUpperGamma(_ a: Double, _ x: Double) -> Double {
        if x <= 0 || a <= 0 { return 1 }
        let logPrefactor = a * log(x) - x - lgamma(a)
        if x < a + 1 {
            var term = 1.0 / a
            var sum = term
            var ap = a
            for _ in 0..<100_000 {
                ap += 1
                term *= x / ap
                sum += term
                if abs(term) < abs(sum) * 1e-16 { break }
            }
            return max(0, 1 - sum * exp(logPrefactor))
        }
        let tiny = 1e-300
        var b = x + 1 - a
        var c = 1 / tiny
        var d = 1 / b
        var h = d
        for i in 1...100_000 {
            let an = -Double(i) * (Double(i) - a)
            b += 2
            d = an * d + b
            if abs(d) < tiny { d = tiny }
            c = b + an / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < 1e-16 { break }
        }
        return exp(logPrefactor) * h
    }
}
