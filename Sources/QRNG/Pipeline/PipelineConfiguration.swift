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
        /// Toeplitz hashing of `blockBits`-bit blocks, with the output length from the leftover hash lemma for
        /// distance `epsilon` from uniform. Its seed is drawn through the health tests and a von Neumann
        /// extractor when the pipeline starts, and never output.
        case toeplitz(blockBits: Int, epsilon: ErrorProbability)
        /// The von Neumann extractor.
        case vonNeumann
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

    /// A configuration; by default the simulated QD beam splitter, α = 2⁻³⁰, Toeplitz hashing of 4096-bit blocks
    /// with ε = 2⁻¹⁰⁰.
    public init(
        source: Source = .simulatedBeamSplitter(EmitterConfiguration(), seed: nil),
        claimedMinEntropy: Double? = nil,
        alpha: ErrorProbability = .defaultAlpha,
        failurePolicy: FailurePolicy = FailurePolicy(),
        extractor: Extractor = .toeplitz(blockBits: 4096, epsilon: .defaultEpsilon)
    ) {
        self.source = source
        self.claimedMinEntropy = claimedMinEntropy
        self.alpha = alpha
        self.failurePolicy = failurePolicy
        self.extractor = extractor
    }
}

extension Pipeline {
    /// Builds the pipeline `configuration` describes, drawing the Toeplitz seed when one is needed.
    ///
    /// - Throws: ``QRNGError/Code/invalidArgument`` naming the first parameter out of range; a health failure
    ///   while the seed is drawn.
    public init(configuration: PipelineConfiguration) throws(QRNGError) {
        let source: any EntropySource
        switch configuration.source {
        case .simulatedBeamSplitter(let emitterConfiguration, let seed):
            let emitter = try SimulatedQuantumDotEmitter(configuration: emitterConfiguration, seed: seed)
            let minEntropy = configuration.claimedMinEntropy ?? emitter.probabilities.minEntropyPerBit
            source = try BeamSplitterSource(clicks: emitter, claimedMinEntropy: minEntropy)
        }
        let cutoffs = try HealthCutoffs(
            bitsPerSample: source.bitsPerSample, minEntropy: source.claimedMinEntropy, alpha: configuration.alpha)
        let health = try HealthMonitor(cutoffs: cutoffs, policy: configuration.failurePolicy)
        self.init(source: source, health: health, extractor: VonNeumannExtractor())

        if case .toeplitz(let blockBits, let epsilon) = configuration.extractor {
            let minEntropyPerBit = source.claimedMinEntropy / Double(source.bitsPerSample)
            let outputBits = try leftoverHashOutputLength(
                inputBits: blockBits, minEntropyPerBit: minEntropyPerBit, epsilon: epsilon)
            var seed = try drawSeed(bits: blockBits + outputBits - 1)
            defer { seed.removeAll() }
            replaceExtractor(try ToeplitzExtractor(seed: seed, inputBits: blockBits, outputBits: outputBits))
        }
    }
}
