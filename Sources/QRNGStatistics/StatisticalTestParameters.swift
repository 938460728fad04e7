import QRNG

/// Which published constants to use where SP 800-22 Rev 1a's text and NIST STS 2.1.2's code disagree.
///
/// The two disagree in four places. The text is the standard, so it is the default; the code's constants
/// reproduce the P-values NIST published in the standard's examples and Appendix B (which were computed by
/// the code) and those of tools built on the code, such as `sp80022suite`.
public enum ReferenceConstants: String, Sendable, Hashable, Codable, CaseIterable {
    /// The constants of SP 800-22 Rev 1a's text:
    /// - overlapping template test: the exact class probabilities of §3.8 (π₀ = 0.364091, … for m = 9,
    ///   M = 1032), computed here for any m and M;
    /// - linear complexity test: π₀ = 0.010417 (§2.10.4 step 6, = 1/96);
    /// - spectral test: the threshold T = √(ln(1/0.05)·n);
    /// - cumulative sums test: the summation limits ⌊(±n/z + c)/4⌋ of §2.13.4 step 4.
    case specification
    /// The constants of NIST STS 2.1.2's code:
    /// - overlapping template test: the class probabilities of the code's `Pr(u, η)`, the approximation of
    ///   SP 800-22 Rev 1 that Rev 1a's §3.8 corrected (π₀ = 0.367879, …);
    /// - linear complexity test: π₀ = 0.01047, a typo in `linearComplexity.c`;
    /// - spectral test: T = √(2.995732274·n), ln 20 cut to ten digits;
    /// - cumulative sums test: the limits in C integer arithmetic, quotients truncated toward zero (which
    ///   matters only for short sequences: it gives §2.13.4's 0.4116588).
    ///
    /// The battery analysis then also rounds as NIST STS's `assess.c` does (see ``BatteryAnalysis``).
    case nistSTS
}

/// The parameters of the battery, with SP 800-22 Rev 1a's and NIST STS's defaults.
///
/// The six that NIST STS lets its user change are here under the same meaning: the block frequency test's
/// M, the two template tests' m, the approximate entropy and serial tests' m, and the linear complexity
/// test's M. The others have their fixed NIST STS values, and can be changed for experiments and for the
/// standard's small worked examples.
public struct StatisticalTestParameters: Sendable, Hashable, Codable {
    /// The tests to run; NIST STS's order is kept whatever the order here.
    public var tests: Set<StatisticalTest> = Set(StatisticalTest.allCases)
    /// The significance level α: a P-value below it is a failure (§1.1.5, §4.2.1).
    public var significanceLevel = 0.01
    /// Which constants to use where the standard's text and NIST STS's code disagree.
    public var constants = ReferenceConstants.specification

    /// Block frequency test: the block length M (§2.2; NIST STS default 128).
    public var blockFrequencyBlockLength = 128
    /// Binary matrix rank test: the rows M and columns Q of each matrix (§2.5; 32 × 32, at most 64 columns).
    public var rankRows = 32
    public var rankColumns = 32
    /// Non-overlapping template test: the template length m (§2.7; 9). Every aperiodic template of this
    /// length is tested.
    public var nonOverlappingTemplateLength = 9
    /// Non-overlapping template test: the number of blocks N (§2.7; NIST STS fixes 8).
    public var nonOverlappingTemplateBlockCount = 8
    /// Overlapping template test: the length m of the all-ones template (§2.8; 9).
    public var overlappingTemplateLength = 9
    /// Overlapping template test: the block length M (§2.8; NIST STS fixes 1032).
    public var overlappingTemplateBlockLength = 1032
    /// Universal test: the block length L and the number Q of initialization blocks, or `nil` for the values
    /// §2.9.7's table gives for the sequence length (L = 7, Q = 1280 for n = 10⁶).
    public var universalBlockLength: Int?
    public var universalInitializationBlocks: Int?
    /// Approximate entropy test: the block length m (§2.12; 10).
    public var approximateEntropyBlockLength = 10
    /// Serial test: the block length m (§2.11; 16).
    public var serialBlockLength = 16
    /// Linear complexity test: the block length M (§2.10; 500).
    public var linearComplexityBlockLength = 500

    /// NIST STS's defaults.
    public init() {}

    private enum CodingKeys: String, CodingKey {
        case tests, significanceLevel, constants, blockFrequencyBlockLength, rankRows, rankColumns
        case nonOverlappingTemplateLength, nonOverlappingTemplateBlockCount, overlappingTemplateLength
        case overlappingTemplateBlockLength, universalBlockLength, universalInitializationBlocks
        case approximateEntropyBlockLength, serialBlockLength, linearComplexityBlockLength
    }

    /// Encodes the tests in NIST STS's order, so that the same parameters always encode the same way.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(StatisticalTest.allCases.filter(tests.contains), forKey: .tests)
        try container.encode(significanceLevel, forKey: .significanceLevel)
        try container.encode(constants, forKey: .constants)
        try container.encode(blockFrequencyBlockLength, forKey: .blockFrequencyBlockLength)
        try container.encode(rankRows, forKey: .rankRows)
        try container.encode(rankColumns, forKey: .rankColumns)
        try container.encode(nonOverlappingTemplateLength, forKey: .nonOverlappingTemplateLength)
        try container.encode(nonOverlappingTemplateBlockCount, forKey: .nonOverlappingTemplateBlockCount)
        try container.encode(overlappingTemplateLength, forKey: .overlappingTemplateLength)
        try container.encode(overlappingTemplateBlockLength, forKey: .overlappingTemplateBlockLength)
        try container.encodeIfPresent(universalBlockLength, forKey: .universalBlockLength)
        try container.encodeIfPresent(universalInitializationBlocks, forKey: .universalInitializationBlocks)
        try container.encode(approximateEntropyBlockLength, forKey: .approximateEntropyBlockLength)
        try container.encode(serialBlockLength, forKey: .serialBlockLength)
        try container.encode(linearComplexityBlockLength, forKey: .linearComplexityBlockLength)
    }

    /// Checks every parameter's range, naming the first one out of range.
    public func validate() throws(QRNGError) {
        func check(_ condition: Bool, _ field: String, _ message: String) throws(QRNGError) {
            if !condition { throw .invalidArgument(field, message) }
        }
        try check(significanceLevel > 0 && significanceLevel < 1, "significance level",
                  "must be in (0, 1), got \(significanceLevel)")
        try check(blockFrequencyBlockLength >= 1, "block frequency block length",
                  "must be at least 1, got \(blockFrequencyBlockLength)")
        try check(rankRows >= 2 && rankRows <= 64 && rankColumns >= 2 && rankColumns <= 64, "rank matrix size",
                  "rows and columns must be 2…64, got \(rankRows) × \(rankColumns)")
        try check((2...16).contains(nonOverlappingTemplateLength), "non-overlapping template length",
                  "must be 2…16, got \(nonOverlappingTemplateLength)")
        try check(nonOverlappingTemplateBlockCount >= 1, "non-overlapping template block count",
                  "must be at least 1, got \(nonOverlappingTemplateBlockCount)")
        try check((1...31).contains(overlappingTemplateLength), "overlapping template length",
                  "must be 1…31, got \(overlappingTemplateLength)")
        try check(overlappingTemplateBlockLength >= overlappingTemplateLength, "overlapping template block length",
                  "must be at least the template length, got \(overlappingTemplateBlockLength)")
        if let universalBlockLength {
            try check((1...16).contains(universalBlockLength), "universal block length",
                      "must be 1…16 (§2.9.7's table), got \(universalBlockLength)")
        }
        if let universalInitializationBlocks {
            try check(universalInitializationBlocks >= 1, "universal initialization blocks",
                      "must be at least 1, got \(universalInitializationBlocks)")
        }
        try check((1...24).contains(approximateEntropyBlockLength), "approximate entropy block length",
                  "must be 1…24, got \(approximateEntropyBlockLength)")
        try check((1...24).contains(serialBlockLength), "serial block length",
                  "must be 1…24, got \(serialBlockLength)")
        try check(linearComplexityBlockLength >= 1 && linearComplexityBlockLength <= 1 << 16,
                  "linear complexity block length", "must be 1…65536, got \(linearComplexityBlockLength)")
    }
}
