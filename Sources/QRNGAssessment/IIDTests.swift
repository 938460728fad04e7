#if canImport(Glibc)
import Glibc
#endif
import QRNG

/// The results of the tests of SP 800-90B §5 that decide whether samples may be treated as IID.
public struct IIDTestResults: Sendable, Hashable {
    /// A chi-square test (§5.2): it fails when its p-value is below 0.001.
    public struct ChiSquare: Sendable, Hashable {
        /// The chi-square statistic T.
        public let statistic: Double
        /// Its degrees of freedom, as the reference tool counts them (bins − k for independence, 9·(bins − 1) for
        /// goodness of fit, 2^m − 2 and 9 for binary data).
        public let degreesOfFreedom: Int
        /// The upper-tail probability of T: Q(df/2, T/2), 1 when df ≤ 0.
        public var pValue: Double { ChiSquareTests.pValue(statistic: statistic, degreesOfFreedom: degreesOfFreedom) }
        /// Passes unless the p-value is below 0.001.
        public var passed: Bool { !(pValue < 0.001) }
    }

    /// The length of the longest repeated substring test (§5.2.5).
    public struct LongestRepeatedSubstring: Sendable, Hashable {
        /// W, the length of the longest repeated substring.
        public let length: Int
        /// p_col, the probability that two IID samples collide.
        public let collisionProbability: Double
        /// Pr(X ≥ 1), the probability of at least one repeat of length W among the C(L − W + 1, 2) pairs.
        public let probabilityOfRepeat: Double
        /// Passes when Pr(X ≥ 1) ≥ 1/1000.
        public let passed: Bool
    }

    /// One statistic of the permutation tests (§5.1) with the reference tool's counters.
    public struct Permutation: Sendable, Hashable {
        /// The statistic's name as the tool prints it, e.g. `periodicity(8)`.
        public let name: String
        /// The statistic on the original samples.
        public let original: Double
        /// C0, C1, C2: shuffles whose statistic was above, equal to and below the original's.
        public let above: Int
        public let equal: Int
        public let below: Int
        /// Fails when C0 + C1 ≤ 5 or C1 + C2 ≤ 5.
        public let passed: Bool
    }

    /// The independence test (§5.2.1, binary §5.2.3); nil when not run (an alphabet above 4,096 values, past the
    /// reference tool's range).
    public let independence: ChiSquare?
    /// The goodness-of-fit test (§5.2.2, binary §5.2.4).
    public let goodnessOfFit: ChiSquare
    /// The length of the longest repeated substring test (§5.2.5).
    public let longestRepeatedSubstring: LongestRepeatedSubstring
    /// The nineteen permutation-test statistics (§5.1), in the tool's order.
    public let permutation: [Permutation]
    /// How many shuffles were made (at most 10,000; fewer once every statistic was settled).
    public let shuffles: Int

    /// Whether both chi-square tests passed (a test that was not run counts as passed).
    public var chiSquarePassed: Bool { (independence?.passed ?? true) && goodnessOfFit.passed }
    /// Whether every computed permutation statistic passed.
    public var permutationPassed: Bool { permutation.allSatisfy(\.passed) }
    /// Whether the samples may be treated as IID: every test passed.
    public var passed: Bool { chiSquarePassed && longestRepeatedSubstring.passed && permutationPassed }

    var json: String {
        let number = MinEntropyAssessment.Report.number
        func chi(_ test: ChiSquare?) -> String {
            guard let test else { return "null" }
            let statistic = "\"statistic\":" + number(test.statistic)
            let freedom = "\"degrees_of_freedom\":" + String(test.degreesOfFreedom)
            let p = "\"p_value\":" + number(test.pValue)
            return "{" + [statistic, freedom, p, "\"passed\":" + String(test.passed)].joined(separator: ",") + "}"
        }
        let lrs = longestRepeatedSubstring
        let lrsFields: [String] = [
            "\"w\":" + String(lrs.length), "\"p_col\":" + number(lrs.collisionProbability),
            "\"pr_x_ge_1\":" + number(lrs.probabilityOfRepeat), "\"passed\":" + String(lrs.passed),
        ]
        let permutations: [String] = permutation.map { test in
            let fields: [String] = [
                "\"name\":\"" + test.name + "\"", "\"original\":" + number(test.original),
                "\"c0\":" + String(test.above), "\"c1\":" + String(test.equal), "\"c2\":" + String(test.below),
                "\"passed\":" + String(test.passed),
            ]
            return "{" + fields.joined(separator: ",") + "}"
        }
        let fields: [String] = [
            "\"chi_square_independence\":" + chi(independence),
            "\"chi_square_goodness_of_fit\":" + chi(goodnessOfFit),
            "\"lrs\":{" + lrsFields.joined(separator: ",") + "}",
            "\"permutation\":[" + permutations.joined(separator: ",") + "]",
            "\"shuffles\":" + String(shuffles), "\"passed\":" + String(passed),
        ]
        return "{" + fields.joined(separator: ",") + "}"
    }

    var lines: [String] {
        var lines: [String] = []
        func chi(_ name: String, _ test: ChiSquare?) {
            guard let test else {
                lines.append("Chi square \(name): not run (more than 4096 distinct values)")
                return
            }
            lines.append(
                "Chi square \(name): score = \(test.statistic), degrees of freedom = \(test.degreesOfFreedom), "
                    + "p-value = \(test.pValue) (\(test.passed ? "passed" : "FAILED"))")
        }
        chi("independence", independence)
        chi("goodness of fit", goodnessOfFit)
        lines.append("** \(chiSquarePassed ? "Passed" : "Failed") chi square tests")
        let lrs = longestRepeatedSubstring
        lines.append("Longest repeated substring: W = \(lrs.length), P_col = \(lrs.collisionProbability), "
            + "Pr(X >= 1) = \(lrs.probabilityOfRepeat)")
        lines.append("** \(lrs.passed ? "Passed" : "Failed") length of longest repeated substring test")
        lines.append("Permutation tests (\(shuffles) shuffles):")
        lines.append("                statistic  C[i][0]  C[i][1]  C[i][2]")
        for test in permutation {
            let mark = test.passed ? " " : "*"
            let name: String = String(repeating: " ", count: max(0, 24 - test.name.count)) + test.name + mark
            func column(_ value: Int) -> String {
                let text = String(value)
                return String(repeating: " ", count: max(0, 8 - text.count)) + text
            }
            lines.append(name + column(test.above) + column(test.equal) + column(test.below))
        }
        lines.append("(* denotes failed test)")
        lines.append("** \(permutationPassed ? "Passed" : "Failed") IID permutation tests")
        return lines
    }
}

enum LongestRepeatedSubstringTest {
    /// §5.2.5 as the tool computes it: p_col = Σ p_i² in `long double`; passes when p_col ≈ 1 or when
    /// log(0.999) ≥ C(L − W + 1, 2)·log(1 − p_col^W).
    static func run(_ s: UnsafeBufferPointer<UInt16>, alphabetSize k: Int) -> IIDTestResults.LongestRepeatedSubstring {
        let n = s.count
        let p = ChiSquareTests.proportions(s, alphabetSize: k)
        var collision: Extended = 0
        for value in p { collision += Extended(value) * Extended(value) }
        let lcp = SuffixSorting.lcpArray(s, alphabetSize: k)
        let w = Int(lcp.max() ?? 0)
        if collision > 1 - extendedEpsilon {
            return .init(length: w, collisionProbability: Double(collision), probabilityOfRepeat: 1, passed: true)
        }
        let power = extendedPow(collision, Extended(w))
        let logNoRepeat = extendedLog1p(-power)
        let pairs = Extended(n - w + 1) * Extended(n - w) / 2
        let probability = 1 - Double(exp(Double(pairs * logNoRepeat)))
        let passed = extendedLog(0.999) >= pairs * logNoRepeat
        return .init(
            length: w, collisionProbability: Double(collision), probabilityOfRepeat: probability, passed: passed)
    }
}

extension MinEntropyAssessment {
    /// Runs the IID track of SP 800-90B: the §5 tests, and the Most Common Value estimate (§6.3.1) on the samples
    /// and, for samples wider than one bit, on their bit string.
    ///
    /// The report's ``Report/minEntropy`` is min(H_original, k × H_bitstring) whatever the tests say; it is the
    /// entropy of an IID source only when ``IIDTestResults/passed`` is true, and otherwise the non-IID track applies.
    /// - Parameters:
    ///   - samples: The raw samples, each less than 2^`bitsPerSample`.
    ///   - bitsPerSample: The sample width k, 1 to 16.
    ///   - options: Initial or conditioned assessment, and whether to truncate the bit string.
    ///   - generator: Shuffles for the permutation tests.
    public static func iid<G: RandomNumberGenerator>(
        samples: [UInt16], bitsPerSample: Int, options: Options = Options(), using generator: inout G
    ) throws -> Report {
        let input = try prepared(samples: samples, bitsPerSample: bitsPerSample)
        let k = input.alphabetSize
        var original: [Estimate] = []
        if options.mode == .initial {
            original = input.symbols.withUnsafeBufferPointer { [mostCommonValueEstimate($0, alphabetSize: k)] }
        }
        var bitEstimates: [Estimate] = []
        var bitLength = 0
        if k > 2 || options.mode == .conditioned {
            var bits = input.bitString()
            if options.truncateBitString && bits.count > 1_000_000 { bits.removeLast(bits.count - 1_000_000) }
            bitLength = bits.count
            bitEstimates = bits.withUnsafeBufferPointer { [mostCommonValueEstimate($0, alphabetSize: 2)] }
        }
        let tests = iidTests(
            symbols: input.symbols, raw: input.raw, alphabetSize: k, shuffles: options.permutationShuffles,
            using: &generator)
        return report(
            track: .iid, mode: options.mode, input: input, original: original, bits: bitEstimates,
            bitLength: bitLength, iid: tests)
    }

    /// Runs the IID track with the shuffles drawn from xoshiro256** seeded with `seed`, or from the system's
    /// generator when `seed` is nil.
    public static func iid(
        samples: [UInt16], bitsPerSample: Int, options: Options = Options(), seed: UInt64? = nil
    ) throws -> Report {
        var system = SystemRandomNumberGenerator()
        var generator = Xoshiro256StarStar(seed: seed ?? system.next())
        return try iid(samples: samples, bitsPerSample: bitsPerSample, options: options, using: &generator)
    }
}
