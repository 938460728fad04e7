internal import CQRNGAssessmentKernels
import QRNG

/// The permutation tests of SP 800-90B §5.1: nineteen statistics (the eleven tests, periodicity and covariance at
/// lags 1, 2, 8, 16 and 32) on the samples and on up to 10,000 random shuffles of them.
///
/// A statistic fails when the original value ranks among the 5 highest or the 5 lowest of the 10,001 values: with
/// C0 = shuffles above it, C1 = equal and C2 = below, it fails when C0 + C1 ≤ 5 or C1 + C2 ≤ 5. As the reference
/// tool does, a statistic stops being computed as soon as both sums exceed 5 (its outcome can no longer change),
/// and the shuffling stops when every statistic is settled, so IID data needs only a few dozen shuffles. Which
/// generator shuffles does not matter for agreement with the tool: the test is a rank test whose outcome on IID
/// data is random either way (the tool seeds from /dev/urandom).
///
/// Inputs follow the tool: the statistics run on the translated samples, except the excursion, the covariances of
/// non-binary data and the compression, which use the raw values; binary data is first converted (§5.1:
/// Conversion I, the number of ones in each 8-bit block, for the directional runs, periodicity and covariance;
/// Conversion II, the 8-bit blocks as bytes, for the collision statistics), and its median is taken as 0.5.
enum PermutationTests {
    static let names = [
        "excursion", "numDirectionalRuns", "lenDirectionalRuns", "numIncreasesDecreases", "numRunsMedian",
        "lenRunsMedian", "avgCollision", "maxCollision", "periodicity(1)", "periodicity(2)", "periodicity(8)",
        "periodicity(16)", "periodicity(32)", "covariance(1)", "covariance(2)", "covariance(8)", "covariance(16)",
        "covariance(32)", "compression",
    ]
    static let lags = [1, 2, 8, 16, 32]
    static let maximumShuffles = 10_000

    static func run<G: RandomNumberGenerator>(
        symbols: [UInt16], raw: [UInt16], alphabetSize k: Int, maximumShuffles: Int = maximumShuffles,
        using generator: inout G
    ) -> (results: [IIDTestResults.Permutation], shuffles: Int) {
        let n = symbols.count
        var rawMean = 0.0
        var total = 0
        for value in raw { total += Int(value) }
        rawMean = Double(total) / Double(n)
        let median: Double
        if k == 2 {
            median = 0.5
        } else {
            // The middle order statistics from a histogram of the symbols (all below k), not a sort.
            var counts = [Int](repeating: 0, count: max(k, Int(symbols.max() ?? 0) + 1))
            for symbol in symbols { counts[Int(symbol)] += 1 }
            func orderStatistic(_ rank: Int) -> Double {
                var seen = 0
                for (symbol, count) in counts.enumerated() {
                    seen += count
                    if seen > rank { return Double(symbol) }
                }
                return 0
            }
            median = n & 1 == 1 ? orderStatistic(n / 2) : (orderStatistic(n / 2) + orderStatistic(n / 2 - 1)) / 2.0
        }
        let context = StatisticContext(alphabetSize: k, rawMean: rawMean, median: median)
        var active = [Bool](repeating: true, count: names.count)
        let original = context.statistics(symbols, raw, active: active)
        var above = [Int](repeating: 0, count: names.count)
        var equal = [Int](repeating: 0, count: names.count)
        var below = [Int](repeating: 0, count: names.count)

        let sameArrays = symbols == raw
        var shuffledSymbols = symbols
        var shuffledRaw = sameArrays ? [] : raw
        // Binary samples are a multiset of ones and zeros: any uniformly random arrangement of it will do, and one
        // can be drawn without moving elements about.
        var binaryShuffler = sameArrays && k == 2 ? BinaryShuffler(symbols) : nil
        // Samples that fit a byte are shuffled as bytes: half the memory for the shuffle's scattered swaps, and
        // `ByteShuffle`'s indices, drawn from four generators at a time.
        var narrowSymbols = sameArrays && binaryShuffler == nil && !symbols.contains { $0 > UInt8.max }
            ? symbols.map { UInt8(truncatingIfNeeded: $0) } : nil
        var shuffles = 0
        while shuffles < maximumShuffles && active.contains(true) {
            if binaryShuffler != nil {
                binaryShuffler!.shuffle(&shuffledSymbols, using: &generator)
            } else if narrowSymbols != nil {
                shuffle(&narrowSymbols!, using: &generator)
                widen(narrowSymbols!, into: &shuffledSymbols)
            } else if sameArrays {
                shuffle(&shuffledSymbols, using: &generator)
            } else {
                shuffle(&shuffledSymbols, &shuffledRaw, using: &generator)
            }
            shuffles += 1
            let values = context.statistics(shuffledSymbols, sameArrays ? shuffledSymbols : shuffledRaw, active: active)
            for j in 0..<names.count where active[j] {
                if values[j] > original[j] {
                    above[j] += 1
                } else if values[j] == original[j] {
                    equal[j] += 1
                } else {
                    below[j] += 1
                }
                if above[j] + equal[j] > 5 && equal[j] + below[j] > 5 { active[j] = false }
            }
        }
        let results = names.indices.map { j in
            IIDTestResults.Permutation(
                name: names[j], original: original[j], above: above[j], equal: equal[j], below: below[j],
                passed: above[j] + equal[j] > 5 && equal[j] + below[j] > 5)
        }
        return (results, shuffles)
    }

    /// Fisher–Yates from the end, with Lemire's unbiased bounded integers.
    static func shuffle<G: RandomNumberGenerator>(_ a: inout [UInt16], using generator: inout G) {
        a.withUnsafeMutableBufferPointer { a in permute(a, nil, using: &generator) }
    }

    /// Fisher–Yates on bytes, its indices drawn four generators at a time (`ByteShuffle`).
    static func shuffle<G: RandomNumberGenerator>(_ a: inout [UInt8], using generator: inout G) {
        a.withUnsafeMutableBufferPointer { a in ByteShuffle.shuffle(a, using: &generator) }
    }

    /// Each byte as a 16-bit sample; `wide` has as many elements as `narrow`.
    static func widen(_ narrow: [UInt8], into wide: inout [UInt16]) {
        narrow.withUnsafeBufferPointer { narrow in
            wide.withUnsafeMutableBufferPointer { wide in
                for index in 0..<narrow.count { wide[index] = UInt16(narrow[index]) }
            }
        }
    }

    /// Shuffles `a` and `b` with the same permutation.
    static func shuffle<G: RandomNumberGenerator>(_ a: inout [UInt16], _ b: inout [UInt16], using generator: inout G) {
        precondition(a.count == b.count, "arrays shuffled together have one length")
        a.withUnsafeMutableBufferPointer { a in
            b.withUnsafeMutableBufferPointer { b in permute(a, b, using: &generator) }
        }
    }

    /// Below 2^32 elements each 64-bit output of the generator gives two bounded integers, drawn as a pair in one
    /// step of the loop. (Carrying a spare half from one draw to the next instead made every draw wait on the
    /// spare's state and cost over twice as much.)
    @inline(__always)
    static func permute<Element, G: RandomNumberGenerator>(
        _ a: UnsafeMutableBufferPointer<Element>, _ b: UnsafeMutableBufferPointer<UInt16>?, using generator: inout G
    ) {
        @inline(__always) func swapBoth(_ i: Int, _ j: Int) {
            a.swapAt(i, j)
            b?.swapAt(i, j)
        }
        var i = a.count - 1
        while i >= Int(UInt32.max) {
            swapBoth(i, bounded(i, using: &generator))
            i -= 1
        }
        while i >= 2 {
            let word = generator.next()
            swapBoth(i, bounded32(UInt32(truncatingIfNeeded: word), below: UInt32(i + 1), using: &generator))
            swapBoth(i - 1, bounded32(UInt32(truncatingIfNeeded: word >> 32), below: UInt32(i), using: &generator))
            i -= 2
        }
        if i == 1 { swapBoth(1, bounded(1, using: &generator)) }
    }

    /// A uniform integer in 0..<range from the 32 random `bits` (Lemire's method), drawing fresh low halves of the
    /// generator's output in the rare case that `bits` falls in the rejected sliver.
    @inline(__always)
    static func bounded32<G: RandomNumberGenerator>(
        _ bits: UInt32, below range: UInt32, using generator: inout G
    ) -> Int {
        var product = UInt64(bits) &* UInt64(range)
        if UInt32(truncatingIfNeeded: product) < range {
            let threshold = (0 &- range) % range
            while UInt32(truncatingIfNeeded: product) < threshold {
                product = UInt64(UInt32(truncatingIfNeeded: generator.next())) &* UInt64(range)
            }
        }
        return Int(product >> 32)
    }

    /// A uniform integer in 0...upper.
    @inline(__always)
    static func bounded<G: RandomNumberGenerator>(_ upper: Int, using generator: inout G) -> Int {
        let range = UInt64(upper) + 1
        var product = generator.next().multipliedFullWidth(by: range)
        if product.low < range {
            let threshold = (0 &- range) % range
            while product.low < threshold { product = generator.next().multipliedFullWidth(by: range) }
        }
        return Int(product.high)
    }
}
