#if canImport(Glibc)
import Glibc
#endif

/// Everything needed to build a ``Pipeline``: which source, what min-entropy to claim, the health tests'
/// false-positive probability and failure policy, and which extractor.
public struct PipelineConfiguration: Sendable, Hashable {
    /// The entropy source.
    public enum Source: Sendable, Hashable {
        /// The simulated beam-splitter QRNG at the level of pulses (pseudo-random): independent pulses, no
        /// detector dead time; fast. The model and the generator's seed, or `nil` to seed from the system.
        case simulatedBeamSplitter(SimulationConfiguration, seed: UInt64?)
        /// The simulated QRNG down to its time tagger (pseudo-random): jitter, dead time, afterpulses, drifts
        /// and faults, read like a recorded time-tag stream.
        case simulatedTimeTags(SimulationConfiguration, seed: UInt64?, use: TimeTagUse)
        /// A recorded click stream: per-pulse outcomes packed two bits per pulse.
        case recordedClicks(path: String, errorPolicy: ErrorPolicy)
        /// Recorded time tags in `format`, from a file, a named pipe or standard input (`-`).
        case recordedTimeTags(path: String, format: TimeTagFormat, use: TimeTagUse, errorPolicy: ErrorPolicy)
        /// A source built outside the library, e.g. the feed of a remote node; its own claim is its min-entropy
        /// unless the configuration claims or assesses another, and no photon monitor applies to it.
        case external(ExternalSource)

        /// Whether the source is a simulation.
        public var isSimulated: Bool {
            switch self {
            case .simulatedBeamSplitter, .simulatedTimeTags: true
            case .recordedClicks, .recordedTimeTags: false
            case .external(let external): external.source.provenance.isSimulated
            }
        }
    }

    /// What samples time tags become.
    public enum TimeTagUse: Sendable, Hashable {
        /// Beam-splitter bits from clicks derived by `rule`: D0 → 0, D1 → 1.
        case beamSplitter(TimeTagClickSource.Rule)
        /// Arrival-time samples of `bitsPerSample` bits, binned by `binWidth` picoseconds.
        case arrivalTime(ArrivalTimeSource.Mode, binWidth: UInt64, bitsPerSample: Int)
    }

    /// How the min-entropy per sample is found when it is not claimed: an estimator run over the source's first
    /// ``samples`` samples, which are then discarded.
    ///
    /// The pipeline does not depend on any estimator: `QRNGAssessment` provides SP 800-90B's non-IID track as
    /// `.nonIID(samples:)`. Two estimators are equal when their names and sample counts are.
    public struct Assessment: Sendable, Hashable {
        /// Samples to read and estimate from.
        public var samples: Int
        /// What the estimate is, for the summary, e.g. "SP 800-90B non-IID".
        public var name: String
        /// Estimates the min-entropy per sample, in bits, of samples `bitsPerSample` bits wide.
        public var estimate: @Sendable (_ samples: [UInt16], _ bitsPerSample: Int) throws(QRNGError) -> Double

        public init(
            samples: Int, name: String,
            estimate: @escaping @Sendable (_ samples: [UInt16], _ bitsPerSample: Int) throws(QRNGError) -> Double
        ) {
            self.samples = samples
            self.name = name
            self.estimate = estimate
        }

        public static func == (lhs: Assessment, rhs: Assessment) -> Bool {
            lhs.samples == rhs.samples && lhs.name == rhs.name
        }

        public func hash(into hasher: inout Hasher) {
            hasher.combine(samples)
            hasher.combine(name)
        }
    }

    /// The extractor.
    public enum Extractor: Sendable, Hashable {
        /// Toeplitz hashing; see ``ToeplitzSettings``.
        case toeplitz(ToeplitzSettings)
        /// The von Neumann extractor.
        case vonNeumann
        /// Peres' iterated von Neumann extractor.
        case peres(blockBits: Int, depth: Int)
        /// SHA-256 conditioning of `blockBits`-bit blocks.
        case sha256(blockBits: Int)

        /// Toeplitz hashing of `blockBits`-bit blocks with a seed drawn from the source, ε = `epsilon`.
        public static func toeplitz(blockBits: Int, epsilon: ErrorProbability = .defaultEpsilon) -> Extractor {
            .toeplitz(ToeplitzSettings(blockBits: blockBits, epsilon: epsilon))
        }
    }

    /// How Toeplitz hashing is set up.
    ///
    /// The output length comes from the leftover hash lemma, m = ⌊n·h − 2·log2(1/ε)⌋. The seed (n + m − 1 bits)
    /// is either given, or drawn when the pipeline starts from the same health-tested source through SHA-256
    /// conditioning, which needs no seed (see `SeedDraw`). Either way it is reused for every block, as a strong extractor
    /// allows, and never output. A drawn seed can be rotated: replaced by a freshly drawn one every
    /// `rotationBlocks` blocks.
    public struct ToeplitzSettings: Sendable, Hashable {
        /// n, the input block length.
        public var blockBits: Int
        /// ε, the output's allowed distance from uniform.
        public var epsilon: ErrorProbability
        /// A seed to use instead of drawing one; it must hold at least n + m − 1 bits.
        public var seed: BitBuffer?
        /// Draw a fresh seed after this many blocks; `nil` keeps one seed.
        public var rotationBlocks: Int?

        public init(
            blockBits: Int = 4096, epsilon: ErrorProbability = .defaultEpsilon, seed: BitBuffer? = nil,
            rotationBlocks: Int? = nil
        ) {
            self.blockBits = blockBits
            self.epsilon = epsilon
            self.seed = seed
            self.rotationBlocks = rotationBlocks
        }
    }

    /// The entropy source.
    public var source: Source
    /// The min-entropy per sample to claim, or `nil` for the source's own model (or the assessment).
    public var claimedMinEntropy: Double?
    /// An assessment that sets the min-entropy instead of a claim or a model; it wins over both.
    public var assessment: Assessment?
    /// The health tests' false-positive probability.
    public var alpha: ErrorProbability
    /// When health-test failures become permanent.
    public var failurePolicy: FailurePolicy
    /// The extractor.
    public var extractor: Extractor
    /// The photon monitors that run beside the health tests, or `nil` for none. A click-rate monitor without an
    /// expected rate gets the simulator's model rate.
    public var monitors: PhotonMonitorSettings?
    /// Whether a monitor's alarm gates output or is only reported; SP 800-90B's tests always gate.
    public var monitorAction: MonitorAction = .gate
    /// Samples of a recording to skip because an earlier run consumed them (see ``ConsumptionJournal``); 0 reads
    /// from the start.
    public var resumeAfterSamples: UInt64 = 0

    /// A configuration; by default the simulated QD beam splitter, α = 2⁻³⁰, Toeplitz hashing of 4096-bit blocks
    /// with ε = 2⁻¹⁰⁰.
    public init(
        source: Source = .simulatedBeamSplitter(SimulationConfiguration(), seed: nil),
        claimedMinEntropy: Double? = nil,
        assessment: Assessment? = nil,
        alpha: ErrorProbability = .defaultAlpha,
        failurePolicy: FailurePolicy = FailurePolicy(),
        extractor: Extractor = .toeplitz(blockBits: 4096, epsilon: .defaultEpsilon),
        monitors: PhotonMonitorSettings? = PhotonMonitorSettings(),
        monitorAction: MonitorAction = .gate
    ) {
        self.monitorAction = monitorAction
        self.source = source
        self.claimedMinEntropy = claimedMinEntropy
        self.assessment = assessment
        self.alpha = alpha
        self.failurePolicy = failurePolicy
        self.extractor = extractor
        self.monitors = monitors
    }
}

extension Pipeline {
    /// Builds the pipeline `configuration` describes; a Toeplitz seed to draw comes from the first released bits.
    ///
    /// - Throws: ``QRNGError/Code/invalidArgument`` naming the first parameter out of range; a health failure
    ///   while the seed is drawn.
    public init(configuration: PipelineConfiguration) throws(QRNGError) {
        if case .simulatedTimeTags(let simulation, _, let use) = configuration.source {
            // A fault the samples cannot show would only look like a test of the health tests.
            let samples: SimulatedFault.Kind.Samples
            if case .beamSplitter = use { samples = .beamSplitterBits } else { samples = .arrivalTimes }
            for fault in simulation.faults {
                if let reason = fault.kind.invisible(in: samples) {
                    let mode = samples == .beamSplitterBits ? "beam-splitter" : "arrival-time"
                    throw .invalidArgument("fault", "\(fault.kind.rawValue) in \(mode) mode: \(reason)")
                }
            }
        }
        var (source, modelMinEntropy, expectedClickRate) = try Self.makeSource(configuration)
        if let modelMinEntropy, !(modelMinEntropy > 0) {
            throw .invalidArgument(
                "simulated physics",
                "the model gives no min-entropy per sample (H = \(modelMinEntropy)): at these settings the clicks "
                    + "carry no unpredictable bit, e.g. a dark count in every pulse (--dark-rate, --efficiency, --mu)")
        }
        if configuration.resumeAfterSamples > 0 {
            guard !configuration.source.isSimulated else {
                throw .invalidArgument("resume position", "only a recording can be resumed, not a simulation")
            }
            source = try ResumedSource(source, skipping: configuration.resumeAfterSamples)
        }
        var monitors = configuration.monitors
        // The photon monitors watch clicks and pulses, which an external source's bytes do not carry.
        if case .external = configuration.source { monitors = nil }
        if monitors?.clickRate != nil && monitors?.clickRate?.expected == nil {
            // Where the source has a model of its click rate it is the reference; otherwise the monitor learns
            // the rate from its first window.
            monitors?.clickRate?.expected = expectedClickRate
        }
        var minEntropy: Double
        var origin: String
        if let assessment = configuration.assessment {
            let estimate = try Self.assess(&source, with: assessment)
            minEntropy = min(estimate, Double(source.bitsPerSample))
            origin = "assessed: \(assessment.name) over \(assessment.samples) samples, H = \(estimate)"
        } else if let claimed = configuration.claimedMinEntropy {
            minEntropy = claimed
            origin = "claimed: H = \(claimed)"
        } else if case .external(let external) = configuration.source, let modelMinEntropy {
            minEntropy = modelMinEntropy
            origin = "\(external.minEntropyOrigin): H = \(modelMinEntropy)"
        } else if let modelMinEntropy {
            minEntropy = modelMinEntropy
            origin = "source model: H = \(modelMinEntropy)"
        } else {
            throw .invalidArgument(
                "min-entropy",
                "a recorded source has no model of its min-entropy: claim one (--min-entropy) or assess it (--assess)")
        }
        guard minEntropy > 0 && minEntropy <= Double(source.bitsPerSample) else {
            throw .invalidArgument(
                "min-entropy", "H must be in (0, \(source.bitsPerSample)] bits per sample, got \(minEntropy) (\(origin))")
        }
        let cutoffs = try HealthCutoffs(
            bitsPerSample: source.bitsPerSample, minEntropy: minEntropy, alpha: configuration.alpha)
        let health = try HealthMonitor(
            cutoffs: cutoffs, policy: configuration.failurePolicy, monitors: monitors,
            monitorAction: configuration.monitorAction)
        self.init(source: source, health: health, extractor: VonNeumannExtractor())
        self.minEntropyPerSample = minEntropy
        self.minEntropyOrigin = origin

        try configureExtractor(configuration.extractor, minEntropyPerSample: minEntropy)
    }
}

extension Pipeline {
    /// Sets up the extractor `choice` names for samples of ``minEntropyPerSample`` bits of min-entropy: a
    /// Toeplitz output length from the leftover hash lemma, a given seed installed or a drawn one started from
    /// the first released bits, a conditioner's output entropy.
    ///
    /// - Throws: ``QRNGError/Code/invalidArgument`` naming the first parameter out of range.
    public mutating func configureExtractor(
        _ choice: PipelineConfiguration.Extractor, minEntropyPerSample minEntropy: Double
    ) throws(QRNGError) {
        minEntropyPerSample = minEntropy
        switch choice {
        case .vonNeumann:
            break
        case .peres(let blockBits, let depth):
            replaceExtractor(try PeresExtractor(blockBits: blockBits, depth: depth))
        case .sha256(let blockBits):
            replaceExtractor(try SHA256Conditioner(inputBits: blockBits))
            let inputEntropy = minEntropy / Double(source.bitsPerSample) * Double(blockBits)
            outputEntropyPerBit = SHA256Conditioner.outputEntropy(inputBits: blockBits, inputEntropy: inputEntropy) / 256
        case .toeplitz(let settings):
            let minEntropyPerBit = minEntropy / Double(source.bitsPerSample)
            let outputBits = try leftoverHashOutputLength(
                inputBits: settings.blockBits, minEntropyPerBit: minEntropyPerBit, epsilon: settings.epsilon)
            if let seed = settings.seed {
                guard settings.rotationBlocks == nil else {
                    throw .invalidArgument("seed rotation", "a given seed cannot be rotated; rotation draws seeds")
                }
                replaceExtractor(try ToeplitzExtractor(seed: seed, inputBits: settings.blockBits, outputBits: outputBits))
                seeding = SeedingSummary(
                    given: true, seedBits: settings.blockBits + outputBits - 1, seedsDrawn: 0, inputBits: 0,
                    surplusBits: 0, blockBits: 0, bitsPerSample: source.bitsPerSample)
            } else {
                if let blocks = settings.rotationBlocks, blocks < 1 {
                    throw .invalidArgument("seed rotation", "rotate after at least one block, got \(blocks)")
                }
                toeplitzRotation = ToeplitzRotation(
                    inputBits: settings.blockBits, outputBits: outputBits, blocks: settings.rotationBlocks)
                startSeedDraw()
            }
        }
    }
}

extension Pipeline {
    /// The source a configuration names, the min-entropy per sample its model gives and the clicks per pulse it
    /// expects (`nil` for a recording).
    static func makeSource(_ configuration: PipelineConfiguration) throws(QRNGError)
        -> (any EntropySource, Double?, Double?)
    {
        // A placeholder claim for sources whose H the pipeline decides; the health tests and the extractor use
        // the pipeline's H, not the source's.
        let undecided = 1.0
        switch configuration.source {
        case .simulatedBeamSplitter(let emitterConfiguration, let seed):
            let emitter = try SimulatedQuantumDotEmitter(configuration: emitterConfiguration, seed: seed)
            let model = emitter.probabilities.minEntropyPerBit
            // A model without entropy is refused by the caller, with the options that cause it.
            let claim = model > 0 ? model : 1
            return (try BeamSplitterSource(clicks: emitter, claimedMinEntropy: claim), model, 1 - emitter.probabilities.none)
        case .simulatedTimeTags(let simulation, let seed, let use):
            let tagger = try SimulatedTimeTagger(configuration: simulation, seed: seed)
            let (source, model) = try timeTagSource(tagger, use: use, model: TimeTagModel(configuration: simulation))
            return (source, model, nil)
        case .recordedClicks(let path, let errorPolicy):
            let clicks = try PackedClickReader(path: path, errorPolicy: errorPolicy)
            return (try BeamSplitterSource(clicks: clicks, claimedMinEntropy: undecided), nil, nil)
        case .recordedTimeTags(let path, let format, let use, let errorPolicy):
            let reader = try format.openReader(path: path, options: TimeTagReadOptions(errorPolicy: errorPolicy))
            let (source, model) = try timeTagSource(reader, use: use, model: nil)
            return (source, model, nil)
        case .external(let external):
            return (external.source, external.source.claimedMinEntropy, nil)
        }
    }

    private static func timeTagSource(_ reader: any TimeTagReader, use: PipelineConfiguration.TimeTagUse,
                                      model: TimeTagModel?) throws(QRNGError) -> (any EntropySource, Double?) {
        switch use {
        case .beamSplitter(let rule):
            let clicks = try TimeTagClickSource(reader: reader, rule: rule)
            let h = model?.beamSplitterMinEntropy
            return (try BeamSplitterSource(clicks: clicks, claimedMinEntropy: h.map { $0 > 0 ? $0 : 1 } ?? 1), h)
        case .arrivalTime(let mode, let binWidth, let bits):
            if let arrival = model?.arrivalTime(mode) {
                let source = try ArrivalTimeSource(
                    reader: reader, mode: mode, binWidth: binWidth, bitsPerSample: bits, minEntropy: .model(arrival))
                return (source, source.claimedMinEntropy)
            }
            let source = try ArrivalTimeSource(
                reader: reader, mode: mode, binWidth: binWidth, bitsPerSample: bits, minEntropy: .claimed(Double(bits)))
            return (source, nil)
        }
    }

    /// Reads the samples `assessment` needs from the source and estimates their min-entropy; the samples are
    /// used for nothing else.
    private static func assess(
        _ source: inout any EntropySource, with assessment: PipelineConfiguration.Assessment
    ) throws(QRNGError) -> Double {
        let count = assessment.samples
        guard count >= 1000 else {
            throw .invalidArgument("assess samples", "an assessment needs at least 1000 samples, got \(count)")
        }
        var collected: [UInt16] = []
        collected.reserveCapacity(count)
        var buffer = SampleBuffer(bitsPerSample: source.bitsPerSample)
        while collected.count < count {
            buffer.removeAll()
            guard try source.read(approximately: min(1 << 16, count - collected.count), into: &buffer) else {
                throw QRNGError(.endOfInput, "the source ended after \(collected.count) of the \(count) samples to assess")
            }
            for index in 0..<min(buffer.count, count - collected.count) { collected.append(buffer[index]) }
        }
        return try assessment.estimate(collected, source.bitsPerSample)
    }
}

/// What a simulation's physics says about the min-entropy of what it produces.
struct TimeTagModel {
    let configuration: SimulationConfiguration

    /// −log2 max(p0, 1 − p0) with p0 = T·η0 / (T·η0 + (1 − T)·η1): photons only, as the pulse-level model.
    var beamSplitterMinEntropy: Double {
        let t = configuration.beamSplitterTransmission
        let a = t * configuration.detector0.efficiency
        let b = (1 - t) * configuration.detector1.efficiency
        guard a + b > 0 else { return 0 }
        let p0 = a / (a + b)
        return -log2(max(p0, 1 - p0))
    }

    /// The arrival-time model for `mode`, where the physics gives one.
    func arrivalTime(_ mode: ArrivalTimeSource.Mode) -> ArrivalTimeModel? {
        let detector = configuration.detector0
        switch (mode, configuration.excitation, configuration.light) {
        case (.afterSync, .pulsed(let rate), .quantumDot(_, _, let tau)):
            return .emissionDecay(lifetime: tau * 1e12, jitter: detector.jitter * 1e12, delay: 0, syncPeriod: 1e12 / rate)
        case (.interval, .continuous(let rate), _):
            let t = configuration.beamSplitterTransmission
            let detected = rate * (t * configuration.detector0.efficiency + (1 - t) * configuration.detector1.efficiency)
            return .exponentialIntervals(ratePerSecond: detected, deadTime: detector.deadTime * 1e12)
        default:
            return nil
        }
    }
}

extension PipelineConfiguration.Source {
    /// The file a recorded source reads, or `nil` for a simulation.
    public var recordingPath: String? {
        switch self {
        case .simulatedBeamSplitter, .simulatedTimeTags, .external: nil
        case .recordedClicks(let path, _), .recordedTimeTags(let path, _, _, _): path
        }
    }

    /// A fingerprint of everything that determines which samples a recording yields, and in what order: the
    /// source with its path left out, so that a renamed recording keeps its fingerprint.
    public var fingerprint: String {
        var anonymous = self
        switch self {
        case .simulatedBeamSplitter, .simulatedTimeTags, .external: break
        case .recordedClicks(_, let policy): anonymous = .recordedClicks(path: "", errorPolicy: policy)
        case .recordedTimeTags(_, let format, let use, let policy):
            anonymous = .recordedTimeTags(path: "", format: format, use: use, errorPolicy: policy)
        }
        return hexString(SHA256.hash(Array(String(describing: anonymous).utf8)))
    }
}

extension PipelineConfiguration.Source {
    /// The seed of a seeded simulation, whose output the same seed reproduces; `nil` otherwise.
    public var simulationSeed: UInt64? {
        switch self {
        case .simulatedBeamSplitter(_, let seed), .simulatedTimeTags(_, let seed, _): seed
        case .recordedClicks, .recordedTimeTags, .external: nil
        }
    }
}
