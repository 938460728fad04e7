/// Everything needed to build a ``Pipeline``: which source, what min-entropy to claim, the health tests'
/// false-positive probability and failure policy, and which extractor.
public struct PipelineConfiguration: Sendable, Hashable {
    /// The entropy source.
    public enum Source: Sendable, Hashable {
        /// The simulated beam-splitter QRNG (pseudo-random): the model and the generator's seed, or `nil` to seed
        /// from the operating system.
        case simulatedBeamSplitter(EmitterConfiguration, seed: UInt64?)
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
    /// is either given, or drawn when the pipeline starts from the same health-tested source through a von
    /// Neumann extractor, which needs no seed. Either way it is reused for every block, as a strong extractor
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
    /// The min-entropy per sample to claim, or `nil` for the source's own model.
    public var claimedMinEntropy: Double?
    /// The health tests' false-positive probability.
    public var alpha: ErrorProbability
    /// When health-test failures become permanent.
    public var failurePolicy: FailurePolicy
    /// The extractor.
    public var extractor: Extractor
    /// The photon monitors that run beside the health tests, or `nil` for none. A click-rate monitor without an
    /// expected rate gets the simulator's model rate.
    public var monitors: PhotonMonitorSettings?

    /// A configuration; by default the simulated QD beam splitter, α = 2⁻³⁰, Toeplitz hashing of 4096-bit blocks
    /// with ε = 2⁻¹⁰⁰.
    public init(
        source: Source = .simulatedBeamSplitter(EmitterConfiguration(), seed: nil),
        claimedMinEntropy: Double? = nil,
        alpha: ErrorProbability = .defaultAlpha,
        failurePolicy: FailurePolicy = FailurePolicy(),
        extractor: Extractor = .toeplitz(blockBits: 4096, epsilon: .defaultEpsilon),
        monitors: PhotonMonitorSettings? = PhotonMonitorSettings()
    ) {
        self.source = source
        self.claimedMinEntropy = claimedMinEntropy
        self.alpha = alpha
        self.failurePolicy = failurePolicy
        self.extractor = extractor
        self.monitors = monitors
    }
}

extension Pipeline {
    /// Builds the pipeline `configuration` describes, drawing the Toeplitz seed when one is needed.
    ///
    /// - Throws: ``QRNGError/Code/invalidArgument`` naming the first parameter out of range; a health failure
    ///   while the seed is drawn.
    public init(configuration: PipelineConfiguration) throws(QRNGError) {
        let source: any EntropySource
        var monitors = configuration.monitors
        switch configuration.source {
        case .simulatedBeamSplitter(let emitterConfiguration, let seed):
            let emitter = try SimulatedQuantumDotEmitter(configuration: emitterConfiguration, seed: seed)
            let minEntropy = configuration.claimedMinEntropy ?? emitter.probabilities.minEntropyPerBit
            source = try BeamSplitterSource(clicks: emitter, claimedMinEntropy: minEntropy)
            if monitors?.clickRate != nil && monitors?.clickRate?.expected == nil {
                monitors?.clickRate?.expected = 1 - emitter.probabilities.none
            }
        }
        let cutoffs = try HealthCutoffs(
            bitsPerSample: source.bitsPerSample, minEntropy: source.claimedMinEntropy, alpha: configuration.alpha)
        let health = try HealthMonitor(cutoffs: cutoffs, policy: configuration.failurePolicy, monitors: monitors)
        self.init(source: source, health: health, extractor: VonNeumannExtractor())

        switch configuration.extractor {
        case .vonNeumann:
            break
        case .peres(let blockBits, let depth):
            replaceExtractor(try PeresExtractor(blockBits: blockBits, depth: depth))
        case .sha256(let blockBits):
            replaceExtractor(try SHA256Conditioner(inputBits: blockBits))
            let inputEntropy = source.claimedMinEntropy / Double(source.bitsPerSample) * Double(blockBits)
            outputEntropyPerBit = SHA256Conditioner.outputEntropy(inputBits: blockBits, inputEntropy: inputEntropy) / 256
        case .toeplitz(let settings):
            let minEntropyPerBit = source.claimedMinEntropy / Double(source.bitsPerSample)
            let outputBits = try leftoverHashOutputLength(
                inputBits: settings.blockBits, minEntropyPerBit: minEntropyPerBit, epsilon: settings.epsilon)
            if let seed = settings.seed {
                guard settings.rotationBlocks == nil else {
                    throw .invalidArgument("seed rotation", "a given seed cannot be rotated; rotation draws seeds")
                }
                replaceExtractor(try ToeplitzExtractor(seed: seed, inputBits: settings.blockBits, outputBits: outputBits))
            } else {
                if let blocks = settings.rotationBlocks, blocks < 1 {
                    throw .invalidArgument("seed rotation", "rotate after at least one block, got \(blocks)")
                }
                toeplitzRotation = ToeplitzRotation(
                    inputBits: settings.blockBits, outputBits: outputBits, blocks: settings.rotationBlocks)
                try drawToeplitzSeed()
            }
        }
    }
}
