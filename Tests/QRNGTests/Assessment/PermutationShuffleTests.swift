import Testing

@testable import QRNG

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
