import QRNG

/// The analysis of a battery run on many sequences, as SP 800-22 §4.2 defines it and NIST STS reports it in
/// `finalAnalysisReport.txt`.
///
/// For every P-value a test produces (every sub-test: each template, state, direction), over the sequences
/// the test applied to:
/// - the **proportion** of sequences passing (P-value ≥ α), judged against the interval
///   p̂ ± 3√(p̂(1 − p̂)/s), p̂ = 1 − α (§4.2.1);
/// - the **uniformity** of the P-values: their histogram over ten bins [0, 0.1) … [0.9, 1], χ² = Σ (Fᵢ − s/10)²
///   / (s/10) and P-value_T = igamc(9/2, χ²/2), suspicious below 0.0001 (§4.2.2). It needs at least ten
///   sequences, as in NIST STS; §4.2.2 recommends at least 55.
///
/// Sequences a test does not apply to (the random excursions tests with too few cycles, for one) are counted
/// apart and left out of both, as NIST STS does.
public struct BatteryAnalysis: Sendable, Hashable, Codable {
    /// One line of the analysis: one P-value of one test, over all sequences.
    public struct Row: Sendable, Hashable, Codable {
        /// The test.
        public var test: StatisticalTest
        /// The sub-test (empty for a test with one P-value).
        public var subtest: String
        /// The P-values in each tenth of [0, 1]: C1 … C10 in NIST STS's report.
        public var histogram: [Int]
        /// The χ² of the histogram against a uniform one, when there are at least ten P-values.
        public var uniformityChiSquare: Double?
        /// P-value_T, when there are at least ten P-values.
        public var uniformityPValue: Double?
        /// The sequences that passed: P-value ≥ α.
        public var passed: Int
        /// The sequences the test applied to, s.
        public var sampleSize: Int
        /// The sequences the test did not apply to.
        public var notApplicable: Int
        /// The acceptable proportions of passing sequences, p̂ ± 3√(p̂(1 − p̂)/s).
        public var acceptableProportion: ClosedRange<Double>?

        /// passed / s.
        public var proportion: Double? { sampleSize > 0 ? Double(passed) / Double(sampleSize) : nil }

        /// Whether the proportion lies outside its interval (NIST STS marks it with `*`).
        public var proportionIsSuspicious: Bool

        /// Whether P-value_T is below 0.0001 (NIST STS marks it with `*`).
        public var uniformityIsSuspicious: Bool { (uniformityPValue ?? 1) < 0.0001 }
    }

    /// The rows, in NIST STS's order of tests and each test's sub-tests.
    public var rows: [Row]
    /// The number of sequences tested.
    public var sequenceCount: Int
    /// The significance level α.
    public var significanceLevel: Double
    /// Which constants the analysis followed (see ``ReferenceConstants``).
    public var constants: ReferenceConstants

    /// Analyses `results`, one per sequence, from `battery`.
    ///
    /// With ``ReferenceConstants/nistSTS`` the two rounding choices of NIST STS's `assess.c` are kept too: the
    /// expected count per bin is ⌊s/10⌋ rather than s/10, and the proportion thresholds are truncated to whole
    /// sequences before comparing.
    public init(results: [SequenceResult], battery: StatisticalTestBattery) {
        let alpha = battery.parameters.significanceLevel
        let constants = battery.parameters.constants
        self.sequenceCount = results.count
        self.significanceLevel = alpha
        self.constants = constants
        var rows: [Row] = []
        for test in battery.tests {
            let names = battery.subtestNames(test)
            for (index, name) in names.enumerated() {
                var values: [Double] = []
                var notApplicable = 0
                for sequence in results {
                    guard let result = sequence[test] else { continue }
                    if result.isApplicable, index < result.subtests.count {
                        values.append(result.subtests[index].pValue)
                    } else {
                        notApplicable += 1
                    }
                }
                rows.append(Self.row(test: test, subtest: name, pValues: values, notApplicable: notApplicable,
                                     alpha: alpha, constants: constants))
            }
        }
        self.rows = rows
    }

    static func row(test: StatisticalTest, subtest: String, pValues: [Double], notApplicable: Int, alpha: Double,
                    constants: ReferenceConstants) -> Row {
        var histogram = [Int](repeating: 0, count: 10)
        for value in pValues { histogram[min(max(Int((value * 10).rounded(.down)), 0), 9)] += 1 }
        let s = pValues.count
        var chiSquare: Double?
        var uniformity: Double?
        if s >= 10 {
            let expected = constants == .nistSTS ? Double(s / 10) : Double(s) / 10
            chiSquare = histogram.reduce(0) { sum, count in
                let difference = Double(count) - expected
                return sum + difference * difference / expected
            }
            uniformity = SpecialFunctions.igamc(4.5, chiSquare! / 2)
        }
        let passed = pValues.filter { $0 >= alpha }.count
        var interval: ClosedRange<Double>?
        var suspicious = false
        if s > 0 {
            let pHat = 1 - alpha
            let halfWidth = 3 * (pHat * alpha / Double(s)).squareRoot()
            interval = (pHat - halfWidth)...(pHat + halfWidth)
            if constants == .nistSTS {
                let low = Int(((pHat - halfWidth) * Double(s)).rounded(.towardZero))
                let high = Int(((pHat + halfWidth) * Double(s)).rounded(.towardZero))
                suspicious = passed < low || passed > high
            } else {
                suspicious = !interval!.contains(Double(passed) / Double(s))
            }
        }
        return Row(test: test, subtest: subtest, histogram: histogram, uniformityChiSquare: chiSquare,
                   uniformityPValue: uniformity, passed: passed, sampleSize: s, notApplicable: notApplicable,
                   acceptableProportion: interval, proportionIsSuspicious: suspicious)
    }

    /// The rows with a suspicious proportion or uniformity.
    public var suspiciousRows: [Row] {
        rows.filter { $0.proportionIsSuspicious || $0.uniformityIsSuspicious }
    }

    /// The fewest passing sequences out of `s` that lie inside the interval, as NIST STS's report states it.
    public func minimumPassCount(sampleSize s: Int) -> Int {
        let pHat = 1 - significanceLevel
        let low = (pHat - 3 * (pHat * significanceLevel / Double(s)).squareRoot()) * Double(s)
        return constants == .nistSTS ? Int(low.rounded(.towardZero)) : Int(low.rounded(.up))
    }

    /// The analysis as a text report in the layout of NIST STS's `finalAnalysisReport.txt`, with each row's
    /// sub-test named after the test and the acceptance rules spelled out below the table.
    ///
    /// - Parameters:
    ///   - generator: What was tested, printed as NIST STS prints the generator's file name.
    ///   - notes: Lines printed under the heading, such as a SIMULATED warning.
    public func report(generator: String, notes: [String] = []) -> String {
        let rule = String(repeating: "-", count: 78)
        let dashes = String(repeating: "- ", count: 39) + "-"
        var lines: [String] = [
            rule,
            "RESULTS FOR THE UNIFORMITY OF P-VALUES AND THE PROPORTION OF PASSING SEQUENCES",
            rule,
            "   generator is <\(generator)>",
        ]
        lines += notes.map { "   " + $0 }
        lines += [rule, " C1  C2  C3  C4  C5  C6  C7  C8  C9 C10  P-VALUE  PROPORTION  STATISTICAL TEST", rule]
        for row in rows {
            var line = row.histogram.map { pad(String($0), 3) + " " }.joined()
            if let uniformity = row.uniformityPValue {
                line += " " + fixedDecimals(uniformity) + (row.uniformityIsSuspicious ? " * " : "   ")
            } else {
                line += "    ----    "
            }
            let name = row.subtest.isEmpty ? row.test.reportName : "\(row.test.reportName) \(row.subtest)"
            if row.sampleSize == 0 {
                line += " ------     " + name
            } else {
                let fraction = pad(String(row.passed), 4) + "/" + String(row.sampleSize).padding(4)
                line += fraction + (row.proportionIsSuspicious ? " *  " : "    ") + name
            }
            lines.append(line)
        }
        lines += ["", "", dashes]
        let general = rows.filter { ![.randomExcursions, .randomExcursionsVariant].contains($0.test) }
        let excursions = rows.filter { [.randomExcursions, .randomExcursionsVariant].contains($0.test) }
        if let s = general.map(\.sampleSize).max() {
            if s == 0 {
                lines += ["The minimum pass rate for each statistical test with the exception of the",
                          "random excursion (variant) test is undefined.", ""]
            } else {
                lines += ["The minimum pass rate for each statistical test with the exception of the",
                          "random excursion (variant) test is approximately = \(minimumPassCount(sampleSize: s)) for a",
                          "sample size = \(s) binary sequences.", ""]
            }
        }
        if !excursions.isEmpty {
            let s = excursions.map(\.sampleSize).max() ?? 0
            if s == 0 {
                lines += ["The minimum pass rate for the random excursion (variant) test is undefined.", ""]
            } else {
                let count = minimumPassCount(sampleSize: s)
                lines += ["The minimum pass rate for the random excursion (variant) test",
                          "is approximately = \(count) for a sample size = \(s) binary sequences.", ""]
            }
        }
        let pHat = 1 - significanceLevel
        lines += [
            "A proportion is marked * when it lies outside p̂ ± 3·√(p̂(1−p̂)/s), p̂ = \(fixedDecimals(pHat, digits: 2)),",
            "s = the sequences a test applied to (SP 800-22 §4.2.1), and a P-VALUE (the uniformity",
            "P-value_T of the ten bins C1…C10) when it is below 0.0001 (§4.2.2); ---- when fewer than",
            "10 sequences were tested.",
        ]
        let skipped = Dictionary(grouping: rows.filter { $0.notApplicable > 0 }, by: \.test)
        for test in StatisticalTest.allCases {
            guard let rows = skipped[test], let worst = rows.map(\.notApplicable).max() else { continue }
            lines.append("\(test.reportName) did not apply to \(worst) of \(sequenceCount) sequences.")
        }
        lines.append(dashes)
        return lines.joined(separator: "\n") + "\n"
    }
}

/// `value` with `digits` decimals, as NIST STS prints P-values (six); no Foundation in the library.
private func fixedDecimals(_ value: Double, digits: Int = 6) -> String {
    guard value.isFinite else { return String(value) }
    var scaled = (abs(value) * pow10(digits)).rounded()
    var digitsText = ""
    for _ in 0..<digits {
        let digit = Int(scaled.truncatingRemainder(dividingBy: 10))
        digitsText = String(digit) + digitsText
        scaled = (scaled / 10).rounded(.towardZero)
    }
    let whole = String(Int(scaled))
    return (value < 0 ? "-" : "") + whole + (digits > 0 ? "." + digitsText : "")
}

private func pow10(_ digits: Int) -> Double {
    (0..<digits).reduce(1.0) { product, _ in product * 10 }
}

private func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
}

extension String {
    fileprivate func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
