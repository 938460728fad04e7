import Foundation
@testable import QRNG
@testable import QRNGStatistics
import QRNGTestSupport
import Testing

/// Every test can fail: sequences with the flaw a test looks for get P < 0.01 from it. And the battery-level
/// analysis of §4.2 on P-values chosen by hand.
@Suite struct StatisticsBatteryTests {
    static let n = 1_000_000

    /// n bits, bit i drawn by `rule(i, uniform)` with a fixed-seed uniform in (0, 1].
    static func sequence(seed: UInt64, _ rule: (Int, inout Xoshiro256StarStar) -> Bool) -> BitBuffer {
        var generator = Xoshiro256StarStar(seed: seed)
        var bits = BitBuffer(minimumCapacity: n)
        for i in 0..<n { bits.append(rule(i, &generator)) }
        return bits
    }

    static func fair(_ generator: inout Xoshiro256StarStar) -> Bool { generator.next() >> 63 == 1 }

    /// A balanced Markov chain that repeats its last bit with probability `stay`.
    static func sticky(stay: Double, seed: UInt64) -> BitBuffer {
        var last = false
        return sequence(seed: seed) { _, generator in
            if generator.nextOpenUnitInterval() > stay { last.toggle() }
            return last
        }
    }

    static func failing(_ bits: BitBuffer, _ tests: [StatisticalTest]) throws {
        var parameters = StatisticalTestParameters()
        parameters.tests = Set(tests)
        let result = try runAllTests(on: bits, parameters: parameters)
        for test in tests {
            let outcome = try #require(result[test])
            let smallest = try #require(outcome.pValues.min(), "\(test): \(outcome.notApplicable ?? "no P-value")")
            #expect(smallest < 0.01, "\(test) should reject this sequence, smallest P-value \(smallest)")
        }
    }

    @Test func biasedBitsFailTheFrequencyTests() throws {
        let biased = Self.sequence(seed: 1) { _, generator in generator.nextOpenUnitInterval() <= 0.505 }
        try Self.failing(biased, [.frequency, .cumulativeSums])
    }

    @Test func alternatingBlockBiasFailsTheBlockFrequencyTestOnly() throws {
        let bits = Self.sequence(seed: 2) { i, generator in
            generator.nextOpenUnitInterval() <= ((i / 128) % 2 == 0 ? 0.6 : 0.4)
        }
        try Self.failing(bits, [.blockFrequency])
        #expect(SP80022.frequency(bits).pValues[0] >= 0.01, "balanced overall")
    }

    @Test func stickyBitsFailTheRunsAndPatternTests() throws {
        try Self.failing(Self.sticky(stay: 0.52, seed: 3),
                         [.runs, .longestRunOfOnes, .serial, .approximateEntropy, .overlappingTemplateMatching,
                          .nonOverlappingTemplateMatching])
    }

    @Test func rankDeficientMatricesFailTheRankTest() throws {
        // Row 31 of each 32 × 32 matrix repeats row 0.
        var bits = BitBuffer(minimumCapacity: Self.n)
        var generator = Xoshiro256StarStar(seed: 4)
        while bits.count + 1024 <= Self.n {
            let first = generator.next() >> 32
            bits.append(bits: first, width: 32)
            for _ in 1..<31 { bits.append(bits: generator.next() >> 32, width: 32) }
            bits.append(bits: first, width: 32)
        }
        while bits.count < Self.n { bits.append(Self.fair(&generator)) }
        try Self.failing(bits, [.rank])
    }

    @Test func aPeriodicComponentFailsTheSpectralTest() throws {
        let bits = Self.sequence(seed: 5) { i, generator in
            generator.nextOpenUnitInterval() <= 0.5 + 0.2 * sin(2 * Double.pi * Double(i) / 37)
        }
        try Self.failing(bits, [.discreteFourierTransform])
    }

    @Test func aRepeatedChunkFailsTheUniversalAndLinearComplexityTests() throws {
        // A 40-bit random chunk repeated: every 500-bit block has linear complexity at most 40, and the L-bit
        // blocks repeat at short distances.
        var generator = Xoshiro256StarStar(seed: 6)
        let chunk = generator.next() >> 24
        var bits = BitBuffer(minimumCapacity: Self.n)
        while bits.count + 40 <= Self.n { bits.append(bits: chunk, width: 40) }
        while bits.count < Self.n { bits.append(false) }
        try Self.failing(bits, [.universal, .linearComplexity])
    }

    @Test func alternatingBitsFailTheExcursionTests() throws {
        // 1010…: every cycle is one step up and back, so state +1 is visited exactly once per cycle, −1 never.
        let bits = BitBuffer(words: [UInt64](repeating: 0xAAAA_AAAA_AAAA_AAAA, count: (Self.n + 63) / 64),
                             count: Self.n)
        try Self.failing(bits, [.randomExcursions, .randomExcursionsVariant, .runs])
    }

    // MARK: §4.2 analysis

    static func battery() throws -> StatisticalTestBattery {
        var parameters = StatisticalTestParameters()
        parameters.tests = [.frequency, .randomExcursions]
        return try StatisticalTestBattery(length: 1_000_000, parameters: parameters)
    }

    static func results(_ pValues: [Double], excursionsApply: (Int) -> Bool = { _ in true }) -> [SequenceResult] {
        pValues.enumerated().map { index, p in
            let excursions = excursionsApply(index)
                ? TestResult(test: .randomExcursions,
                             subtests: RandomWalk.excursionStates.map { SubtestResult(name: "x = \($0)", statistic: 0,
                                                                                      pValue: p) })
                : .notApplicable(.randomExcursions, "too few cycles")
            return SequenceResult(length: 1_000_000, results: [
                TestResult(test: .frequency, subtests: [SubtestResult(statistic: 0, pValue: p)]), excursions,
            ])
        }
    }

    @Test func uniformPValuesPassBothChecks() throws {
        let analysis = BatteryAnalysis(results: Self.results((0..<100).map { (Double($0) + 0.5) / 100 }),
                                       battery: try Self.battery())
        let row = try #require(analysis.rows.first)
        #expect(row.histogram == [Int](repeating: 10, count: 10))
        #expect(row.uniformityChiSquare == 0 && row.uniformityPValue == 1)
        #expect(row.passed == 99 && row.sampleSize == 100)
        #expect(!row.proportionIsSuspicious && !row.uniformityIsSuspicious)
        #expect(analysis.rows.count == 1 + 8, "one row per P-value: Frequency and the eight excursion states")
    }

    @Test func clusteredPValuesFailBothChecks() throws {
        let analysis = BatteryAnalysis(results: Self.results([Double](repeating: 0.005, count: 100)),
                                       battery: try Self.battery())
        let row = analysis.rows[0]
        // All in C1: χ² = (100 − 10)²/10 + 9·10²/10 = 900.
        #expect(row.histogram[0] == 100 && row.uniformityChiSquare == 900)
        #expect(row.uniformityPValue.map { abs($0 - SpecialFunctions.igamc(4.5, 450)) < 1e-300 } == true)
        #expect(row.passed == 0 && row.proportionIsSuspicious && row.uniformityIsSuspicious)
        #expect(analysis.report(generator: "clustered").contains("0/100  *  Frequency"))
    }

    /// §4.2.1's interval against NIST STS's truncated thresholds: 96 of 100 is below 0.960151 but not below ⌊96.015⌋.
    @Test func proportionIntervalAndNISTRounding() throws {
        let pValues = (0..<100).map { $0 < 4 ? 0.001 : 0.5 }
        let specification = BatteryAnalysis(results: Self.results(pValues), battery: try Self.battery())
        #expect(specification.rows[0].passed == 96)
        #expect(specification.rows[0].proportionIsSuspicious)
        #expect(specification.minimumPassCount(sampleSize: 100) == 97)
        var parameters = StatisticalTestParameters()
        parameters.tests = [.frequency, .randomExcursions]
        parameters.constants = .nistSTS
        let nist = BatteryAnalysis(results: Self.results(pValues),
                                   battery: try StatisticalTestBattery(length: 1_000_000, parameters: parameters))
        #expect(!nist.rows[0].proportionIsSuspicious)
        #expect(nist.minimumPassCount(sampleSize: 100) == 96)
        let interval = try #require(specification.rows[0].acceptableProportion)
        let halfWidth = 3 * (0.99 * 0.01 / 100).squareRoot()
        #expect(abs(interval.lowerBound - (0.99 - halfWidth)) < 1e-15)
        #expect(abs(interval.upperBound - (0.99 + halfWidth)) < 1e-15)
        // Expected count per bin: s/10 = 5.5 in the specification, ⌊5.5⌋ = 5 in NIST STS.
        let fiftyFive = (0..<55).map { (Double($0) + 0.5) / 55 }
        let exact = BatteryAnalysis(results: Self.results(fiftyFive), battery: try Self.battery()).rows[0]
        let nistBattery = try StatisticalTestBattery(length: 1_000_000, parameters: parameters)
        let truncated = BatteryAnalysis(results: Self.results(fiftyFive), battery: nistBattery).rows[0]
        let expectedExact = exact.histogram.reduce(0.0) { $0 + (Double($1) - 5.5) * (Double($1) - 5.5) / 5.5 }
        let expectedTruncated = truncated.histogram.reduce(0.0) { $0 + (Double($1) - 5) * (Double($1) - 5) / 5 }
        #expect(abs(exact.uniformityChiSquare! - expectedExact) < 1e-12)
        #expect(abs(truncated.uniformityChiSquare! - expectedTruncated) < 1e-12)
    }

    @Test func notApplicableSequencesAreLeftOut() throws {
        let analysis = BatteryAnalysis(results: Self.results((0..<30).map { (Double($0) + 0.5) / 30 },
                                                             excursionsApply: { $0 % 3 != 0 }),
                                       battery: try Self.battery())
        let excursions = analysis.rows.filter { $0.test == .randomExcursions }
        #expect(excursions.count == 8)
        for row in excursions {
            #expect(row.sampleSize == 20 && row.notApplicable == 10 && row.histogram.reduce(0, +) == 20)
        }
        let report = analysis.report(generator: "test")
        #expect(report.contains("RandomExcursions did not apply to 10 of 30 sequences."))
        #expect(report.contains("is approximately = 19 for a sample size = 20 binary sequences."), "\(report)")
        #expect(report.contains("generator is <test>"))
    }

    @Test func fewerThanTenSequencesHaveNoUniformityPValue() throws {
        let analysis = BatteryAnalysis(results: Self.results([0.3, 0.7]), battery: try Self.battery())
        #expect(analysis.rows[0].uniformityPValue == nil)
        #expect(analysis.report(generator: "two").contains("    ----    "))
    }

    /// The battery and the single-test functions agree, and one battery serves many sequences.
    @Test func batteryMatchesTheSingleTests() throws {
        var generator = Xoshiro256StarStar(seed: 12)
        let battery = try StatisticalTestBattery(length: 200_000)
        for _ in 0..<2 {
            let bits = BitBuffer.random(count: 200_000, using: &generator)
            var timings: [StatisticalTest: Double] = [:]
            let result = battery.run(bits, timings: &timings)
            #expect(result.results.map(\.test) == StatisticalTest.allCases)
            #expect(timings.count == 15 && timings.values.allSatisfy { $0 >= 0 })
            #expect(result[.serial] == SP80022.serial(bits))
            #expect(result[.approximateEntropy] == SP80022.approximateEntropy(bits))
            #expect(result[.discreteFourierTransform] == SP80022.discreteFourierTransform(bits))
            #expect(result[.nonOverlappingTemplateMatching] == SP80022.nonOverlappingTemplateMatching(bits))
            #expect(result[.linearComplexity] == SP80022.linearComplexity(bits))
            for test in StatisticalTest.allCases {
                #expect(battery.subtestNames(test).count == max(result[test]!.subtests.count, 1)
                        || !result[test]!.isApplicable, "\(test)")
            }
        }
    }

    @Test func parametersOutOfRangeAreNamed() {
        var parameters = StatisticalTestParameters()
        parameters.nonOverlappingTemplateLength = 17
        #expect(throws: QRNGError.self) { try StatisticalTestBattery(length: 1000, parameters: parameters) }
        do {
            _ = try StatisticalTestBattery(length: 1000, parameters: parameters)
        } catch {
            #expect(error.code == .invalidArgument && error.context.field == "non-overlapping template length")
        }
        #expect(throws: QRNGError.self) { try StatisticalTestBattery(length: 0) }
    }
}
