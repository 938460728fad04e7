import QRNG

/// Runs the time-tag simulator with one fault from the catalogue through the whole pipeline, and measures how
/// long the health tests and monitors take to notice: the proof behind "every fault is caught", and the
/// detection latencies `qrng bench health/faults` reports.
struct FaultDetection {
    /// One fault's experiment: the fault, its strength, and what the samples are.
    struct Case: Sendable {
        let kind: SimulatedFault.Kind
        let strength: Double
        let arrivalTime: Bool

        /// Every fault in every mode whose samples can show it (``SimulatedFault/Kind/invisible(in:)`` says
        /// why the others cannot), at strengths where it is plainly a fault.
        static let catalogue: [Case] = [
            Case(kind: .deadDetector, strength: 1, arrivalTime: false),
            Case(kind: .latchedDetector, strength: 1, arrivalTime: false),
            Case(kind: .blinding, strength: 1, arrivalTime: false),
            Case(kind: .biasDrift, strength: 2, arrivalTime: false),
            Case(kind: .afterpulseStorm, strength: 0.5, arrivalTime: false),
            Case(kind: .sourceOff, strength: 1, arrivalTime: false),
            Case(kind: .periodicInterference, strength: 0.1, arrivalTime: false),
            Case(kind: .stalledTagger, strength: 0.5, arrivalTime: true),
            Case(kind: .timestampsBackwards, strength: 0.01, arrivalTime: false),
            Case(kind: .latchedDetector, strength: 1, arrivalTime: true),
            Case(kind: .blinding, strength: 1, arrivalTime: true),
            Case(kind: .afterpulseStorm, strength: 0.5, arrivalTime: true),
            Case(kind: .periodicInterference, strength: 0.1, arrivalTime: true),
            Case(kind: .timestampsBackwards, strength: 0.01, arrivalTime: true),
        ]
    }

    /// What happened.
    struct Outcome: Sendable {
        let fault: Case
        /// The first failure after the fault began, or the input error that stopped the source.
        let detection: QRNGError?
        /// The test or monitor that caught it.
        let detectedBy: String?
        /// Samples from the fault's onset to the first failure.
        let latencySamples: Int64?
        /// Failures before the fault began (a healthy stretch must have none).
        let failuresBeforeOnset: Int
    }

    /// The fault begins after this much simulated time: two monitor windows of healthy data first.
    static let onset = 0.02

    static func configuration(_ fault: Case?, duration: Double? = nil) -> SimulationConfiguration {
        SimulationConfiguration(
            faults: fault.map { [SimulatedFault($0.kind, start: onset, strength: $0.strength)] } ?? [],
            duration: duration)
    }

    static func pipeline(_ fault: Case?, arrivalTime: Bool, seed: UInt64, duration: Double? = nil) throws -> Pipeline {
        let use: PipelineConfiguration.TimeTagUse =
            arrivalTime
            ? .arrivalTime(.afterSync(syncChannel: 0, detectors: [1, 2]), binWidth: 10, bitsPerSample: 8)
            : .beamSplitter(.pulsed(PulsedClickRule(syncChannel: 0, d0Channel: 1, d1Channel: 2, window: 12_500)))
        return try Pipeline(
            configuration: PipelineConfiguration(
                source: .simulatedTimeTags(configuration(fault, duration: duration), seed: seed, use: use),
                extractor: .vonNeumann))
    }

    /// Runs `fault` until it is caught or `maximumSamples` have been tested.
    static func run(_ fault: Case, seed: UInt64 = 1, maximumSamples: UInt64 = 50_000_000) throws -> Outcome {
        // The same seed without the fault, stopped at the onset, counts the samples before it: the two streams
        // are the same up to there, since a fault changes nothing before it begins.
        var twin = try pipeline(nil, arrivalTime: fault.arrivalTime, seed: seed, duration: onset)
        var scratch = BitBuffer()
        while try twin.step(into: &scratch) { scratch.removeAll(keepingCapacity: true) }
        let onsetSample = twin.health.samplesTested
        let onsetPulse = twin.source.counters.pulses
        // A counter monitor's window is placed by its pulses: while the source is off no samples arrive, so the
        // window that sees it ends after the onset in pulses but at the last sample before it.
        func beforeOnset(_ failure: HealthFailure) -> Bool {
            if let pulses = failure.pulseOffset { return pulses <= onsetPulse }
            return failure.sampleOffset < onsetSample
        }

        var pipeline = try pipeline(fault, arrivalTime: fault.arrivalTime, seed: seed)
        var output = BitBuffer()
        var detection: QRNGError?
        do {
            while pipeline.health.samplesTested < maximumSamples {
                output.removeAll(keepingCapacity: true)
                guard try pipeline.step(into: &output) else { break }
                if pipeline.failures.contains(where: { !beforeOnset($0) }) { break }
            }
        } catch {
            detection = error
        }
        let before = pipeline.failures.filter(beforeOnset).count
        if let first = pipeline.failures.first(where: { !beforeOnset($0) }) {
            return Outcome(
                fault: fault, detection: first.error, detectedBy: first.test.rawValue,
                latencySamples: max(0, Int64(first.sampleOffset) - Int64(onsetSample)), failuresBeforeOnset: before)
        }
        // An input error (a timestamp going backwards) stops the source at the bad record itself, when it is
        // read, ahead of the samples the health tests have reached: its latency is zero by construction.
        return Outcome(
            fault: fault, detection: detection, detectedBy: detection.map { "\($0.code) (\($0.context.field ?? "input"))" },
            latencySamples: detection.map { _ in 0 }, failuresBeforeOnset: before)
    }

    static let benchmarkName = "health/faults"

    /// The table `qrng bench health/faults` prints: each fault, what caught it and how soon.
    static func report(seed: UInt64 = 1) throws -> String {
        var rows = [["fault", "strength", "samples", "caught by", "latency (samples)", "failures before onset"]]
        for fault in Case.catalogue {
            let outcome = try run(fault, seed: seed)
            rows.append([
                fault.kind.rawValue, String(fault.strength), fault.arrivalTime ? "arrival times (8 bits)" : "beam-splitter bits",
                outcome.detectedBy ?? "NOT CAUGHT", outcome.latencySamples.map(String.init) ?? "–",
                String(outcome.failuresBeforeOnset),
            ])
        }
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max()! }
        let lines = rows.map { row in
            zip(row, widths).map { $0 + String(repeating: " ", count: $1 - $0.count) }.joined(separator: "  ")
        }
        return "Faults injected at \(onset) s into the time-tag simulator (seed \(seed)); latency from the onset to the "
            + "first failure:\n" + lines.joined(separator: "\n")
    }
}
