import QRNG

/// The fifteen tests of NIST SP 800-22 Rev 1a, one function each, for callers that want a single test.
///
/// Each takes a ``BitBuffer`` (bit 0 first) and the test's parameters, with the standard's defaults, and
/// returns a ``TestResult`` with one ``SubtestResult`` per P-value. To run the whole battery on many
/// sequences of one length, build a ``StatisticalTestBattery`` once instead: it prepares the tables, template
/// lists and FFT plan a single time.
public enum SP80022 {}

/// One of the fifteen tests of NIST SP 800-22 Rev 1a, in the order NIST STS numbers and reports them.
public enum StatisticalTest: Int, CaseIterable, Sendable, Hashable, Codable, CustomStringConvertible {
    case frequency = 1
    case blockFrequency
    case cumulativeSums
    case runs
    case longestRunOfOnes
    case rank
    case discreteFourierTransform
    case nonOverlappingTemplateMatching
    case overlappingTemplateMatching
    case universal
    case approximateEntropy
    case randomExcursions
    case randomExcursionsVariant
    case serial
    case linearComplexity

    /// The name NIST STS gives the test in `finalAnalysisReport.txt`, such as `FFT` or `LongestRun`.
    public var reportName: String {
        switch self {
        case .frequency: "Frequency"
        case .blockFrequency: "BlockFrequency"
        case .cumulativeSums: "CumulativeSums"
        case .runs: "Runs"
        case .longestRunOfOnes: "LongestRun"
        case .rank: "Rank"
        case .discreteFourierTransform: "FFT"
        case .nonOverlappingTemplateMatching: "NonOverlappingTemplate"
        case .overlappingTemplateMatching: "OverlappingTemplate"
        case .universal: "Universal"
        case .approximateEntropy: "ApproximateEntropy"
        case .randomExcursions: "RandomExcursions"
        case .randomExcursionsVariant: "RandomExcursionsVariant"
        case .serial: "Serial"
        case .linearComplexity: "LinearComplexity"
        }
    }

    /// The section of SP 800-22 Rev 1a that defines the test.
    public var section: String { "2.\(rawValue)" }

    /// The test's title in SP 800-22 Rev 1a.
    public var title: String {
        switch self {
        case .frequency: "Frequency (Monobit) Test"
        case .blockFrequency: "Frequency Test within a Block"
        case .cumulativeSums: "Cumulative Sums (Cusum) Test"
        case .runs: "Runs Test"
        case .longestRunOfOnes: "Test for the Longest Run of Ones in a Block"
        case .rank: "Binary Matrix Rank Test"
        case .discreteFourierTransform: "Discrete Fourier Transform (Spectral) Test"
        case .nonOverlappingTemplateMatching: "Non-overlapping Template Matching Test"
        case .overlappingTemplateMatching: "Overlapping Template Matching Test"
        case .universal: "Maurer's \"Universal Statistical\" Test"
        case .approximateEntropy: "Approximate Entropy Test"
        case .randomExcursions: "Random Excursions Test"
        case .randomExcursionsVariant: "Random Excursions Variant Test"
        case .serial: "Serial Test"
        case .linearComplexity: "Linear Complexity Test"
        }
    }

    /// The name used on the command line, such as `block-frequency`.
    public var commandLineName: String {
        switch self {
        case .frequency: "frequency"
        case .blockFrequency: "block-frequency"
        case .cumulativeSums: "cumulative-sums"
        case .runs: "runs"
        case .longestRunOfOnes: "longest-run"
        case .rank: "rank"
        case .discreteFourierTransform: "fft"
        case .nonOverlappingTemplateMatching: "non-overlapping-template"
        case .overlappingTemplateMatching: "overlapping-template"
        case .universal: "universal"
        case .approximateEntropy: "approximate-entropy"
        case .randomExcursions: "random-excursions"
        case .randomExcursionsVariant: "random-excursions-variant"
        case .serial: "serial"
        case .linearComplexity: "linear-complexity"
        }
    }

    /// The test named `name` on the command line or in a report (case is ignored), if any.
    public init?(name: String) {
        let lowered = name.lowercased()
        guard let test = Self.allCases.first(where: {
            $0.commandLineName == lowered || $0.reportName.lowercased() == lowered
        }) else { return nil }
        self = test
    }

    public var description: String { reportName }
}

/// The statistic and P-value of one of a test's sub-tests.
///
/// Most tests give one P-value. The cumulative sums test gives two (forward, reverse), the serial test two
/// (∇ψ², ∇²ψ²), the non-overlapping template test one per template, the random excursions test one per state
/// x = −4…4 and its variant one per state x = −9…9; each of these is a sub-test with a ``name``.
public struct SubtestResult: Sendable, Hashable, Codable {
    /// The sub-test: empty for a test with one P-value, else e.g. `forward`, `x = -4`, `B = 000000001`.
    public var name: String
    /// The test statistic the P-value is computed from (χ², z, d, ψ² differences, visit counts …).
    public var statistic: Double
    /// The P-value.
    public var pValue: Double

    public init(name: String = "", statistic: Double, pValue: Double) {
        self.name = name
        self.statistic = statistic
        self.pValue = pValue
    }
}

/// What one test found in one sequence: its sub-tests' P-values, or why it does not apply.
///
/// A test does not apply when the sequence is too short for its parameters, or, for the random excursions
/// tests, when the random walk has fewer than max(0.005·√n, 500) cycles (SP 800-22 §2.14.7, as NIST STS
/// decides it). Such a sequence is left out of the test's proportion and uniformity analysis.
public struct TestResult: Sendable, Hashable, Codable {
    /// The test.
    public var test: StatisticalTest
    /// One entry per P-value, in NIST STS's order; empty when the test does not apply.
    public var subtests: [SubtestResult]
    /// Why the test does not apply to this sequence, or `nil` when it does.
    public var notApplicable: String?

    public init(test: StatisticalTest, subtests: [SubtestResult]) {
        self.test = test
        self.subtests = subtests
        self.notApplicable = nil
    }

    /// A result for a sequence the test does not apply to.
    public static func notApplicable(_ test: StatisticalTest, _ reason: String) -> TestResult {
        var result = TestResult(test: test, subtests: [])
        result.notApplicable = reason
        return result
    }

    /// Whether the test applied to the sequence.
    public var isApplicable: Bool { notApplicable == nil }

    /// The P-values, one per sub-test.
    public var pValues: [Double] { subtests.map(\.pValue) }

    /// The P-value of the sub-test named `name`.
    public func pValue(_ name: String) -> Double? {
        subtests.first { $0.name == name }?.pValue
    }
}

/// All the tests' results for one sequence.
public struct SequenceResult: Sendable, Hashable, Codable {
    /// The sequence's length n in bits.
    public var length: Int
    /// One result per test run, in NIST STS's order.
    public var results: [TestResult]

    public init(length: Int, results: [TestResult]) {
        self.length = length
        self.results = results
    }

    /// The result of `test`, if it was run.
    public subscript(test: StatisticalTest) -> TestResult? {
        results.first { $0.test == test }
    }
}
