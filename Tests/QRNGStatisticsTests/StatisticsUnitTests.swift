import Foundation
@testable import QRNG
@testable import QRNGStatistics
import QRNGTestSupport
import Testing

/// The word-at-a-time building blocks of the tests against bit-by-bit definitions, on fixed-seed data.
@Suite struct StatisticsUnitTests {
    static func random(_ count: Int, seed: UInt64) -> BitBuffer {
        var generator = Xoshiro256StarStar(seed: seed)
        return BitBuffer.random(count: count, using: &generator)
    }

    @Test func popcountOfEveryRangeShape() {
        let bits = Self.random(300, seed: 1)
        let packed = PackedBits(bits)
        for start in [0, 1, 31, 63, 64, 65, 127, 128, 200] {
            for end in [start, start + 1, start + 63, start + 64, start + 65, 300] where end <= 300 {
                let expected = (start..<end).filter { bits[$0] }.count
                #expect(packed.withWords { $0.popcount(in: start..<end) } == expected, "\(start)..<\(end)")
            }
        }
    }

    @Test func bitsAndWordsAtEveryOffset() {
        let bits = Self.random(256, seed: 2)
        let packed = PackedBits(bits)
        for offset in 0..<192 {
            for width in [1, 7, 13, 32, 63, 64] {
                var expected: UInt64 = 0
                for i in 0..<width { expected = expected << 1 | (bits[offset + i] ? 1 : 0) }
                #expect(packed.withWords { $0.bits(at: offset, width: width) } == expected)
            }
            #expect(packed.withWords { $0.word(at: offset) } == bits.word(atBit: offset))
        }
    }

    @Test func longestRunAgainstTheDefinition() {
        var bits = Self.random(2000, seed: 3)
        // Long runs across word edges.
        for i in 100..<230 { bits = Self.setting(bits, i, true) }
        for i in 500..<564 { bits = Self.setting(bits, i, true) }
        let packed = PackedBits(bits)
        for range in [0..<2000, 90..<240, 100..<230, 101..<229, 499..<565, 500..<564, 3..<9, 1000..<1008] {
            var longest = 0, run = 0
            for i in range {
                run = bits[i] ? run + 1 : 0
                longest = max(longest, run)
            }
            #expect(packed.withWords { SP80022.longestRun($0, in: range) } == longest, "\(range)")
        }
    }

    static func setting(_ bits: BitBuffer, _ index: Int, _ value: Bool) -> BitBuffer {
        var result = BitBuffer()
        for i in 0..<bits.count { result.append(i == index ? value : bits[i]) }
        return result
    }

    @Test func matrixRankAgainstExhaustiveProbabilities() {
        // All 2^9 3 × 3 matrices: the rank distribution is §3.5's formula exactly.
        var counts = [0, 0, 0, 0]
        var rows = [UInt64](repeating: 0, count: 3)
        for matrix in 0..<512 {
            for row in 0..<3 { rows[row] = UInt64(matrix >> (3 * row)) & 7 }
            counts[rows.withUnsafeMutableBufferPointer { MatrixRankTest.rank($0, columns: 3) }] += 1
        }
        let test = MatrixRankTest(rows: 3, columns: 3)
        #expect(abs(test.probabilities[0] - Double(counts[3]) / 512) < 1e-15)
        #expect(abs(test.probabilities[1] - Double(counts[2]) / 512) < 1e-15)
        #expect(abs(test.probabilities[2] - Double(counts[1] + counts[0]) / 512) < 1e-15)
        let standard = MatrixRankTest(rows: 32, columns: 32).probabilities
        #expect(abs(standard.reduce(0, +) - 1) < 1e-15)
        #expect(standard[0] > 0.2887 && standard[0] < 0.2889, "§3.5 rounds P(32) to 0.2888, got \(standard[0])")
    }

    @Test func aperiodicTemplatesAreTheUnborderedWords() {
        for m in 2...12 {
            let templates = SP80022.aperiodicTemplates(length: m)
            let expected = (0..<(1 << m)).filter { value in
                let text = (0..<m).map { (value >> (m - 1 - $0)) & 1 == 1 ? "1" : "0" }
                return !(1..<m).contains { k in text.prefix(k).elementsEqual(text.suffix(k)) }
            }
            #expect(templates.map(Int.init) == expected, "m = \(m)")
        }
        #expect(SP80022.aperiodicTemplates(length: 9).count == 148)
    }

    /// For an aperiodic template the window tally equals §2.7.4's jumping scan; for periodic ones it may not,
    /// and explicitly given periodic templates are scanned.
    @Test func templateTallyEqualsTheScanForAperiodicTemplates() {
        let bits = Self.random(20_000, seed: 4)
        let packed = PackedBits(bits)
        for m in [2, 3, 9] {
            var histogram = [UInt32](repeating: 0, count: 1 << m)
            histogram.withUnsafeMutableBufferPointer { histogram in
                packed.withWords {
                    NonOverlappingTemplateTest.tallyWindows($0, from: 37, to: 19_000, width: m,
                                                            into: histogram.baseAddress!)
                }
            }
            for template in SP80022.aperiodicTemplates(length: m) {
                let scanned = packed.withWords {
                    NonOverlappingTemplateTest.scanCount($0, template, width: m, from: 37, to: 19_000)
                }
                #expect(Int(histogram[Int(template)]) == scanned, "m = \(m), template \(template)")
            }
        }
        // 11 is periodic: in 1111 the scan finds two, the tally three.
        let ones = BitBuffer(packedBytes: [0xF0])
        let result = SP80022.nonOverlappingTemplateMatching(ones, templates: [0b11], templateLength: 2, blockCount: 1)
        let mean = Double(8 - 2 + 1) / 4
        let variance = 8 * (1.0 / 4 - 3.0 / 16)
        #expect(abs(result.subtests[0].statistic - (2 - mean) * (2 - mean) / variance) < 1e-12)
    }

    /// The exact class probabilities against all 2^M blocks.
    @Test(arguments: [(1, 8), (2, 10), (3, 12), (4, 16)])
    func overlappingProbabilitiesAgainstEnumeration(m: Int, blockLength: Int) {
        var counts = [Int](repeating: 0, count: 6)
        for block in 0..<(1 << blockLength) {
            var occurrences = 0
            for start in 0...(blockLength - m) {
                let window = (block >> (blockLength - m - start)) & ((1 << m) - 1)
                if window == (1 << m) - 1 { occurrences += 1 }
            }
            counts[min(occurrences, 5)] += 1
        }
        let probabilities = SP80022.overlappingTemplateProbabilities(templateLength: m, blockLength: blockLength)
        for (index, count) in counts.enumerated() {
            #expect(abs(probabilities[index] - Double(count) / Double(1 << blockLength)) < 1e-14, "ν\(index)")
        }
    }

    @Test func overlappingProbabilitiesOfRevision1AndRevision1a() {
        let exact = SP80022.overlappingTemplateProbabilities(templateLength: 9, blockLength: 1032)
        let code = SP80022.overlappingTemplateProbabilitiesOfNISTSTS(templateLength: 9, blockLength: 1032)
        #expect(abs(exact.reduce(0, +) - 1) < 1e-12 && abs(code.reduce(0, +) - 1) < 1e-12)
        // Pr(0, η) = e^−η with η = 1 is the code's first class, and the exact one is smaller: overlapping runs.
        #expect(abs(code[0] - exp(-1)) < 1e-15)
        #expect(exact[0] < code[0])
    }

    /// The byte-table walk and the excursion counts against a walk taken one bit at a time.
    @Test(arguments: [1, 7, 64, 1000, 100_003])
    func randomWalkAgainstTheDefinition(length: Int) {
        let bits = Self.random(length, seed: UInt64(length))
        var sum = 0, highest = 0, lowest = 0
        var cycles: [[Int]] = [[]]
        var visits = [Int: Int]()
        for i in 0..<length {
            sum += bits[i] ? 1 : -1
            highest = max(highest, sum)
            lowest = min(lowest, sum)
            if sum == 0 { cycles.append([]) } else { cycles[cycles.count - 1].append(sum) }
            visits[sum, default: 0] += 1
        }
        if sum == 0 { cycles.removeLast() }
        let cusum = SP80022.cumulativeSums(bits)
        #expect(cusum.subtests[0].statistic == Double(max(highest, -lowest)))
        // Reverse: the walk from the end, x_n, x_n + x_{n−1}, …, one step at a time.
        var backward = 0, reverseMaximum = 0
        for i in stride(from: length - 1, through: 0, by: -1) {
            backward += bits[i] ? 1 : -1
            reverseMaximum = max(reverseMaximum, abs(backward))
        }
        #expect(cusum.subtests[1].statistic == Double(reverseMaximum))
        let walk = RandomWalk(PackedBits(bits))
        #expect(walk.cycles == cycles.count)
        for x in -9...9 where x != 0 { #expect(walk.totalVisits[x + 9] == visits[x, default: 0], "ξ(\(x))") }
        for x in -4...4 where x != 0 {
            for k in 0...5 {
                let expected = cycles.filter { cycle in min(cycle.filter { $0 == x }.count, 5) == k }.count
                #expect(walk.cycleVisitClasses[k][x + 4] == expected, "ν\(k)(\(x))")
            }
        }
    }

    @Test func serialAndEntropyShareOneTallyCorrectly() {
        let bits = Self.random(10_007, seed: 6)
        // Pattern counts of width w from the width-16 tally equal a direct cyclic count of width w.
        let wide = CyclicPatternCounts(bits, width: 16)
        for width in [1, 2, 5, 11, 16] {
            let narrow = CyclicPatternCounts(bits, width: width)
            #expect(wide.sumOfSquares(width: width) == narrow.sumOfSquares(width: width), "width \(width)")
            #expect(abs(wide.phi(width: width) - narrow.phi(width: width)) < 1e-12)
        }
        var direct = [Int](repeating: 0, count: 8)
        for start in 0..<bits.count {
            var value = 0
            for j in 0..<3 { value = value << 1 | (bits[(start + j) % bits.count] ? 1 : 0) }
            direct[value] += 1
        }
        #expect(wide.sumOfSquares(width: 3) == Double(direct.map { $0 * $0 }.reduce(0, +)))
    }

    @Test func excursionsTooFewCyclesDoNotApply() {
        let bits = Self.random(100_000, seed: 8)
        let result = SP80022.randomExcursions(bits)
        #expect(!result.isApplicable, "a 10⁵-bit walk has about 250 cycles, below 500")
        #expect(result.notApplicable?.contains("max(0.005·√n, 500)") == true)
        #expect(SP80022.randomExcursions(bits, enforcingCycleMinimum: false).subtests.count == 8)
    }

    @Test func shortSequencesAreNotApplicableRatherThanWrong() throws {
        let bits = Self.random(100, seed: 9)
        let result = try runAllTests(on: bits)
        for test in [StatisticalTest.longestRunOfOnes, .rank, .universal, .overlappingTemplateMatching] {
            #expect(result[test]?.isApplicable == false, "\(test)")
        }
        #expect(result[.frequency]?.isApplicable == true)
    }
}
