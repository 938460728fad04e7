#if canImport(Glibc)
import Glibc
#endif
import QRNG

/// The outcome of the restart tests of SP 800-90B §3.1.4.
public struct RestartTestReport: Sendable, Hashable {
    /// H_I, the initial entropy estimate being validated (per sample).
    public let initialEntropy: Double
    /// The largest count of one value in any row or column (§3.1.4.3).
    public let maximumCount: Int
    /// The largest count allowed: the 1 − α quantile of the largest count in 1000 samples of the near-uniform
    /// distribution with most likely probability 2^−H_I, α = 1 − 0.99^{1/2000}.
    public let cutoff: Int
    /// Whether the sanity check passed (maximumCount ≤ cutoff). When it fails no estimate is computed.
    public var sanityCheckPassed: Bool { maximumCount <= cutoff }
    /// The estimates on the row dataset and on the column dataset.
    public let rowEstimates: [Estimate]
    public let columnEstimates: [Estimate]
    /// H_r and H_c, the minima over the row and the column estimates (nil when the sanity check failed).
    public let hRows: Double?
    public let hColumns: Double?
    /// For the IID track, the §5 tests on the rows and on the columns.
    public let rowTests: IIDTestResults?
    public let columnTests: IIDTestResults?
    /// Whether the validation test passed: the sanity check passed and min(H_r, H_c) ≥ H_I/2 (§3.1.4.2).
    public var passed: Bool {
        guard sanityCheckPassed, let hRows, let hColumns else { return false }
        return min(hRows, hColumns) >= initialEntropy / 2
    }
    /// The validated entropy min(H_r, H_c, H_I), or nil when validation failed (the source is then rejected).
    public var validatedEntropy: Double? {
        guard passed, let hRows, let hColumns else { return nil }
        return min(hRows, hColumns, initialEntropy)
    }

    /// The outcome as one JSON object: `h_i`, `x_max`, `x_cutoff`, `sanity_check_passed`, `h_r`, `h_c`, `passed`,
    /// `validated_min_entropy` (null when validation failed), and for the IID track `iid_rows`, `iid_columns`.
    public var json: String {
        let number = MinEntropyAssessment.Report.number
        var fields = [
            "\"h_i\":" + number(initialEntropy), "\"x_max\":" + String(maximumCount), "\"x_cutoff\":" + String(cutoff),
            "\"sanity_check_passed\":" + String(sanityCheckPassed), "\"h_r\":" + number(hRows),
            "\"h_c\":" + number(hColumns), "\"passed\":" + String(passed),
            "\"validated_min_entropy\":" + number(validatedEntropy),
        ]
        if let rowTests, let columnTests {
            fields.append("\"iid_rows\":" + rowTests.json)
            fields.append("\"iid_columns\":" + columnTests.json)
        }
        return "{" + fields.joined(separator: ",") + "}"
    }

    /// The outcome as text, laid out like the reference tool's `ea_restart`.
    public var text: String {
        var lines = ["Restart tests (SP 800-90B §3.1.4)", "H_I: " + MinEntropyAssessment.Report.fixed(initialEntropy)]
        lines.append("X_max: \(maximumCount), X_cutoff: \(cutoff)")
        guard sanityCheckPassed else {
            lines.append("*** Restart Sanity Check Failed ***")
            return lines.joined(separator: "\n")
        }
        lines.append("Restart Sanity Check Passed")
        for (label, estimates) in [("Rows", rowEstimates), ("Columns", columnEstimates)] {
            for estimate in estimates {
                let value = estimate.minEntropy.map { MinEntropyAssessment.Report.fixed($0) } ?? "not run"
                lines.append("  \(estimate.estimator.title) Estimate (\(label)) = \(value)")
            }
        }
        if let rowTests, let columnTests {
            lines.append("Rows:")
            lines.append(contentsOf: rowTests.lines)
            lines.append("Columns:")
            lines.append(contentsOf: columnTests.lines)
        }
        if let hRows, let hColumns {
            lines.append("H_r: " + MinEntropyAssessment.Report.fixed(hRows))
            lines.append("H_c: " + MinEntropyAssessment.Report.fixed(hColumns))
        }
        if let validatedEntropy {
            lines.append("Validation Test Passed")
            lines.append("min(H_r, H_c, H_I): " + MinEntropyAssessment.Report.fixed(validatedEntropy))
        } else {
            lines.append("*** min(H_r, H_c) < H_I/2, Validation Testing Failed ***")
        }
        return lines.joined(separator: "\n")
    }
}

extension MinEntropyAssessment {
    /// Runs the restart tests of SP 800-90B §3.1.4 on a restart matrix: 1000 restarts of the source, 1000 samples
    /// each, one restart after the other (row i is restart i).
    ///
    /// The sanity check (§3.1.4.3) counts the most common value in every row and column. The standard bounds that
    /// count with a binomial tail; the reference tool instead bounds it by the worst case it argues for (the
    /// "inverted near-uniform" distribution: ⌊2^H_I⌋ values of probability 2^−H_I and one with the rest),
    /// estimating the quantile from 5,000,000 simulated restarts. qrng follows the tool's distribution but computes
    /// the quantile exactly (the probability that no count exceeds x, by Poissonization and convolution), which is
    /// the value the simulation estimates. Then the estimators run on the row dataset and the column dataset (the
    /// non-IID ones, or for the IID track the Most Common Value estimate and the §5 tests), and the validation
    /// passes when min(H_r, H_c) ≥ H_I/2. Estimators that cannot run are left out of H_r and H_c, as in the main
    /// assessment (the tool's restart program lets a failed t-tuple estimate's −1 through, which fails validation).
    /// - Parameters:
    ///   - matrix: 1,000,000 samples, restart by restart.
    ///   - bitsPerSample: The sample width k, 1 to 16.
    ///   - initialEntropy: H_I per sample, at most `bitsPerSample`.
    ///   - track: The estimators to run on the row and column datasets.
    ///   - seed: Seeds the IID track's shuffles; `nil` draws a seed from the system.
    public static func restartTests(
        matrix: [UInt16], bitsPerSample: Int, initialEntropy: Double, track: Report.Track = .nonIID,
        seed: UInt64? = nil
    ) throws -> RestartTestReport {
        try restartTests(
            matrix: matrix, side: 1000, bitsPerSample: bitsPerSample, initialEntropy: initialEntropy, track: track,
            seed: seed)
    }

    /// The restart tests on a `side` × `side` matrix; the standard's is 1000 × 1000 (smaller ones for qrng's tests).
    static func restartTests(
        matrix: [UInt16], side: Int, bitsPerSample: Int, initialEntropy: Double, track: Report.Track,
        seed: UInt64?
    ) throws -> RestartTestReport {
        guard matrix.count == side * side else {
            throw QRNGError(
                .invalidInput, "restart data must hold \(side) × \(side) = \(side * side) samples, got \(matrix.count)")
        }
        guard initialEntropy >= 0 && initialEntropy <= Double(bitsPerSample) else {
            throw QRNGError.invalidArgument(
                "initialEntropy", "H_I must be in [0, \(bitsPerSample)], got \(initialEntropy)")
        }
        let input = try prepared(samples: matrix, bitsPerSample: bitsPerSample)
        let k = input.alphabetSize
        let rows = input.symbols
        func transposed(_ data: [UInt16]) -> [UInt16] {
            var result = [UInt16](repeating: 0, count: data.count)
            for i in 0..<side {
                for j in 0..<side { result[j * side + i] = data[i * side + j] }
            }
            return result
        }
        let columns = transposed(rows)
        var counts = [Int](repeating: 0, count: k)
        var maximum = 0
        for data in [rows, columns] {
            for line in 0..<side {
                for index in 0..<k { counts[index] = 0 }
                for j in 0..<side {
                    let symbol = Int(data[line * side + j])
                    counts[symbol] += 1
                    maximum = max(maximum, counts[symbol])
                }
            }
        }
        let alpha = 1 - exp(log(0.99) / Double(2 * side))
        let cutoff = restartCutoff(initialEntropy: initialEntropy, samples: side, alpha: alpha)
        guard maximum <= cutoff else {
            return RestartTestReport(
                initialEntropy: initialEntropy, maximumCount: maximum, cutoff: cutoff, rowEstimates: [],
                columnEstimates: [], hRows: nil, hColumns: nil, rowTests: nil, columnTests: nil)
        }
        let width = Double(bitsPerSample)
        func minimum(_ estimates: [Estimate]) -> Double {
            estimates.compactMap(\.minEntropy).reduce(width) { min($0, $1) }
        }
        var rowEstimates: [Estimate]
        var columnEstimates: [Estimate]
        var rowTests: IIDTestResults?
        var columnTests: IIDTestResults?
        switch track {
        case .nonIID:
            rowEstimates = rows.withUnsafeBufferPointer { allEstimates($0, alphabetSize: k) }
            columnEstimates = columns.withUnsafeBufferPointer { allEstimates($0, alphabetSize: k) }
        case .iid:
            rowEstimates = rows.withUnsafeBufferPointer { [mostCommonValueEstimate($0, alphabetSize: k)] }
            columnEstimates = columns.withUnsafeBufferPointer { [mostCommonValueEstimate($0, alphabetSize: k)] }
            var system = SystemRandomNumberGenerator()
            var generator = Xoshiro256StarStar(seed: seed ?? system.next())
            rowTests = iidTests(symbols: rows, raw: input.raw, alphabetSize: k, using: &generator)
            columnTests = iidTests(symbols: columns, raw: transposed(input.raw), alphabetSize: k, using: &generator)
        }
        return RestartTestReport(
            initialEntropy: initialEntropy, maximumCount: maximum, cutoff: cutoff, rowEstimates: rowEstimates,
            columnEstimates: columnEstimates, hRows: minimum(rowEstimates), hColumns: minimum(columnEstimates),
            rowTests: rowTests, columnTests: columnTests)
    }

    /// The smallest x with P(largest count ≤ x) ≥ 1 − α for `samples` draws from the near-uniform distribution
    /// with most likely probability p = 2^−H_I.
    static func restartCutoff(initialEntropy: Double, samples n: Int, alpha: Double) -> Int {
        let p = pow(2.0, -initialEntropy)
        let effective = Int((1.0 / p).rounded(.up))
        let full = Int((1.0 / p).rounded(.down))
        let residual = effective > full ? max(0, 1.0 - Double(full) * p) : 0
        var low = max(1, Int((Double(n) * p).rounded(.down)))
        var high = n
        // P(max ≤ x) increases with x; bisect for the first x reaching 1 − α.
        while low < high {
            let middle = (low + high) / 2
            if maximumCountCDF(x: middle, n: n, p: p, copies: full, residual: residual) >= 1 - alpha {
                high = middle
            } else {
                low = middle + 1
            }
        }
        return low
    }

    /// P(every count ≤ x) for n draws from `copies` values of probability p and one of probability `residual`:
    /// with Y_i ~ Poisson(n·p_i) independent, it is Π P(Y_i ≤ x) · P(Σ W_i = n) / P(Σ Y_i = n), W_i being Y_i
    /// conditioned on Y_i ≤ x.
    static func maximumCountCDF(x: Int, n: Int, p: Double, copies: Int, residual: Double) -> Double {
        func truncatedPoisson(_ lambda: Double) -> (logMass: Double, pmf: [Double]) {
            var logTerms = [Double](repeating: 0, count: x + 1)
            for j in 0...x { logTerms[j] = Double(j) * log(lambda) - lambda - lgamma(Double(j) + 1) }
            let top = logTerms.max()!
            var pmf = logTerms.map { exp($0 - top) }
            let total = pmf.reduce(0, +)
            pmf = pmf.map { $0 / total }
            return (top + log(total), pmf)
        }
        func convolve(_ a: [Double], _ b: [Double]) -> [Double] {
            let degree = min(n, a.count + b.count - 2)
            var c = [Double](repeating: 0, count: degree + 1)
            for i in 0..<a.count where a[i] != 0 {
                let limit = min(b.count - 1, degree - i)
                if limit < 0 { continue }
                for j in 0...limit { c[i + j] += a[i] * b[j] }
            }
            return c
        }
        let main = truncatedPoisson(Double(n) * p)
        var logProduct = Double(copies) * main.logMass
        var power: [Double] = [1]
        var base = main.pmf
        var remaining = copies
        while remaining > 0 {
            if remaining & 1 == 1 { power = convolve(power, base) }
            remaining >>= 1
            if remaining > 0 { base = convolve(base, base) }
        }
        if residual > 0 {
            let extra = truncatedPoisson(Double(n) * residual)
            logProduct += extra.logMass
            power = convolve(power, extra.pmf)
        }
        guard n < power.count, power[n] > 0 else { return 0 }
        let logSum = Double(n) * log(Double(n)) - Double(n) - lgamma(Double(n) + 1)
        return min(1, exp(logProduct + log(power[n]) - logSum))
    }

    static func iidTests<G: RandomNumberGenerator>(
        symbols: [UInt16], raw: [UInt16], alphabetSize k: Int, shuffles: Int = PermutationTests.maximumShuffles,
        using generator: inout G
    ) -> IIDTestResults {
        let (independence, goodness, lrs) = symbols.withUnsafeBufferPointer { symbols in
            (
                ChiSquareTests.independence(symbols, alphabetSize: k),
                ChiSquareTests.goodnessOfFit(symbols, alphabetSize: k),
                LongestRepeatedSubstringTest.run(symbols, alphabetSize: k)
            )
        }
        let permutation = PermutationTests.run(
            symbols: symbols, raw: raw, alphabetSize: k, maximumShuffles: shuffles, using: &generator)
        return IIDTestResults(
            independence: independence, goodnessOfFit: goodness, longestRepeatedSubstring: lrs,
            permutation: permutation.results, shuffles: permutation.shuffles)
    }
}
