import QRNG
#if canImport(Glibc)
import Glibc
#endif

/// `qrng bench health/false-alarms`: the health monitor's false alarms on healthy simulated data, against the
/// counts α predicts.
///
/// The simulated quantum-dot beam splitter (default model, claimed min-entropy = the model's own, −log2 max(p0,
/// p1)) runs through three health monitors at once, each with every monitor the pipeline runs: at α = 2⁻³⁰ (the
/// default), at α = 2⁻²⁰ (where the RCT's expected count is large enough to check the rate), and with the
/// monitors at α = 2⁻⁸ per window (where the approximate autocorrelation threshold shows its rate). It is opt-in,
/// run only when named, since 10⁹ samples take a minute or so; it is not a timed benchmark.
///
/// Expected counts: the RCT fails at a sample when it is the C-th of a run, so N·Σᵥ (1 − pᵥ)·pᵥᶜ; the APT fails in a
/// window whose reference v occurs C times, so (N/W)·Σᵥ pᵥ·P[Binomial(W − 1, pᵥ) ≥ C − 1]; each monitor alarms with
/// probability at most α per window, so the number of windows times α bounds its count.
enum FalseAlarmBenchmark {
    static let name = "health/false-alarms"

    struct Row {
        var test: String
        var observed: Int
        var expected: Double
        var isBound: Bool
    }

    /// P[X ≥ k] and P[X ≤ k] for X ~ Poisson(λ).
    static func poissonTails(_ k: Int, _ lambda: Double) -> (atLeast: Double, atMost: Double) {
        let atLeast = k == 0 ? 1 : SpecialFunctions.igam(Double(k), lambda)
        let atMost = SpecialFunctions.igamc(Double(k + 1), lambda)
        return (atLeast, atMost)
    }

    /// P[Binomial(n, p) ≥ c], summed in log space.
    static func binomialTail(_ n: Int, _ p: Double, atLeast c: Int) -> Double {
        guard c > 0 else { return 1 }
        guard c <= n else { return 0 }
        let logN = SpecialFunctions.logGamma(Double(n + 1))
        var total = 0.0
        for k in c...n {
            let logTerm = logN - SpecialFunctions.logGamma(Double(k + 1)) - SpecialFunctions.logGamma(Double(n - k + 1))
                + Double(k) * log(p) + Double(n - k) * log1p(-p)
            total += exp(logTerm)
        }
        return total
    }

    static func run(samples target: UInt64, seed: UInt64 = 1) throws -> String {
        let emitter = try SimulatedQuantumDotEmitter(seed: seed)
        let probabilities = emitter.probabilities
        let minEntropy = probabilities.minEntropyPerBit
        let p0 = probabilities.probabilityOfZero
        var source = try BeamSplitterSource(clicks: emitter, claimedMinEntropy: minEntropy)
        // (tests' α, monitors' α): the default, a larger α where the RCT's count is large, and a large monitor
        // α where the approximate thresholds (autocorrelation) can be seen at work.
        let alphas = [
            (ErrorProbability.defaultAlpha, ErrorProbability.defaultAlpha),
            (try ErrorProbability(log2: -20), try ErrorProbability(log2: -20)),
            (try ErrorProbability(log2: -20), try ErrorProbability(log2: -8)),
        ]
        var monitors = try alphas.map { testsAlpha, monitorsAlpha in
            try HealthMonitor(
                cutoffs: try HealthCutoffs(bitsPerSample: 1, minEntropy: minEntropy, alpha: testsAlpha),
                policy: FailurePolicy(permanentFailureCount: .max),
                monitors: PhotonMonitorSettings(
                    alpha: monitorsAlpha, clickRate: .init(expected: 1 - probabilities.none)))
        }
        var failures = Array(repeating: [HealthTestKind: Int](), count: alphas.count)
        var samples = SampleBuffer(bitsPerSample: 1)
        var released = BitBuffer()
        var before = source.counters
        let clock = ContinuousClock()
        let start = clock.now
        while source.counters.samples < target {
            samples.removeAll()
            _ = try source.read(approximately: 1 << 20, into: &samples)
            let delta = source.counters.counted(since: before)
            before = source.counters
            for index in monitors.indices {
                for failure in monitors[index].process(samples, counters: delta, releasingInto: &released) {
                    failures[index][failure.test, default: 0] += 1
                }
                released.removeAll(keepingCapacity: true)
            }
        }
        let seconds = (clock.now - start).seconds
        let n = Double(source.counters.samples)
        let pulses = source.counters.pulses
        var text = [
            "health/false-alarms: \(source.counters.samples) healthy samples from the SIMULATED beam splitter "
                + "(seed \(seed)), \(pulses) pulses, \(String(format3: seconds)) s",
            "model p0 = \(p0), claimed min-entropy H = \(minEntropy) bits per sample (the model's own)",
        ]
        for (index, (testsAlpha, alpha)) in alphas.enumerated() {
            let cutoffs = monitors[index].cutoffs
            let c = cutoffs.repetitionCountCutoff
            let w = cutoffs.adaptiveProportionWindow
            let aptC = cutoffs.adaptiveProportionCutoff
            let settings = monitors[index].monitorSettings!
            let pulseWindows = Double(pulses / settings.pulseWindow)
            let sampleWindows = (n / Double(1 << 16)).rounded(.down)
            let rows = [
                Row(test: HealthTestKind.repetitionCount.rawValue, observed: failures[index][.repetitionCount] ?? 0,
                    expected: n * ((1 - p0) * pow(p0, Double(c)) + p0 * pow(1 - p0, Double(c))), isBound: false),
                Row(test: HealthTestKind.adaptiveProportion.rawValue,
                    observed: failures[index][.adaptiveProportion] ?? 0,
                    expected: (n / Double(w)) * (p0 * binomialTail(w - 1, p0, atLeast: aptC - 1)
                        + (1 - p0) * binomialTail(w - 1, 1 - p0, atLeast: aptC - 1)), isBound: false),
                Row(test: HealthTestKind.clickRate.rawValue, observed: failures[index][.clickRate] ?? 0,
                    expected: pulseWindows * alpha.value, isBound: true),
                Row(test: HealthTestKind.secondOrderCoherence.rawValue,
                    observed: failures[index][.secondOrderCoherence] ?? 0, expected: pulseWindows * alpha.value,
                    isBound: true),
                Row(test: HealthTestKind.detectorBias.rawValue, observed: failures[index][.detectorBias] ?? 0,
                    expected: pulseWindows * alpha.value, isBound: true),
                Row(test: HealthTestKind.autocorrelation.rawValue, observed: failures[index][.autocorrelation] ?? 0,
                    expected: sampleWindows * alpha.value, isBound: true),
            ]
            text.append("")
            text.append(
                "α = \(testsAlpha) (tests), \(alpha) (monitors, per window): RCT cutoff \(c), APT window \(w) cutoff "
                    + "\(aptC); monitors over \(Int(pulseWindows)) pulse windows and \(Int(sampleWindows)) sample "
                    + "windows")
            let header = ["test", "failures", "expected", "Poisson P-value"]
            var table = [header]
            for row in rows {
                let tails = poissonTails(row.observed, row.expected)
                // A bound: only too many alarms would contradict it. An expectation: either tail, doubled.
                let pValue = row.isBound ? tails.atLeast : min(1, 2 * min(tails.atLeast, tails.atMost))
                table.append([
                    row.test, String(row.observed), (row.isBound ? "≤ " : "") + scientific(row.expected),
                    String(format3: pValue),
                ])
            }
            let widths = (0..<header.count).map { column in table.map { $0[column].count }.max()! }
            for line in table {
                text.append(
                    zip(line, widths).map { $0 + String(repeating: " ", count: $1 - $0.count) }.joined(separator: "  "))
            }
        }
        return text.joined(separator: "\n")
    }

    /// A positive number with three significant digits, in scientific notation below 0.01.
    static func scientific(_ value: Double) -> String {
        guard value > 0 && value < 0.01 else { return String(format3: value) }
        let exponent = Int(log10(value).rounded(.down))
        return String(format3: value / pow(10, Double(exponent))) + "e\(exponent)"
    }
}
