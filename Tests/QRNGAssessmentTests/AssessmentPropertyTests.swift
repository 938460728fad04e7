#if canImport(Glibc)
import Glibc
#endif
@testable import QRNG
@testable import QRNGAssessment
import QRNGTestSupport
import Testing

/// Random-data checks with fixed seeds: every fast path against the plain method it replaces, and the API's rules.
@Suite struct AssessmentPropertyTests {
    static func bits(_ count: Int, probability: Double, seed: UInt64) -> [UInt8] {
        var generator = Xoshiro256StarStar(seed: seed)
        return (0..<count).map { _ in generator.nextOpenUnitInterval() <= probability ? 1 : 0 }
    }

    static func bytes(_ count: Int, range: Int = 256, seed: UInt64) -> [UInt16] {
        var generator = Xoshiro256StarStar(seed: seed)
        return (0..<count).map { _ in UInt16(generator.next() % UInt64(range)) }
    }

    /// Bits in runs of random length 1…40: long repeats and many ties.
    static func runs(_ count: Int, seed: UInt64) -> [UInt8] {
        var generator = Xoshiro256StarStar(seed: seed)
        var result: [UInt8] = []
        while result.count < count {
            result += [UInt8](repeating: UInt8(generator.next() & 1), count: Int(generator.next() % 40) + 1)
        }
        return Array(result.prefix(count))
    }

    // MARK: suffix sorting

    @Test(arguments: [(0.5, 1), (0.9, 2), (0.99, 3)])
    func windowedLCPMatchesSuffixArray(_ probability: Double, _ seed: UInt64) {
        let data = Self.bits(60_000, probability: probability, seed: seed)
        data.withUnsafeBufferPointer { s in
            let exact = SuffixSorting.lcpFromSuffixArray(s, alphabetSize: 2)
            if let fast = SuffixSorting.lcpFromWindows(s, alphabetSize: 2) {
                #expect(fast == exact)
            } else {
                // Only when a repeat reaches a whole key.
                #expect((exact.max() ?? 0) >= 64)
            }
        }
        let symbols = Self.bytes(40_000, range: 5, seed: seed)
        symbols.withUnsafeBufferPointer { s in
            let exact = SuffixSorting.lcpFromSuffixArray(s, alphabetSize: 5)
            let fast = SuffixSorting.lcpFromWindows(s, alphabetSize: 5)
            #expect(fast == nil || fast == exact)
        }
    }

    @Test func suffixArrayIsSorted() {
        var text = Self.bytes(3000, range: 3, seed: 9).map { Int32($0) + 1 }
        text += text.prefix(500)  // a long repeat
        text.append(0)
        let sa = SuffixSorting.suffixArray(text, alphabetSize: 4)
        #expect(Set(sa).count == text.count)
        for r in 1..<sa.count {
            let a = text[Int(sa[r - 1])...]
            let b = text[Int(sa[r])...]
            #expect(a.lexicographicallyPrecedes(b), "suffixes at ranks \(r - 1) and \(r) out of order")
        }
    }

    @Test func repeatCountsMatchDirectCounting() {
        let data = Self.bytes(2000, range: 3, seed: 4)
        let lcp = data.withUnsafeBufferPointer { SuffixSorting.lcpArray($0, alphabetSize: 3) }
        let counts = RepeatCounts(lcp: lcp)
        for t in 1...min(counts.longestRepeat, 8) {
            var tuples: [[UInt16]: Int] = [:]
            for i in 0...(data.count - t) { tuples[Array(data[i..<(i + t)]), default: 0] += 1 }
            #expect(counts.mostCommon[t] == tuples.values.max()!, "Q[\(t)]")
            #expect(counts.equalPairs[t] == UInt64(tuples.values.reduce(0) { $0 + $1 * ($1 - 1) / 2 }), "S[\(t)]")
        }
    }

    // MARK: binary fast paths against the general ones

    @Test(arguments: [(0.5, 11), (0.8, 12)])
    func binaryLagMatchesGeneral(_ probability: Double, _ seed: UInt64) {
        for data in [Self.bits(100_000, probability: probability, seed: seed), Self.runs(50_000, seed: seed)] {
            data.withUnsafeBufferPointer { s in
                let fast = binaryLagTally(s)
                let plain = lagTally(s, alphabetSize: 2)
                #expect(fast.correct == plain.correct && fast.longestRun == plain.longestRun)
            }
        }
    }

    @Test(arguments: [(0.5, 21), (0.7, 22)])
    func binaryContextPredictorsMatchDictionaries(_ probability: Double, _ seed: UInt64) {
        for data in [Self.bits(40_000, probability: probability, seed: seed), Self.runs(30_000, seed: seed)] {
            data.withUnsafeBufferPointer { s in
                let fast = binaryContextPredictorTallies(s)
                let mmc = multiMMCTally(s)
                let lz = lz78yTally(s)
                #expect(fast.multiMMC.correct == mmc.correct && fast.multiMMC.longestRun == mmc.longestRun)
                #expect(fast.lz78y.correct == lz.correct && fast.lz78y.longestRun == lz.longestRun)
            }
        }
    }

    @Test func binaryMultiMCWMatchesGeneral() {
        let data = Self.bits(30_000, probability: 0.6, seed: 31)
        data.withUnsafeBufferPointer { s in
            let fast = multiMCWEstimate(s, alphabetSize: 2)
            // An alphabet size of 3 sends the same bits down the general path (only the 1/k floor differs).
            let general = multiMCWEstimate(s, alphabetSize: 3, windows: [63, 255, 1023, 4095])
            #expect(fast.details.first { $0.name == "C" } == general.details.first { $0.name == "C" })
        }
    }

    @Test func compressionExpectationMatchesDoubleSum() {
        let g = CompressionExpectation(blockCount: 1300, dictionarySize: 1000)
        for z in [1.0 / 64, 0.03, 0.2, 0.7] {
            var total = 0.0
            for t in 1001...1300 {
                for u in 1..<t { total += log2(Double(u)) * z * z * pow(1 - z, Double(u - 1)) }
                total += log2(Double(t)) * z * pow(1 - z, Double(t - 1))
            }
            total /= 300
            #expect(abs(g.value(z) - total) <= 1e-12 * total, "G(\(z)) = \(g.value(z)), direct \(total)")
        }
    }

    // MARK: the API

    @Test func rejectsBadInput() {
        #expect(throws: QRNGError.self) { try MinEntropyAssessment.nonIID(samples: [0, 1, 2], bitsPerSample: 17) }
        #expect { try MinEntropyAssessment.nonIID(samples: [0, 1, 300, 2], bitsPerSample: 8) } throws: { error in
            guard let error = error as? QRNGError else { return false }
            return error.code == .invalidInput && error.context.sampleOffset == 2
        }
        #expect { try MinEntropyAssessment.nonIID(samples: [7, 7, 7, 7], bitsPerSample: 3) } throws: { error in
            (error as? QRNGError)?.code == .invalidInput
        }
    }

    @Test func twoValuesInWideSamplesAreAssessedAsBinary() throws {
        var generator = Xoshiro256StarStar(seed: 5)
        let samples: [UInt16] = (0..<20_000).map { _ in generator.next() & 1 == 0 ? 0x0F : 0xF0 }
        let report = try MinEntropyAssessment.nonIID(samples: samples, bitsPerSample: 8)
        #expect(report.alphabetSize == 2)
        #expect(report.bitStringEstimates.isEmpty && report.hBitString == nil)
        #expect(report.originalEstimates.map(\.estimator) == Estimate.Estimator.allCases)
        #expect(report.minEntropy == report.hOriginal)
        #expect(report.minEntropy <= 1)
    }

    @Test func conditionedModeAssessesOnlyTheBitString() throws {
        let samples = Self.bytes(20_000, range: 16, seed: 6)
        let report = try MinEntropyAssessment.nonIID(
            samples: samples, bitsPerSample: 4, options: .init(mode: .conditioned))
        #expect(report.originalEstimates.isEmpty && report.hOriginal == nil)
        let h = try #require(report.hBitString)
        #expect(report.minEntropy == min(4, 4 * h))
        #expect(report.bitStringLength == 80_000)
    }

    @Test func finalEstimateIsTheMinimumAndJSONHasEveryField() throws {
        let samples = Self.bytes(12_000, range: 200, seed: 8)
        let report = try MinEntropyAssessment.nonIID(samples: samples, bitsPerSample: 8)
        let hOriginal = try #require(report.hOriginal)
        let hBits = try #require(report.hBitString)
        #expect(report.minEntropy == min(8, hOriginal, 8 * hBits))
        #expect(hOriginal == report.originalEstimates.compactMap(\.minEntropy).min())
        #expect(abs(report.minEntropyPerBit * 8 - report.minEntropy) < 1e-12)
        let json = report.json
        for key in ["\"h_original\":", "\"h_bitstring\":", "\"min_entropy\":", "\"bits_per_sample\":8"]
            + Estimate.Estimator.allCases.map({ "\"\($0.rawValue)\":{" }) {
            #expect(json.contains(key), "JSON lacks \(key)")
        }
        #expect(report.text.contains("Assessed min-entropy"))
    }

    @Test func sixteenBitSamples() throws {
        // Wider than the reference tool allows: the same definitions, a dense alphabet of the values that occur.
        let samples = Self.bytes(20_000, range: 5000, seed: 12).map { $0 * 13 }
        let report = try MinEntropyAssessment.nonIID(samples: samples, bitsPerSample: 16)
        #expect(report.alphabetSize <= 5000 && report.bitStringLength == 320_000)
        #expect(report.minEntropy > 0 && report.minEntropy <= 16)
    }

    // MARK: IID track and restart tests

    @Test func iidTrackPassesIIDDataAndFailsASawtooth() throws {
        let random = try MinEntropyAssessment.iid(
            samples: Self.bytes(20_000, range: 16, seed: 40), bitsPerSample: 4, seed: 1)
        let tests = try #require(random.iidTests)
        #expect(tests.permutationPassed && tests.longestRepeatedSubstring.passed)
        #expect(random.originalEstimates.count == 1 && random.bitStringEstimates.count == 1)
        let sawtooth = (0..<4000).map { UInt16(($0 / 3) % 16) }
        var options = MinEntropyAssessment.Options()
        options.permutationShuffles = 200
        let failing = try #require(
            try MinEntropyAssessment.iid(samples: sawtooth, bitsPerSample: 4, options: options, seed: 1).iidTests)
        #expect(!failing.permutationPassed && !failing.passed)
    }

    @Test func restartCutoffMatchesBinomialForTwoValues() {
        // p = 1/2: two values, so the largest count is max(N, 1000 − N) with N ~ Binomial(1000, 1/2).
        for x in [520, 540, 560] {
            var inside = 0.0
            for n in (1000 - x)...x {
                inside += exp(lgamma(1001) - lgamma(Double(n) + 1) - lgamma(Double(1000 - n) + 1) - 1000 * log(2.0))
            }
            let cdf = MinEntropyAssessment.maximumCountCDF(x: x, n: 1000, p: 0.5, copies: 2, residual: 0)
            #expect(abs(cdf - inside) < 1e-9, "x = \(x): \(cdf) against \(inside)")
        }
        let alpha = 1 - exp(log(0.99) / 2000)
        let cutoff = MinEntropyAssessment.restartCutoff(initialEntropy: 1, samples: 1000, alpha: alpha)
        #expect(MinEntropyAssessment.maximumCountCDF(x: cutoff, n: 1000, p: 0.5, copies: 2, residual: 0) >= 1 - alpha)
        let below = MinEntropyAssessment.maximumCountCDF(x: cutoff - 1, n: 1000, p: 0.5, copies: 2, residual: 0)
        #expect(below < 1 - alpha)
    }

    @Test func restartCutoffForANearUniformDistribution() {
        // H_I = 1.748746: three values of probability p = 2^−H_I ≈ 0.2977 and one with the rest. A separate
        // 40-digit mpmath computation of the same multinomial gives P(max > 365) = 5.94e-6 and P(max > 366) =
        // 4.30e-6 against α = 1 − 0.99^{1/2000} = 5.03e-6, so the cutoff is 366 (the reference tool's 5,000,000-round
        // simulation estimates it, and returned 365 on one run: its tail count at 365 is Poisson with mean 29.7
        // against a threshold of 25.1).
        let alpha = 1 - exp(log(0.99) / 2000)
        #expect(MinEntropyAssessment.restartCutoff(initialEntropy: 1.748746, samples: 1000, alpha: alpha) == 366)
        let p = pow(2.0, -1.748746)
        let tail = 1 - MinEntropyAssessment.maximumCountCDF(x: 365, n: 1000, p: p, copies: 3, residual: 1 - 3 * p)
        #expect(abs(tail - 5.9437529e-6) < 1e-11, "P(max > 365) = \(tail)")
    }

    @Test func restartTestsValidateIIDRestarts() throws {
        #expect(throws: QRNGError.self) {
            try MinEntropyAssessment.restartTests(matrix: [0, 1, 2], bitsPerSample: 2, initialEntropy: 1)
        }
        // 300 × 300 instead of the standard's 1000 × 1000 keeps the test quick in debug builds.
        let side = 300
        let matrix = Self.bytes(side * side, range: 4, seed: 77)
        let report = try MinEntropyAssessment.restartTests(
            matrix: matrix, side: side, bitsPerSample: 2, initialEntropy: 1.9, track: .nonIID, seed: nil)
        #expect(report.sanityCheckPassed && report.passed)
        let validated = try #require(report.validatedEntropy)
        #expect(validated <= 1.9 && validated > 1.5)
        #expect(report.json.contains("\"validated_min_entropy\":"))
        // A source that restarts into the same state: every row is the same sequence.
        let row = Self.bytes(side, range: 4, seed: 78)
        let stuck = try MinEntropyAssessment.restartTests(
            matrix: Array((0..<side).map { _ in row }.joined()), side: side, bitsPerSample: 2, initialEntropy: 1.9,
            track: .nonIID, seed: nil)
        #expect(!stuck.passed && !stuck.sanityCheckPassed)
    }
}

@Suite struct AssessmentSampleBufferTests {
    @Test func sampleBuffersGiveTheSameReport() throws {
        let values = AssessmentPropertyTests.bytes(10_000, range: 16, seed: 90)
        let fromBuffer = try MinEntropyAssessment.nonIID(SampleBuffer(values: values, bitsPerSample: 4))
        #expect(fromBuffer == (try MinEntropyAssessment.nonIID(samples: values, bitsPerSample: 4)))
        var bits = BitBuffer()
        for value in values { bits.append(value & 1 == 1) }
        let binary = try MinEntropyAssessment.nonIID(SampleBuffer(bits: bits))
        #expect(binary.bitsPerSample == 1 && binary.sampleCount == 10_000)
        #expect(binary == (try MinEntropyAssessment.nonIID(samples: values.map { $0 & 1 }, bitsPerSample: 1)))
    }
}
