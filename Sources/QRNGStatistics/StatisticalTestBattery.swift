import QRNG

/// The fifteen tests of NIST SP 800-22 Rev 1a, prepared for sequences of one length.
///
/// Making a battery computes, once, what every sequence of that length shares: the FFT plan of the spectral
/// test, the aperiodic templates, the class probabilities of the rank and overlapping template tests. ``run(_:)``
/// then tests one sequence on the calling thread; a battery is immutable and `Sendable`, so several threads
/// may test different sequences with one battery.
///
/// ```swift
/// let battery = try StatisticalTestBattery(length: 1_000_000)
/// let results = sequences.map { battery.run($0) }
/// let analysis = BatteryAnalysis(results: results, parameters: battery.parameters)
/// print(analysis.report(generator: "random.bin"))
/// ```
public final class StatisticalTestBattery: Sendable {
    /// The sequence length n in bits.
    public let length: Int
    /// The parameters.
    public let parameters: StatisticalTestParameters

    private let spectral: SpectralTest?
    private let matrixRank: MatrixRankTest?
    private let nonOverlapping: NonOverlappingTemplateTest?
    private let overlapping: OverlappingTemplateTest?

    /// Prepares the tests in `parameters` for sequences of `length` bits.
    ///
    /// - Throws: ``QRNGError/Code/invalidArgument`` naming a parameter out of range.
    public init(length: Int, parameters: StatisticalTestParameters = StatisticalTestParameters()) throws(QRNGError) {
        guard length >= 1 else { throw .invalidArgument("length", "a sequence needs at least one bit") }
        try parameters.validate()
        self.length = length
        self.parameters = parameters
        let tests = parameters.tests
        spectral = tests.contains(.discreteFourierTransform)
            ? SpectralTest(length: length, constants: parameters.constants) : nil
        matrixRank = tests.contains(.rank)
            ? MatrixRankTest(rows: parameters.rankRows, columns: parameters.rankColumns) : nil
        nonOverlapping = tests.contains(.nonOverlappingTemplateMatching)
            ? NonOverlappingTemplateTest(templateLength: parameters.nonOverlappingTemplateLength,
                                         blockCount: parameters.nonOverlappingTemplateBlockCount) : nil
        overlapping = tests.contains(.overlappingTemplateMatching)
            ? OverlappingTemplateTest(templateLength: parameters.overlappingTemplateLength,
                                      blockLength: parameters.overlappingTemplateBlockLength,
                                      constants: parameters.constants) : nil
    }

    /// The tests run, in NIST STS's order.
    public var tests: [StatisticalTest] {
        StatisticalTest.allCases.filter(parameters.tests.contains)
    }

    /// The names of `test`'s sub-tests, in the order of its P-values: what every sequence reports for it.
    public func subtestNames(_ test: StatisticalTest) -> [String] {
        switch test {
        case .cumulativeSums: ["forward", "reverse"]
        case .serial: ["∇ψ²", "∇²ψ²"]
        case .randomExcursions: RandomWalk.excursionStates.map { "x = \($0)" }
        case .randomExcursionsVariant: RandomWalk.variantStates.map { "x = \($0)" }
        case .nonOverlappingTemplateMatching:
            (nonOverlapping?.templates ?? []).map {
                NonOverlappingTemplateTest.name($0, length: parameters.nonOverlappingTemplateLength)
            }
        default: [""]
        }
    }

    /// Runs the selected tests on one sequence of ``length`` bits.
    public func run(_ bits: BitBuffer) -> SequenceResult {
        var timings: [StatisticalTest: Double] = [:]
        return run(bits, timings: &timings, timing: false)
    }

    /// Runs the selected tests on one sequence and adds each test's time in seconds to `timings`.
    public func run(_ bits: BitBuffer, timings: inout [StatisticalTest: Double]) -> SequenceResult {
        run(bits, timings: &timings, timing: true)
    }

    private func run(_ bits: BitBuffer, timings: inout [StatisticalTest: Double], timing: Bool) -> SequenceResult {
        precondition(bits.count == length, "this battery tests \(length)-bit sequences, not \(bits.count)")
        let packed = PackedBits(bits)
        var shared = SharedPasses()
        var results: [TestResult] = []
        let clock = ContinuousClock()
        for test in tests {
            let start = timing ? clock.now : nil
            results.append(run(test, packed, bits, &shared))
            if let start {
                let elapsed = (clock.now - start).components
                timings[test, default: 0] += Double(elapsed.seconds) + Double(elapsed.attoseconds) * 1e-18
            }
        }
        return SequenceResult(length: length, results: results)
    }

    /// The passes over a sequence that two tests share: the random walk and the cyclic pattern counts.
    private struct SharedPasses {
        var walk: RandomWalk?
        var patterns: CyclicPatternCounts?
    }

    private func run(_ test: StatisticalTest, _ packed: PackedBits, _ bits: BitBuffer,
                     _ shared: inout SharedPasses) -> TestResult {
        let p = parameters
        switch test {
        case .frequency: return SP80022.frequency(packed)
        case .blockFrequency: return SP80022.blockFrequency(packed, blockLength: p.blockFrequencyBlockLength)
        case .cumulativeSums: return SP80022.cumulativeSums(packed, constants: p.constants)
        case .runs: return SP80022.runs(packed)
        case .longestRunOfOnes: return SP80022.longestRunOfOnes(packed)
        case .rank: return matrixRank!.run(packed)
        case .discreteFourierTransform: return spectral!.run(packed)
        case .nonOverlappingTemplateMatching: return nonOverlapping!.run(packed)
        case .overlappingTemplateMatching: return overlapping!.run(packed)
        case .universal:
            return SP80022.universal(packed, blockLength: p.universalBlockLength,
                                     initializationBlocks: p.universalInitializationBlocks)
        case .approximateEntropy, .serial:
            if shared.patterns == nil {
                // One tally at the widest width serves both tests.
                var width = 1
                if p.tests.contains(.serial) { width = max(width, p.serialBlockLength) }
                if p.tests.contains(.approximateEntropy) { width = max(width, p.approximateEntropyBlockLength + 1) }
                shared.patterns = CyclicPatternCounts(bits, width: width)
            }
            return test == .serial
                ? SP80022.serial(shared.patterns!, blockLength: p.serialBlockLength)
                : SP80022.approximateEntropy(shared.patterns!, blockLength: p.approximateEntropyBlockLength)
        case .randomExcursions, .randomExcursionsVariant:
            if shared.walk == nil { shared.walk = RandomWalk(packed) }
            return test == .randomExcursions ? shared.walk!.randomExcursions : shared.walk!.randomExcursionsVariant
        case .linearComplexity:
            return SP80022.linearComplexity(packed, blockLength: p.linearComplexityBlockLength, constants: p.constants)
        }
    }
}

/// Runs every test selected in `parameters` on one sequence: the entry point for a one-off run or a
/// benchmark. For many sequences of one length, make one ``StatisticalTestBattery`` and call its `run`.
///
/// - Throws: ``QRNGError/Code/invalidArgument`` naming a parameter out of range.
public func runAllTests(on bits: BitBuffer,
                        parameters: StatisticalTestParameters = StatisticalTestParameters()) throws(QRNGError)
    -> SequenceResult {
    try StatisticalTestBattery(length: bits.count, parameters: parameters).run(bits)
}
