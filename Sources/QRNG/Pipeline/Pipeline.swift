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
    /// Where the Toeplitz seed came from and what drawing it cost; `nil` for the other extractors.
    public internal(set) var seeding: SeedingSummary?
    /// The min-entropy per sample the health tests and the extractor assume, in bits.
    public internal(set) var minEntropyPerSample: Double
    /// Where ``minEntropyPerSample`` comes from: a claim, the source's model, or an assessment.
    public internal(set) var minEntropyOrigin: String

    /// The min-entropy each output bit is credited with: 1 for seeded extraction sized by the leftover hash
    /// lemma and for the von Neumann family on independent samples; a SHA-256 conditioner's output entropy
    /// (SP 800-90B §3.1.5.1.2) over its 256 bits.
    public internal(set) var outputEntropyPerBit = 1.0

    private var samples: SampleBuffer
    /// The source's counters after the previous read, so that each step hands the monitors its own pulses.
    private var countersBefore = SourceCounters()
    var toeplitzRotation: ToeplitzRotation?
    /// The Toeplitz seed being drawn, when the extractor waits for one.
    private var seedDraw: SeedDraw?
    /// Whether the source has ended and the end of input has been processed.
    private var sourceEnded = false

    /// What the end of input dropped, once the source has ended.
    public private(set) var endOfInput: EndOfInputSummary?
    /// Whether each step records ``sourceMarks`` (for a journaled pool), extracting in stretches of
    /// ``sourceMarkStrideBits`` so that a consumer that takes a few bytes is charged for about as many samples.
    public var tracksSourceMarks = false
    /// The last step's marks: the first ``EntropyPool/SourceMark/bitCount`` bits it appended to its output (counted
    /// from the output's length when the step began) were computed from samples before the mark's offset.
    public private(set) var sourceMarks: [EntropyPool.SourceMark] = []
    /// The released bits extracted between two source marks.
    public static let sourceMarkStrideBits = 1 << 13
    /// Released bits handed to the extractor, and to seed draws (completed or not).
    private var bitsToExtractor: UInt64 = 0
    private var bitsToSeedDraws: UInt64 = 0
    /// Released bits in a partial extractor block or an unfinished seed draw when a failure withdrew them.
    private var bitsWithdrawnAfterFailures: UInt64 = 0
    /// The source's sample count when the pipeline was wired: the stream offset of the health monitor's first
    /// sample.
    private let streamBase: UInt64
    /// The output's length when the current step began.
    private var stepOutputStart = 0

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
        self.streamBase = source.counters.samples
    }

    /// The stream offset of the end of what the health monitor has released or discarded.
    private var releasedEnd: UInt64 { streamBase + health.samplesTested - UInt64(health.samplesHeld) }

    /// Runs every stage once and appends the extracted bits to `output`.
    ///
    /// When the source has ended, the step processes the end of input once: the health monitor releases what
    /// has passed every test it can still get (``HealthMonitor/finish(releasingInto:)``), the extractor turns it
    /// into output, and ``endOfInput`` records what was dropped (the unfinished test window, the incomplete
    /// final block). That step appends its bits and returns `false`.
    ///
    /// - Returns: `false` when the source has ended.
    /// - Throws: The failure, when the health tests fail permanently; an error of the source.
    public mutating func step(into output: inout BitBuffer) throws(QRNGError) -> Bool {
        guard !sourceEnded else { return false }
        samples.removeAll()
        var approved = BitBuffer()
        stepOutputStart = output.count
        sourceMarks.removeAll(keepingCapacity: true)
        defer { approved.removeAll() }
        guard try source.read(approximately: samplesPerStep, into: &samples) else {
            sourceEnded = true
            let newFailures = health.finish(releasingInto: &approved)
            try distribute(approved, failures: newFailures, into: &output)
            endOfInput = EndOfInputSummary(
                health: health.endOfInput ?? HealthMonitor.EndOfInput(),
                partialBlockBits: extractor.bufferedInputBits, unfinishedSeedBits: seedDraw?.inputBits ?? 0)
            if var rotation = toeplitzRotation {
                rotation.inputSinceSeed -= extractor.bufferedInputBits
                toeplitzRotation = rotation
            }
            extractor.reset()
            seedDraw?.restart()
            return false
        }
        let counters = source.counters
        let newFailures = health.process(
            samples, counters: counters.counted(since: countersBefore), releasingInto: &approved)
        countersBefore = counters
        try distribute(approved, failures: newFailures, into: &output)
        return true
    }

    /// Records `newFailures` and hands the released bits to the seed being drawn and to the extractor, in stream
    /// order: a drawn seed always comes from the released bits right after the block where the previous one
    /// expired, so the output depends on the bits alone, never on how the source's reads divided them.
    private mutating func distribute(
        _ approved: BitBuffer, failures newFailures: [HealthFailure], into output: inout BitBuffer
    ) throws(QRNGError) {
        if newFailures.contains(where: \.gating) { dropPartialBlock() }
        failures.append(contentsOf: newFailures)
        let before = output.count
        // The last released sample lies before `releasedEnd`, and each later bit of `approved` is a sample further
        // on: so every bit before `position` comes from samples before `releasedEnd` less the whole samples after.
        let end = releasedEnd
        let bitsPerSample = source.bitsPerSample
        func mark(_ position: Int, in output: BitBuffer) {
            guard tracksSourceMarks, output.count > stepOutputStart else { return }
            let bound = end - UInt64((approved.count - position) / bitsPerSample)
            let bitCount = output.count - stepOutputStart
            if let last = sourceMarks.last, last.bitCount == bitCount { return }
            sourceMarks.append(EntropyPool.SourceMark(bitCount: bitCount, sampleOffset: bound))
        }
        var offset = 0
        while offset < approved.count {
            if seedDraw != nil {
                let before = offset
                offset = seedDraw!.take(from: approved, at: offset)
                bitsToSeedDraws += UInt64(offset - before)
                if seedDraw!.isComplete { try installDrawnSeed(surplusInto: &output) }
                continue
            }
            var taking = approved.count - offset
            if let rotation = toeplitzRotation, let blocks = rotation.blocks {
                taking = min(taking, blocks * rotation.inputBits - rotation.inputSinceSeed)
            }
            if tracksSourceMarks { taking = min(taking, Self.sourceMarkStrideBits) }
            if offset == 0 && taking == approved.count {
                extractor.extract(approved, into: &output)
            } else {
                extractor.extract(approved.extracting(offset..<offset + taking), into: &output)
            }
            offset += taking
            bitsToExtractor += UInt64(taking)
            mark(offset, in: output)
            if var rotation = toeplitzRotation, let blocks = rotation.blocks {
                rotation.inputSinceSeed += taking
                toeplitzRotation = rotation
                if rotation.inputSinceSeed == blocks * rotation.inputBits { startSeedDraw() }
            }
        }
        mark(approved.count, in: output)
        outputBits += UInt64(output.count - before)
        if let permanent = newFailures.last(where: \.permanent) { throw permanent.error }
    }

    /// Starts drawing a Toeplitz seed from the next released bits; the extractor waits until it is complete.
    mutating func startSeedDraw() {
        guard let rotation = toeplitzRotation else { return }
        let draw = SeedDraw(
            bits: rotation.inputBits + rotation.outputBits - 1, minEntropyPerSample: minEntropyPerSample,
            bitsPerSample: source.bitsPerSample)
        seedDraw = draw
        if seeding == nil {
            seeding = SeedingSummary(
                given: false, seedBits: draw.bits, seedsDrawn: 0, inputBits: 0, surplusBits: 0,
                blockBits: draw.blockBits, bitsPerSample: source.bitsPerSample)
        }
    }

    /// Installs the completed seed and appends the digest bits past it, which have full entropy, to `output`.
    private mutating func installDrawnSeed(surplusInto output: inout BitBuffer) throws(QRNGError) {
        guard var draw = seedDraw, var rotation = toeplitzRotation else { return }
        seedDraw = nil
        defer { draw.restart() }
        var seed = draw.completedSeed
        defer { seed.removeAll() }
        replaceExtractor(
            try ToeplitzExtractor(seed: seed, inputBits: rotation.inputBits, outputBits: rotation.outputBits))
        var surplus = draw.surplus
        output.append(contentsOf: surplus)
        seeding?.surplusBits += UInt64(surplus.count)
        surplus.removeAll()
        seeding?.inputBits += UInt64(draw.inputBits)
        rotation.inputSinceSeed = 0
        toeplitzRotation = rotation
        seedsDrawn += 1
        seeding?.seedsDrawn = seedsDrawn
    }

    /// Runs the health monitor's start-up tests again on request (SP 800-90B §4.3, on-demand testing): the
    /// samples it holds and the extractor's partial block are discarded, and output resumes only after fresh
    /// start-up samples have passed. See ``HealthMonitor/requestOnDemandTest()``.
    public mutating func requestOnDemandTest() {
        health.requestOnDemandTest()
        dropPartialBlock()
    }

    /// Drops the extractor's partial block and any seed being drawn, whose input the health monitor has just
    /// withdrawn its approval from.
    private mutating func dropPartialBlock() {
        bitsWithdrawnAfterFailures += UInt64(extractor.bufferedInputBits + (seedDraw?.inputBits ?? 0))
        if var rotation = toeplitzRotation {
            rotation.inputSinceSeed -= extractor.bufferedInputBits
            toeplitzRotation = rotation
        }
        extractor.reset()
        seedDraw?.restart()
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
            lastFailure: health.lastFailure, extractorName: extractorName, outputBits: outputBits,
            minEntropyOrigin: minEntropyOrigin, monitorWarnings: health.monitorWarnings, endOfInput: endOfInput,
            seeding: seeding, samples: health.sampleAccount, bits: bitAccount, samplesSkippedBefore: streamBase)
    }

    /// Where the released bits went.
    private var bitAccount: BitAccount {
        var account = BitAccount()
        account.released = health.samplesReleased * UInt64(source.bitsPerSample)
        account.toExtractor = bitsToExtractor
        account.toSeedDraws = bitsToSeedDraws
        account.seeds = seeding?.inputBits ?? 0
        account.withdrawnAfterFailures = bitsWithdrawnAfterFailures
        if let endOfInput {
            account.droppedAtEnd = UInt64(endOfInput.partialBlockBits + endOfInput.unfinishedSeedBits)
        }
        account.waiting = UInt64(extractor.bufferedInputBits + (seedDraw?.inputBits ?? 0))
        account.output = outputBits
        account.seedSurplus = seeding?.surplusBits ?? 0
        return account
    }

    /// The extractor's name; a Toeplitz extractor whose first seed is still being drawn is named as it will be.
    private var extractorName: String {
        if seedsDrawn == 0, seedDraw != nil, let rotation = toeplitzRotation {
            return "toeplitz(\(rotation.inputBits)→\(rotation.outputBits)), seed being drawn"
        }
        return extractor.name
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
    /// Monitor alarms reported without gating (``MonitorAction/warn``).
    public var monitorWarnings: Int = 0
    /// What the end of input dropped, once the source has ended.
    public var endOfInput: EndOfInputSummary?
    /// Where the Toeplitz seed came from and what drawing it cost; `nil` for the other extractors.
    public var seeding: SeedingSummary?
    /// Where every tested sample went.
    public var samples = SampleAccount()
    /// Where every released bit went.
    public var bits = BitAccount()
    /// Samples of the source before the pipeline's first: those an earlier run consumed (a resumed recording).
    public var samplesSkippedBefore: UInt64 = 0
}

/// Where the bits of the released samples went: to Toeplitz seeds, through the extractor, or dropped and why.
///
/// ``released`` = ``toExtractor`` + ``toSeedDraws`` (``isBalanced``); of those, what completed whole extractor
/// blocks or seeds is ``extracted`` and ``seeds``, and the rest was withdrawn after a failure, dropped at the end
/// of input or is still waiting for the rest of its block.
public struct BitAccount: Sendable, Hashable {
    /// Bits of the released samples.
    public var released: UInt64 = 0
    /// Released bits handed to the extractor.
    public var toExtractor: UInt64 = 0
    /// Released bits taken by Toeplitz seed draws, completed or not.
    public var toSeedDraws: UInt64 = 0
    /// Released bits that completed drawn seeds.
    public var seeds: UInt64 = 0
    /// Released bits of a partial extractor block or an unfinished seed draw that a failure withdrew.
    public var withdrawnAfterFailures: UInt64 = 0
    /// Released bits of the incomplete final block and an unfinished seed draw at the end of input.
    public var droppedAtEnd: UInt64 = 0
    /// Released bits waiting in the extractor's partial block or an unfinished seed draw.
    public var waiting: UInt64 = 0
    /// Bits the pipeline output: the extractor's and the seeds' surplus.
    public var output: UInt64 = 0
    /// Output bits that are digest bits past a drawn seed.
    public var seedSurplus: UInt64 = 0

    public init() {}

    /// Released bits that went through the extractor in whole blocks (or pairs).
    public var extracted: UInt64 {
        let lost = withdrawnAfterFailures + droppedAtEnd + waiting + seeds
        return toExtractor + toSeedDraws >= lost ? toExtractor + toSeedDraws - lost : 0
    }

    /// Whether every released bit went to the extractor or a seed draw.
    public var isBalanced: Bool { released == toExtractor + toSeedDraws }
}
