import QRNG
import QRNGTestSupport
import Testing

@Suite struct PipelineTests {
    static func output(seed: UInt64?, extractor: PipelineConfiguration.Extractor, bits: Int) throws -> BitBuffer {
        var pipeline = try Pipeline(
            configuration: PipelineConfiguration(
                source: .simulatedBeamSplitter(SimulationConfiguration(), seed: seed), extractor: extractor))
        var output = BitBuffer()
        while output.count < bits { _ = try pipeline.step(into: &output) }
        return output.extracting(0..<bits)
    }

    @Test(arguments: [
        PipelineConfiguration.Extractor.vonNeumann, .toeplitz(blockBits: 1024, epsilon: .defaultEpsilon),
    ])
    func aSeedReproducesTheOutputAndAnotherSeedChangesIt(extractor: PipelineConfiguration.Extractor) throws {
        let first = try Self.output(seed: 7, extractor: extractor, bits: 50_000)
        let again = try Self.output(seed: 7, extractor: extractor, bits: 50_000)
        let other = try Self.output(seed: 8, extractor: extractor, bits: 50_000)
        #expect(first == again)
        #expect(first != other)
        let ones = Double(first.nonzeroBitCount)
        #expect(abs(ones - 25_000) < 5 * (12_500.0).squareRoot(), "ones: \(ones)")
    }

    @Test func toeplitzOutputLengthComesFromTheClaimedMinEntropy() throws {
        let pipeline = try Pipeline(
            configuration: PipelineConfiguration(
                source: .simulatedBeamSplitter(SimulationConfiguration(), seed: 1), claimedMinEntropy: 0.9,
                extractor: .toeplitz(blockBits: 4096, epsilon: .defaultEpsilon)))
        // ⌊4096·0.9 − 200⌋; the seed is drawn from the first released bits.
        #expect(pipeline.statistics.extractorName == "toeplitz(4096→3486), seed being drawn")
        #expect(pipeline.outputBits == 0, "the seed drawn at start-up is not output")
        #expect(pipeline.source.provenance.isSimulated)
    }

    /// A fault injected in the middle of an extractor block: no output block contains a sample from the faulty
    /// stretch or any sample the tests had not looked past, and no block spans the failure.
    @Test func aFaultMidBlockReachesNoOutput() throws {
        let faultStart: UInt64 = 20_003
        let faultEnd: UInt64 = 20_200
        let source = ScriptedSource(bitsPerSample: 16, claimedMinEntropy: 8, length: 60_000) { offset in
            (faultStart..<faultEnd).contains(offset) ? 0x7777 : UInt16(truncatingIfNeeded: offset)
        }
        let health = try HealthMonitor(
            cutoffs: try HealthCutoffs(bitsPerSample: 16, minEntropy: 8),
            policy: FailurePolicy(permanentFailureCount: 1000))
        let blockSamples = 100
        var pipeline = Pipeline(
            source: source, health: health, extractor: BlockPassThroughExtractor(blockBits: 16 * blockSamples),
            samplesPerStep: 1000)
        var output = BitBuffer()
        while try pipeline.step(into: &output) {}

        let detection = try #require(pipeline.failures.first).sampleOffset
        #expect(detection == faultStart + 4)  // RCT cutoff 5
        let offsets = stride(from: 0, to: output.count, by: 16).map { UInt64(output.word(atBit: $0, width: 16) >> 48) }
        // Start-up re-runs after the last failure and discards its samples.
        let lastFailure = try #require(pipeline.failures.last).sampleOffset
        #expect(lastFailure + 5 >= faultEnd, "the stuck stretch failed until its end")
        let unsafe = (detection - UInt64(health.holdbackSamples))..<(lastFailure + 1 + UInt64(health.startupSamples))
        let unsafeReleased = offsets.filter { unsafe.contains($0) }
        #expect(unsafeReleased.isEmpty, "released samples from \(unsafe)")
        for block in stride(from: 0, to: offsets.count, by: blockSamples) {
            let samples = offsets[block..<block + blockSamples]
            #expect(samples.last! - samples.first! == UInt64(blockSamples - 1), "block at \(samples.first!) spans a gap")
        }
        #expect(offsets.last.map { $0 > faultEnd } == true, "output resumed after the fault")
    }

    @Test func aPermanentFailureStopsThePipeline() throws {
        let source = ScriptedSource(bitsPerSample: 1, claimedMinEntropy: 1) { offset in offset < 5000 ? UInt16(offset.nonzeroBitCount & 1) : 1 }
        let health = try HealthMonitor(cutoffs: try HealthCutoffs(bitsPerSample: 1, minEntropy: 1))
        var pipeline = Pipeline(source: source, health: health, extractor: VonNeumannExtractor(), samplesPerStep: 4096)
        var output = BitBuffer()
        #expect {
            while try pipeline.step(into: &output) {}
        } throws: { error in
            guard let error = error as? QRNGError else { return false }
            return error.code == .healthTestFailure && error.message.contains("permanent")
        }
        #expect(pipeline.health.state == .failedPermanently)
    }

    @Test func producerFillsThePoolAndReportsAPermanentFailureToConsumers() throws {
        let source = ScriptedSource(bitsPerSample: 1, claimedMinEntropy: 1) { offset in
            offset < 200_000 ? UInt16((offset &* 0x9E37_79B9_7F4A_7C15) >> 63) : 0
        }
        let health = try HealthMonitor(cutoffs: try HealthCutoffs(bitsPerSample: 1, minEntropy: 1))
        let pipeline = Pipeline(source: source, health: health, extractor: VonNeumannExtractor(), samplesPerStep: 8192)
        let pool = EntropyPool(provenance: source.provenance, capacityBits: 1 << 20)
        let producer = EntropyProducer(pipeline: pipeline, pool: pool)
        #expect {
            while true { _ = try pool.randomBytes(count: 1000) }
        } throws: { ($0 as? QRNGError)?.code == .healthTestFailure }
        producer.waitUntilFinished()
        #expect(producer.statistics.healthState == .failedPermanently)
        #expect(pool.availableBits == 0, "bits left in the pool are discarded on a permanent failure")
    }
}

@Suite struct PipelineExtractorChoiceTests {
    static func pipeline(_ extractor: PipelineConfiguration.Extractor, seed: UInt64 = 5) throws -> Pipeline {
        try Pipeline(
            configuration: PipelineConfiguration(
                source: .simulatedBeamSplitter(SimulationConfiguration(), seed: seed), extractor: extractor))
    }

    static func output(_ pipeline: inout Pipeline, bits: Int) throws -> BitBuffer {
        var output = BitBuffer()
        while output.count < bits { _ = try pipeline.step(into: &output) }
        return output.extracting(0..<bits)
    }

    @Test func rotationDrawsAFreshSeedEveryFewBlocks() throws {
        var rotating = try Self.pipeline(.toeplitz(.init(blockBits: 1024, rotationBlocks: 10)))
        var fixed = try Self.pipeline(.toeplitz(.init(blockBits: 1024)))
        // Seeds are drawn from the first released bits, not when the pipeline is built.
        #expect(rotating.seedsDrawn == 0 && fixed.seedsDrawn == 0)
        let rotated = try Self.output(&rotating, bits: 200_000)
        let kept = try Self.output(&fixed, bits: 200_000)
        // 824 output bits per block: 200,000 bits span well over 20 rotations.
        #expect(rotating.seedsDrawn > 20)
        #expect(fixed.seedsDrawn == 1)
        #expect(rotated != kept)
        var again = try Self.pipeline(.toeplitz(.init(blockBits: 1024, rotationBlocks: 10)))
        #expect(try Self.output(&again, bits: 200_000) == rotated, "rotation is reproducible under a seed")
    }

    @Test func aGivenSeedIsUsedInsteadOfADrawnOne() throws {
        var generator = Xoshiro256StarStar(seed: 60)
        let seed = BitBuffer.random(count: 4096 + 4096, using: &generator)
        var given = try Self.pipeline(.toeplitz(.init(blockBits: 4096, seed: seed)))
        #expect(given.seedsDrawn == 0)
        var drawn = try Self.pipeline(.toeplitz(.init(blockBits: 4096)))
        #expect(try Self.output(&given, bits: 10_000) != (try Self.output(&drawn, bits: 10_000)))
        #expect(throws: QRNGError.self) { try Self.pipeline(.toeplitz(.init(blockBits: 4096, seed: seed.extracting(0..<100)))) }
        #expect(throws: QRNGError.self) {
            try Self.pipeline(.toeplitz(.init(blockBits: 4096, seed: seed, rotationBlocks: 5)))
        }
    }

    @Test(arguments: [PipelineConfiguration.Extractor.peres(blockBits: 1 << 16, depth: 12), .sha256(blockBits: 512)])
    func everyExtractorRunsInThePipeline(extractor: PipelineConfiguration.Extractor) throws {
        var pipeline = try Self.pipeline(extractor)
        let output = try Self.output(&pipeline, bits: 100_000)
        let ones = Double(output.nonzeroBitCount)
        #expect(abs(ones - 50_000) < 5 * 25_000.0.squareRoot())
    }
}
