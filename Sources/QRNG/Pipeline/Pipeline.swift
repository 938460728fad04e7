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

    /// Seeds drawn so far for the Toeplitz extractor (one at start-up, then one per rotation).
    public private(set) var seedsDrawn = 0
    /// The min-entropy per sample the health tests and the extractor assume, in bits.
    public internal(set) var minEntropyPerSample: Double
    /// Where ``minEntropyPerSample`` comes from: a claim, the source's model, or an assessment.
    public internal(set) var minEntropyOrigin: String

    /// The min-entropy each output bit is credited with: 1 for seeded extraction sized by the leftover hash
    /// lemma and for the von Neumann family on independent samples; a SHA-256 conditioner's output entropy
    /// (SP 800-90B §3.1.5.1.2) over its 256 bits.
    public internal(set) var outputEntropyPerBit = 1.0

    private var samples: SampleBuffer
    private var released = BitBuffer()
    /// The source's counters after the previous read, so that each step hands the monitors its own pulses.
    private var countersBefore = SourceCounters()
    var toeplitzRotation: ToeplitzRotation?

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
        self.minEntropyPerSample = health.cutoffs.minEntropy
        self.minEntropyOrigin = "health tests' H = \(health.cutoffs.minEntropy)"
        self.countersBefore = source.counters
    }

    /// Runs every stage once and appends the extracted bits to `output`.
    ///
    /// - Returns: `false` when the source has ended.
    /// - Throws: The failure, when the health tests fail permanently; an error of the source.
    public mutating func step(into output: inout BitBuffer) throws(QRNGError) -> Bool {
        try runStages(into: &output, rotatingSeeds: true)
    }

    /// Draws a fresh Toeplitz seed through the health tests and a von Neumann extractor, and starts using it.
    mutating func drawToeplitzSeed() throws(QRNGError) {
        guard var rotation = toeplitzRotation else { return }
        var seed = try drawSeed(bits: rotation.inputBits + rotation.outputBits - 1)
        defer { seed.removeAll() }
        replaceExtractor(
            try ToeplitzExtractor(seed: seed, inputBits: rotation.inputBits, outputBits: rotation.outputBits))
        rotation.inputSinceSeed = 0
        toeplitzRotation = rotation
        seedsDrawn += 1
    }

    private mutating func runStages(into output: inout BitBuffer, rotatingSeeds: Bool) throws(QRNGError) -> Bool {
        samples.removeAll()
        guard try source.read(approximately: samplesPerStep, into: &samples) else { return false }
        var approved = BitBuffer()
        swap(&approved, &released)  // drawing a rotated seed below runs the stages again, with `released`
        defer {
            approved.removeAll(keepingCapacity: true)
            swap(&approved, &released)
        }
        let counters = source.counters
        let newFailures = health.process(
            samples, counters: counters.counted(since: countersBefore), releasingInto: &approved)
        countersBefore = counters
        if !newFailures.isEmpty {
            dropPartialBlock()
            failures.append(contentsOf: newFailures)
        }
        let before = output.count
        if rotatingSeeds, let rotation = toeplitzRotation, let blocks = rotation.blocks {
            // Feed the extractor up to the block where its seed expires, replace the seed, go on.
            let perSeed = blocks * rotation.inputBits
            var offset = 0
            while offset < approved.count {
                let taking = min(perSeed - toeplitzRotation!.inputSinceSeed, approved.count - offset)
                extractor.extract(approved.extracting(offset..<offset + taking), into: &output)
                toeplitzRotation!.inputSinceSeed += taking
                offset += taking
                if toeplitzRotation!.inputSinceSeed == perSeed { try drawToeplitzSeed() }
            }
        } else {
            extractor.extract(approved, into: &output)
        }
        outputBits += UInt64(output.count - before)
        if let permanent = newFailures.last(where: \.permanent) { throw permanent.error }
        return true
    }

    /// Runs the health monitor's start-up tests again on request (SP 800-90B §4.3, on-demand testing): the
    /// samples it holds and the extractor's partial block are discarded, and output resumes only after fresh
    /// start-up samples have passed. See ``HealthMonitor/requestOnDemandTest()``.
    public mutating func requestOnDemandTest() {
        health.requestOnDemandTest()
        dropPartialBlock()
    }

    /// Drops the extractor's partial block, whose input the health monitor has just withdrawn its approval from.
    private mutating func dropPartialBlock() {
        if var rotation = toeplitzRotation {
            rotation.inputSinceSeed -= extractor.bufferedInputBits
            toeplitzRotation = rotation
        }
        extractor.reset()
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
            guard try runStages(into: &drawn, rotatingSeeds: false) else {
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
            lastFailure: health.lastFailure, extractorName: extractor.name, outputBits: outputBits,
            minEntropyOrigin: minEntropyOrigin)
    }
}

/// When to replace a drawn Toeplitz seed.
struct ToeplitzRotation: Sendable {
    let inputBits: Int
    let outputBits: Int
    /// Blocks per seed; `nil` keeps the first seed.
    let blocks: Int?
    /// Input bits hashed with the current seed.
    var inputSinceSeed = 0

    init(inputBits: Int, outputBits: Int, blocks: Int?) {
        self.inputBits = inputBits
        self.outputBits = outputBits
        self.blocks = blocks
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
    /// Where the min-entropy the pipeline assumes comes from.
    public var minEntropyOrigin: String
}
