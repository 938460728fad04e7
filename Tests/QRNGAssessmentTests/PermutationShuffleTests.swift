import Testing

@testable import QRNG
@testable import QRNGAssessment
import QRNGTestSupport

/// The permutation tests' shuffle: every arrangement equally likely, and two arrays moved together.
@Suite struct PermutationShuffleTests {
    /// All 24 arrangements of four elements over 240,000 seeded shuffles: the chi-square statistic (23 degrees of
    /// freedom) is below 80, which a uniform shuffle exceeds with probability below 1e-7, while an off-by-one in
    /// the bounds (say, never leaving an element in place) leaves some arrangements out altogether.
    @Test func everyArrangementIsEquallyLikely() {
        var generator = Xoshiro256StarStar(seed: 5)
        var counts: [[UInt16]: Int] = [:]
        let shuffles = 240_000
        for _ in 0..<shuffles {
            var values: [UInt16] = [0, 1, 2, 3]
            PermutationTests.shuffle(&values, using: &generator)
            counts[values, default: 0] += 1
        }
        #expect(counts.count == 24)
        let expected = Double(shuffles) / 24
        let chiSquare = counts.values.reduce(0.0) { $0 + (Double($1) - expected) * (Double($1) - expected) / expected }
        #expect(chiSquare < 80, "chi-square \(chiSquare)")
    }

    /// Bytes (`ByteShuffle`, four generators at a time): all 24 arrangements of four over 240,000 shuffles, as
    /// above; and for 12 bytes (a step of eight indices and a shorter one) every byte at every position over
    /// 120,000 shuffles, chi-square (121 degrees of freedom) below 238.7, which a uniform shuffle exceeds with
    /// probability 1e-9, while a bound off by one leaves cells empty (chi-square in the thousands).
    @Test func bytesEveryArrangementEquallyLikely() {
        var generator = Xoshiro256StarStar(seed: 9)
        var counts: [[UInt8]: Int] = [:]
        for _ in 0..<240_000 {
            var values: [UInt8] = [0, 1, 2, 3]
            PermutationTests.shuffle(&values, using: &generator)
            counts[values, default: 0] += 1
        }
        #expect(counts.count == 24)
        let expected = 240_000.0 / 24
        let chiSquare = counts.values.reduce(0.0) { $0 + (Double($1) - expected) * (Double($1) - expected) / expected }
        #expect(chiSquare < 89.1, "chi-square \(chiSquare)")

        let count = 12
        var positions = [Int](repeating: 0, count: count * count)
        for _ in 0..<120_000 {
            var values = (0..<count).map { UInt8($0) }
            PermutationTests.shuffle(&values, using: &generator)
            for (position, value) in values.enumerated() { positions[Int(value) * count + position] += 1 }
        }
        let perCell = 120_000.0 / Double(count)
        let spread = positions.reduce(0.0) { $0 + (Double($1) - perCell) * (Double($1) - perCell) / perCell }
        #expect(spread < 238.7, "chi-square \(spread)")
    }

    /// The AVX2 kernel makes the portable code's arrangement, on every length around its steps of eight and on a
    /// million bytes, and the bytes are still the same multiset.
    @Test(.enabled(if: CPUFeatures.hasAVX2)) func bytesKernelMatchesPortable() {
        for count in Array(0...70) + [1000, 1_000_003] {
            let original = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 37) }
            var vector = original
            var portable = original
            var first = Xoshiro256StarStar(seed: UInt64(count))
            var second = first
            vector.withUnsafeMutableBufferPointer { ByteShuffle.shuffle($0, using: &first) }
            portable.withUnsafeMutableBufferPointer { ByteShuffle.shuffle($0, using: &second, vectorised: false) }
            #expect(vector == portable, "\(count) bytes")
            #expect(vector.sorted() == original.sorted(), "\(count) bytes")
            #expect(first.next() == second.next(), "both took the same draws from the caller's generator")
        }
    }

    @Test func pairedArraysGetTheSamePermutation() {
        var generator = Xoshiro256StarStar(seed: 6)
        for count in [0, 1, 2, 3, 1000] {
            var a = (0..<count).map { UInt16($0) }
            var b = a.map { $0 &* 7 &+ 1 }
            PermutationTests.shuffle(&a, &b, using: &generator)
            #expect(zip(a, b).allSatisfy { $0 &* 7 &+ 1 == $1 })
            #expect(a.sorted() == (0..<count).map { UInt16($0) })
        }
    }
}

/// §5.1's conversions of binary data, against the definition one bit at a time.
@Suite struct BinaryConversionTests {
    @Test func blocksOfEightBitsIncludingAShortLastOne() {
        var generator = Xoshiro256StarStar(seed: 7)
        for count in [1, 7, 8, 9, 16, 17, 1001] {
            let bits = (0..<count).map { _ in UInt16(generator.next() & 1) }
            let blocks = (count + 7) / 8
            var ones = [UInt16](repeating: 0, count: blocks)
            var bytes = [UInt16](repeating: 0, count: blocks)
            bits.withUnsafeBufferPointer { StatisticContext.convertBinary($0, ones: &ones, bytes: &bytes) }
            for block in 0..<blocks {
                let members = bits[(8 * block)..<min(8 * block + 8, count)]
                #expect(ones[block] == members.reduce(0, +))
                let byte = members.enumerated().reduce(UInt16(0)) { $0 | $1.element << UInt16(7 - $1.offset) }
                #expect(bytes[block] == byte, "count \(count), block \(block)")
            }
        }
    }
}

/// The binary samples' shuffle: arrangements of a multiset of zeros and ones, every one equally likely.
@Suite struct BinaryShufflerTests {
    /// Chi-square of the arrangements of `samples` over `draws` shuffles, and how many arrangements turned up.
    static func chiSquare(_ samples: [UInt16], draws: Int, seed: UInt64) -> (chiSquare: Double, seen: Int) {
        var generator = Xoshiro256StarStar(seed: seed)
        var shuffler = BinaryShuffler(samples)
        var shuffled = samples
        var counts: [[UInt16]: Int] = [:]
        for _ in 0..<draws {
            shuffler.shuffle(&shuffled, using: &generator)
            counts[shuffled, default: 0] += 1
        }
        let ones = samples.reduce(0) { $0 + Int($1) }
        // n choose ones arrangements.
        var arrangements = 1
        for step in 0..<ones { arrangements = arrangements * (samples.count - step) / (step + 1) }
        let expected = Double(draws) / Double(arrangements)
        var chiSquare = Double(arrangements - counts.count) * expected
        for count in counts.values { chiSquare += (Double(count) - expected) * (Double(count) - expected) / expected }
        return (chiSquare, counts.count)
    }

    /// Small multisets, through random bits of probability 1/2, 1/4 and 3/8 (and ones the minority or the
    /// majority): chi-square far below what a uniform shuffle exceeds with probability 1e-7.
    @Test func everyArrangementIsEquallyLikely() {
        // (samples, ones, chi-square bound for (arrangements − 1) degrees of freedom).
        let cases: [(count: Int, ones: Int, bound: Double)] = [
            (4, 2, 45), (6, 1, 45), (6, 5, 45), (7, 3, 95), (8, 3, 140), (8, 2, 80),
        ]
        for (index, test) in cases.enumerated() {
            let samples = (0..<test.count).map { UInt16($0 < test.ones ? 1 : 0) }
            let (chiSquare, _) = Self.chiSquare(samples, draws: 100_000, seed: 30 + UInt64(index))
            #expect(chiSquare < test.bound, "\(test.ones) of \(test.count): chi-square \(chiSquare)")
        }
    }

    /// Ones rare enough to be placed one at a time: both positions of two ones in 128, all 8,128 pairs.
    @Test func rareOnesArePlacedUniformly() {
        let samples = (0..<128).map { UInt16($0 < 2 ? 1 : 0) }
        let (chiSquare, seen) = Self.chiSquare(samples, draws: 200_000, seed: 40)
        #expect(seen == 8128)
        // 8,127 degrees of freedom: mean 8,127, standard deviation 127.5.
        #expect(chiSquare < 9_100, "chi-square \(chiSquare)")
    }

    /// Large arrays of every proportion keep their counts, and every position is a one about as often.
    @Test func largeArraysKeepTheirCounts() {
        var generator = Xoshiro256StarStar(seed: 41)
        for (count, ones) in [(1_000, 500), (1_001, 300), (10_000, 9_990), (10_000, 1), (999, 0), (777, 777), (100_003, 51_000)] {
            let samples = (0..<count).map { UInt16($0 < ones ? 1 : 0) }
            var shuffler = BinaryShuffler(samples)
            var shuffled = samples
            var perPosition = [Int](repeating: 0, count: count)
            let draws = 50
            for _ in 0..<draws {
                shuffler.shuffle(&shuffled, using: &generator)
                #expect(shuffled.reduce(0) { $0 + Int($1) } == ones, "\(ones) of \(count)")
                for (position, value) in shuffled.enumerated() { perPosition[position] += Int(value) }
            }
            // The first and second halves hold ones in proportion (within six standard deviations).
            let half = count / 2
            let firstHalf = Double(perPosition[..<half].reduce(0, +))
            let expected = Double(draws * ones) * Double(half) / Double(count)
            let p = Double(ones) / Double(count)
            let deviation = (Double(draws * half) * p * (1 - p)).squareRoot()
            #expect(abs(firstHalf - expected) <= 6 * deviation + 1e-9, "\(ones) of \(count): \(firstHalf) vs \(expected)")
        }
    }
}
