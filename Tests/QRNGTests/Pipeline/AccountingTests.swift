import QRNG
import Testing

/// Every sample and every released bit is accounted for, at every step: released, held, discarded by start-up
/// testing, rejected by the test that failed, dropped at the end and why.
@Suite struct AccountingTests {
    /// Fair bits, except stuck runs of 50 equal samples from each offset in `stuck`, each of which the Repetition
    /// Count Test (cutoff 35 at H = 0.9) catches once.
    static func source(length: UInt64, stuck: [UInt64], stuckFrom: UInt64 = .max) -> ScriptedSource {
        ScriptedSource(bitsPerSample: 1, claimedMinEntropy: 1, length: length) { offset in
            if offset >= stuckFrom { return 1 }
            if stuck.contains(where: { offset >= $0 && offset < $0 + 50 }) { return 1 }
            return EndOfInputTests.bit(offset)
        }
    }

    static func pipeline(
        _ source: some EntropySource, extractor: PipelineConfiguration.Extractor
    ) throws -> Pipeline {
        let health = try HealthMonitor(
            cutoffs: try HealthCutoffs(bitsPerSample: 1, minEntropy: 0.9),
            monitors: PhotonMonitorSettings.samplesOnly())
        var pipeline = Pipeline(source: source, health: health, extractor: VonNeumannExtractor(), samplesPerStep: 7_000)
        try pipeline.configureExtractor(extractor, minEntropyPerSample: 0.9)
        return pipeline
    }

    /// The accounts add up, and agree with what the source read and what the pipeline appended to `output`,
    /// which are counted apart from them.
    static func checkBalanced(_ pipeline: Pipeline, output: BitBuffer, _ context: String) {
        let statistics = pipeline.statistics
        let samples = statistics.samples
        #expect(samples.isBalanced, "samples \(context): \(samples)")
        #expect(samples.tested == pipeline.source.counters.samples, "\(context)")
        #expect(statistics.bits.isBalanced, "bits \(context): \(statistics.bits)")
        #expect(statistics.bits.output == UInt64(output.count), "\(context)")
    }

    /// Two intermittent failures, the second during the start-up after the first: at every step the samples and bits
    /// add up, each failure is charged to the RCT with at least the samples it held back, and at the end nothing
    /// is held, in start-up or waiting.
    @Test(arguments: [
        PipelineConfiguration.Extractor.vonNeumann, .peres(blockBits: 1 << 12, depth: 6),
        .toeplitz(.init(blockBits: 4096, rotationBlocks: 3)),
    ])
    func intermittentFailuresAreChargedToTheirTest(extractor: PipelineConfiguration.Extractor) throws {
        let stuck: [UInt64] = [60_000, 60_500]
        var pipeline = try Self.pipeline(Self.source(length: 250_001, stuck: stuck), extractor: extractor)
        var output = BitBuffer()
        var steps = 0
        while try pipeline.step(into: &output) {
            steps += 1
            Self.checkBalanced(pipeline, output: output, "after step \(steps)")
        }
        let statistics = pipeline.statistics
        Self.checkBalanced(pipeline, output: output, "at the end")
        let samples = statistics.samples
        #expect(samples.tested == 250_001)
        let rejected = samples.rejected[.repetitionCount] ?? 0
        #expect(statistics.failureCount == 2)
        // The first failure caught at least the samples held back (2W = 2048); the second fell in the start-up
        // after the first, so it caught that start-up's samples.
        #expect(rejected >= UInt64(pipeline.health.holdbackSamples) + 400)
        #expect(samples.rejected.keys.allSatisfy { $0 == .repetitionCount })
        // The initial start-up and one after each failure (the one interrupted by the second failure is charged
        // to that failure).
        #expect(samples.startup == 2 * 1024)
        #expect(samples.held == 0 && samples.inStartup == 0 && samples.afterPermanentFailure == 0)
        let end = try #require(statistics.endOfInput)
        #expect(samples.droppedAtEnd == UInt64(end.health.droppedSamples))
        #expect(statistics.bits.waiting == 0)
        #expect(statistics.bits.droppedAtEnd == UInt64(end.partialBlockBits + end.unfinishedSeedBits))
    }

    /// A permanent failure: the samples read after it are accounted as such, and the account still adds up.
    @Test func samplesAfterAPermanentFailureAreCounted() throws {
        let source = Self.source(length: 200_000, stuck: [], stuckFrom: 80_000)
        var pipeline = try Self.pipeline(source, extractor: .vonNeumann)
        var output = BitBuffer()
        #expect(throws: QRNGError.self) {
            while try pipeline.step(into: &output) {}
        }
        var health = pipeline.health
        var released = BitBuffer()
        // The monitor keeps counting what it is handed after the failure.
        let more = SampleBuffer(bits: BitBuffer(zeros: 5_000))
        _ = health.process(more, releasingInto: &released)
        let samples = health.sampleAccount
        #expect(samples.isBalanced, "\(samples)")
        #expect(samples.afterPermanentFailure >= 5_000)
        #expect((samples.rejected[.repetitionCount] ?? 0) > 0)
        #expect(released.isEmpty)
    }

    /// An on-demand test charges the held samples to itself.
    @Test func anOnDemandTestIsCharged() throws {
        var pipeline = try Self.pipeline(Self.source(length: 100_000, stuck: []), extractor: .vonNeumann)
        var output = BitBuffer()
        for _ in 0..<5 { _ = try pipeline.step(into: &output) }
        let held = pipeline.health.samplesHeld
        pipeline.requestOnDemandTest()
        while try pipeline.step(into: &output) {}
        let samples = pipeline.statistics.samples
        #expect(samples.isBalanced, "\(samples)")
        #expect(samples.onDemand == UInt64(held) && held > 0)
        #expect(samples.startup == 2 * 1024)
    }
}
