/// The stages before the pool, wired together: source → health monitor → extractor.
///
/// Each ``step(into:)`` pulls one buffer of samples from the source, runs the health tests over it, hands the
/// samples they release to the extractor and appends what the extractor completes. Bits reach the output only
/// through the health monitor's gate (see ``HealthMonitor``); after a failure the extractor's partial block is
/// dropped as well.
public struct Pipeline: Sendable {
    /// The entropy source.
    public private(set) var source: any EntropySource
    /// The health tests and output gate.
    public private(set) var health: HealthMonitor
    /// The extractor.
    public private(set) var extractor: any Extractor
    /// How many samples each step asks the source for.
    public let samplesPerStep: Int

    /// Bits the extractor has output.
    public private(set) var outputBits: UInt64 = 0
    /// Health-test failures seen.
    public private(set) var failures: [HealthFailure] = []

    private var samples: SampleBuffer
    private var released = BitBuffer()

    /// Wires a pipeline.
    ///
    /// - Parameters:
    ///   - source: The entropy source.
    ///   - health: The health monitor; its sample width must be the source's.
    ///   - extractor: The extractor.
    ///   - samplesPerStep: Samples per step; 64 Ki by default.
    public init(
        source: any EntropySource, health: HealthMonitor, extractor: any Extractor, samplesPerStep: Int = 1 << 16
    ) {
        precondition(source.bitsPerSample == health.cutoffs.bitsPerSample, "the health tests' sample width differs")
        self.source = source
        self.health = health
        self.extractor = extractor
        self.samplesPerStep = samplesPerStep
        self.samples = SampleBuffer(bitsPerSample: source.bitsPerSample)
    }

    /// Runs every stage once and appends the extracted bits to `output`.
    ///
    /// - Returns: `false` when the source has ended.
    /// - Throws: The failure, when the health tests fail permanently; an error of the source.
    public mutating func step(into output: inout BitBuffer) throws(QRNGError) -> Bool {
        samples.removeAll()
        guard try source.read(approximately: samplesPerStep, into: &samples) else { return false }
        released.removeAll(keepingCapacity: true)
        let newFailures = health.process(samples, releasingInto: &released)
        if !newFailures.isEmpty {
            extractor.reset()
            failures.append(contentsOf: newFailures)
        }
        let before = output.count
        extractor.extract(released, into: &output)
        outputBits += UInt64(output.count - before)
        if let permanent = newFailures.last(where: \.permanent) { throw permanent.error }
        return true
    }

    /// Draws `count` bits through the health tests and a von Neumann extractor, for a seed that must not come
    /// from the extractor it seeds; the bits are not counted as output.
    ///
    /// - Throws: ``QRNGError/Code/endOfInput`` when the source ends first; a permanent health failure.
    public mutating func drawSeed(bits count: Int) throws(QRNGError) -> BitBuffer {
        let current = extractor
        extractor = VonNeumannExtractor()
        defer {
            extractor = current
            extractor.reset()
        }
        var drawn = BitBuffer(minimumCapacity: count + samplesPerStep)
        let outputBefore = outputBits
        while drawn.count < count {
            guard try step(into: &drawn) else {
                throw QRNGError(.endOfInput, "the source ended before a \(count)-bit extractor seed was drawn")
            }
        }
        outputBits = outputBefore
        let seed = drawn.extracting(0..<count)
        drawn.removeAll()
        return seed
    }

    /// Replaces the extractor, as when a seeded extractor gets its seed.
    public mutating func replaceExtractor(_ newExtractor: any Extractor) {
        extractor = newExtractor
    }

    /// A snapshot of every stage's counters.
    public var statistics: PipelineStatistics {
        PipelineStatistics(
            provenance: source.provenance, source: source.counters, healthState: health.state,
            samplesTested: health.samplesTested, samplesReleased: health.samplesReleased,
            samplesDiscarded: health.samplesDiscarded, failureCount: health.failureCount,
            lastFailure: health.lastFailure, extractorName: extractor.name, outputBits: outputBits)
    }
}

/// Counters of every stage before the pool.
public struct PipelineStatistics: Sendable, Hashable {
    /// Where the samples came from.
    public var provenance: Provenance
    /// The source's event counters.
    public var source: SourceCounters
    /// The health monitor's state.
    public var healthState: HealthState
    /// Samples the health tests saw.
    public var samplesTested: UInt64
    /// Samples released to the extractor.
    public var samplesReleased: UInt64
    /// Samples discarded: start-up samples and failing stretches.
    public var samplesDiscarded: UInt64
    /// Health-test failures.
    public var failureCount: Int
    /// The most recent failure.
    public var lastFailure: HealthFailure?
    /// The extractor's name.
    public var extractorName: String
    /// Bits the extractor output.
    public var outputBits: UInt64
}
