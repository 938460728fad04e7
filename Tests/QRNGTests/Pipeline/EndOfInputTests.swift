import QRNG
import Testing

/// A source that hands out another source's samples in pieces of pseudo-random sizes, as a pipe written in
/// random-sized chunks would.
struct ChunkedSource: EntropySource {
    var base: ScriptedSource
    var state: UInt64
    var provenance: Provenance { base.provenance }
    var bitsPerSample: Int { base.bitsPerSample }
    var claimedMinEntropy: Double { base.claimedMinEntropy }
    var counters: SourceCounters { base.counters }

    mutating func read(approximately count: Int, into buffer: inout SampleBuffer) throws(QRNGError) -> Bool {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        let size = 1 + Int((state >> 33) % 20_000)
        return try base.read(approximately: size, into: &buffer)
    }
}

@Suite struct EndOfInputTests {
    /// Fair, independent-looking bits from a fixed mixing function of the stream offset (SplitMix64's finaliser).
    static func bit(_ offset: UInt64) -> UInt16 {
        var z = offset &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return UInt16((z ^ (z >> 31)) & 1)
    }

    static let length: UInt64 = 300_001

    static func run(
        extractor: PipelineConfiguration.Extractor, chunked: UInt64?, samplesPerStep: Int = 1 << 16
    ) throws -> Pipeline {
        let script = ScriptedSource(bitsPerSample: 1, claimedMinEntropy: 1, length: length, sample: bit)
        let source: any EntropySource = chunked.map { ChunkedSource(base: script, state: $0) } ?? script
        let health = try HealthMonitor(
            cutoffs: try HealthCutoffs(bitsPerSample: 1, minEntropy: 0.9),
            monitors: PhotonMonitorSettings.samplesOnly())
        var pipeline = Pipeline(
            source: source, health: health, extractor: VonNeumannExtractor(), samplesPerStep: samplesPerStep)
        try pipeline.configureExtractor(extractor, minEntropyPerSample: 0.9)
        return pipeline
    }

    static func output(_ pipeline: inout Pipeline) throws -> BitBuffer {
        var output = BitBuffer()
        while try pipeline.step(into: &output) {}
        return output
    }

    static let seed: BitBuffer = {
        var bits = BitBuffer()
        for offset in 0..<UInt64(4096 + 3486 - 1) { bits.append(bit(offset &+ 1 << 40) == 1) }
        return bits
    }()

    static let extractors: [PipelineConfiguration.Extractor] = [
        .vonNeumann,
        .peres(blockBits: 1 << 14, depth: 8),
        .toeplitz(.init(blockBits: 4096, seed: seed)),
        .toeplitz(.init(blockBits: 4096, rotationBlocks: 5)),
    ]

    /// The same samples, read in one piece per step or in pieces of random sizes, give the same output bit for
    /// bit: for the seedless extractors, for Toeplitz with a given seed, and for drawn, rotated seeds.
    @Test(arguments: extractors)
    func theOutputDoesNotDependOnHowTheInputWasCutIntoPieces(extractor: PipelineConfiguration.Extractor) throws {
        var whole = try Self.run(extractor: extractor, chunked: nil)
        let reference = try Self.output(&whole)
        #expect(reference.count > 10_000)
        for seed: UInt64 in [1, 2, 3] {
            var pieces = try Self.run(extractor: extractor, chunked: seed)
            #expect(try Self.output(&pieces) == reference, "chunking \(seed)")
        }
        var smallSteps = try Self.run(extractor: extractor, chunked: nil, samplesPerStep: 777)
        #expect(try Self.output(&smallSteps) == reference)
    }

    /// At the end of input everything that passed reaches the extractor: only the APT's unfinished window, the
    /// monitors' last bits short of a word, and less than one extractor block are dropped.
    @Test(arguments: extractors)
    func theEndOfInputDropsLessThanOneBlockAndOneWindow(extractor: PipelineConfiguration.Extractor) throws {
        var pipeline = try Self.run(extractor: extractor, chunked: 9)
        _ = try Self.output(&pipeline)
        let end = try #require(pipeline.endOfInput)
        let statistics = pipeline.statistics
        #expect(statistics.samplesTested == Self.length)
        // Start-up discards 1024 samples; nothing else is lost but what the end says it dropped.
        #expect(statistics.samplesReleased == Self.length - 1024 - UInt64(end.health.droppedSamples))
        #expect(end.health.alarmedSamples == 0)
        #expect(end.health.unfinishedWindowSamples == Int((Self.length - 1024) % 1024))
        #expect(end.health.unevaluatedMonitorSamples < 64)
        let blockBits: Int
        switch extractor {
        case .vonNeumann: blockBits = 2
        case .peres(let bits, _): blockBits = bits
        case .toeplitz(let settings): blockBits = settings.blockBits
        case .sha256(let bits): blockBits = bits
        }
        #expect(end.partialBlockBits < blockBits)
        #expect(end.unfinishedSeedBits == 0)
    }

    /// With von Neumann, the output is exactly von Neumann over every released sample: the last step is not lost.
    @Test func vonNeumannOutputCoversEveryReleasedSample() throws {
        var pipeline = try Self.run(extractor: .vonNeumann, chunked: 4)
        let output = try Self.output(&pipeline)
        let released = Int(pipeline.statistics.samplesReleased)
        var input = BitBuffer()
        for offset in UInt64(1024)..<UInt64(1024 + released) { input.append(Self.bit(offset) == 1) }
        var reference = BitBuffer()
        var extractor = VonNeumannExtractor()
        extractor.extract(input, into: &reference)
        #expect(output == reference)
    }

    /// A drawn Toeplitz seed is the first S bits of SHA-256 digests of the first released bits, each digest over
    /// the samples that hold 320 bits of min-entropy; the digest bits past the seed are output, and the bits after
    /// the draw are hashed: nothing is drawn and thrown away.
    @Test func aDrawnSeedIsConditionedAndItsSurplusIsOutput() throws {
        var pipeline = try Self.run(extractor: .toeplitz(.init(blockBits: 4096)), chunked: 5)
        let output = try Self.output(&pipeline)
        let released = Int(pipeline.statistics.samplesReleased)
        var input = BitBuffer()
        for offset in UInt64(1024)..<UInt64(1024 + released) { input.append(Self.bit(offset) == 1) }
        let seedBits = 4096 + 3486 - 1
        let blockBits = 360  // ⌈320 / 0.9⌉ = 356 one-bit samples, rounded up to whole bytes
        let digests = (seedBits + 255) / 256
        var conditioner = try SHA256Conditioner(inputBits: blockBits)
        var drawn = BitBuffer()
        conditioner.extract(input.extracting(0..<digests * blockBits), into: &drawn)
        #expect(drawn.count == digests * 256)
        var toeplitz = try ToeplitzExtractor(seed: drawn.extracting(0..<seedBits), inputBits: 4096, outputBits: 3486)
        var reference = drawn.extracting(seedBits..<drawn.count)
        toeplitz.extract(input.extracting(digests * blockBits..<input.count), into: &reference)
        #expect(output == reference)
        let seeding = try #require(pipeline.statistics.seeding)
        #expect(!seeding.given && seeding.seedsDrawn == 1)
        #expect(seeding.samples == UInt64(digests * blockBits))
        #expect(seeding.surplusBits == UInt64(digests * 256 - seedBits))
        #expect(seeding.description.contains("through SHA-256"))
    }

    /// What a drawn seed costs, for any sample width and claim: at most 1.3 times the samples its bits need at
    /// the claimed min-entropy, plus one digest's block (against about four times with von Neumann on fair bits).
    @Test(arguments: [(1, 0.9), (1, 0.3), (8, 5.0), (12, 9.5)])
    func aDrawnSeedCostsAboutWhatItsEntropyNeeds(bitsPerSample: Int, minEntropy: Double) throws {
        let mask = UInt16((1 << bitsPerSample) - 1)
        let script = ScriptedSource(bitsPerSample: bitsPerSample, claimedMinEntropy: minEntropy, length: 400_000) {
            var z = $0 &* 0x9E37_79B9_7F4A_7C15
            z = (z ^ (z >> 29)) &* 0xBF58_476D_1CE4_E5B9
            return UInt16(truncatingIfNeeded: z ^ (z >> 32)) & mask
        }
        let health = try HealthMonitor(
            cutoffs: try HealthCutoffs(bitsPerSample: bitsPerSample, minEntropy: minEntropy),
            monitors: PhotonMonitorSettings.samplesOnly())
        var pipeline = Pipeline(source: script, health: health, extractor: VonNeumannExtractor())
        try pipeline.configureExtractor(.toeplitz(.init(blockBits: 4096)), minEntropyPerSample: minEntropy)
        _ = try Self.output(&pipeline)
        let seeding = try #require(pipeline.statistics.seeding)
        #expect(seeding.seedsDrawn == 1)
        let needed = Double(seeding.seedBits) / minEntropy
        let block = Double(seeding.blockBits / bitsPerSample)
        #expect(Double(seeding.samples) >= needed, "no seed from less entropy than it holds")
        #expect(Double(seeding.samples) <= 1.3 * needed + block, "\(seeding)")
    }

    /// A given seed costs nothing and the summary says so.
    @Test func aGivenSeedIsNamedAsGiven() throws {
        var pipeline = try Self.run(extractor: .toeplitz(.init(blockBits: 4096, seed: Self.seed)), chunked: nil)
        _ = try Self.output(&pipeline)
        let seeding = try #require(pipeline.statistics.seeding)
        #expect(seeding.given && seeding.seedsDrawn == 0 && seeding.inputBits == 0)
        #expect(seeding.description.hasPrefix("Toeplitz seed given"))
    }
}
