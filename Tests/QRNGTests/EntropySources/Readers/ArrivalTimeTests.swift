import Foundation
import QRNG
import Testing

@Suite struct ArrivalTimeTests {
    static func reader(_ list: [(UInt16, UInt64)]) throws -> BinaryTimeTagReader {
        let sink = MemorySink()
        let writer = try BinaryTimeTagWriter(sink: sink)
        try writer.write(list.map { TimeTag(channel: $0.0, picoseconds: $0.1) })
        try writer.finish()
        return try BinaryTimeTagReader(bytes: sink.bytes)
    }

    static func samples(_ source: ArrivalTimeSource, request: Int = 2) throws -> [UInt16] {
        var source = source
        var buffer = SampleBuffer(bitsPerSample: source.bitsPerSample)
        while try source.read(approximately: request, into: &buffer) {}
        return (0..<buffer.count).map { buffer[$0] }
    }

    @Test func afterSyncTakesTheBinModuloTwoToTheK() throws {
        let reader = try Self.reader([
            (1, 5),  // before any sync: no sample
            (0, 1000), (1, 1000), (1, 1019), (2, 1170),  // Δ 0, 19, 170 → bins 0, 1, 17 → 0, 1, 1 (mod 16)
            (0, 2000), (0, 3000), (1, 3159),  // Δ 159 → 15
        ])
        let source = try ArrivalTimeSource(
            reader: reader, mode: .afterSync(syncChannel: 0, detectors: [1, 2]), binWidth: 10, bitsPerSample: 4,
            minEntropy: .claimed(3))
        #expect(try Self.samples(source) == [0, 1, 1, 15])
    }

    @Test func intervalsCountBinsBetweenDetections() throws {
        let reader = try Self.reader([(1, 100), (9, 150), (2, 130), (1, 170), (1, 700)].sorted { $0.1 < $1.1 })
        var source = try ArrivalTimeSource(
            reader: reader, mode: .interval(detectors: [1, 2]), binWidth: 20, bitsPerSample: 1,
            minEntropy: .claimed(0.5))
        // Intervals 30, 40, 530 → bins 1, 2, 26 → low bit 1, 0, 0.
        #expect(try Self.samples(source, request: 1) == [1, 0, 0])
        var buffer = SampleBuffer(bitsPerSample: 1)
        #expect(try !source.read(approximately: 10, into: &buffer))
        #expect(source.unpairedDetections == 0)  // counted on the first copy, not this one
    }

    @Test func exponentialIntervalsHaveAClosedForm() throws {
        // λ = 10⁷/s, w = 1 ns, k = 8: P(0) = (1 − e^−λw)/(1 − e^−2⁸λw).
        let model = ArrivalTimeModel.exponentialIntervals(ratePerSecond: 1e7, deadTime: 0)
        let x = 1e7 * 1e-9
        let expected = -log2((1 - exp(-x)) / (1 - exp(-256 * x)))
        let probabilities = try model.sampleProbabilities(binWidth: 1000, bits: 8)
        #expect(abs(probabilities.reduce(0, +) - 1) < 1e-12)
        #expect(abs(try model.minEntropy(binWidth: 1000, bits: 8) - expected) < 1e-12)
        // A dead time of 2.5 bins empties bins 0 and 1 (their residues only get the wrapped tail), half-fills bin 2
        // and makes bin 3, the first full one, the most likely.
        let dead = try ArrivalTimeModel.exponentialIntervals(ratePerSecond: 1e7, deadTime: 2500)
            .sampleProbabilities(binWidth: 1000, bits: 8)
        let y = exp(-x * 256)
        #expect(abs(dead[0] - exp(-x * (256 - 2.5)) * (1 - exp(-x)) / (1 - y)) < 1e-15)
        #expect(abs(dead[2] - ((1 - exp(-x / 2)) + exp(-x * (258 - 2.5)) * (1 - exp(-x)) / (1 - y))) < 1e-15)
        #expect(dead.max() == dead[3] && abs(dead.reduce(0, +) - 1) < 1e-12)
    }

    @Test func theDecayModelAgreesWithTheIntervalModelWithoutJitter() throws {
        // With no jitter or delay and a period of exactly 2ᵏ bins the wrapped decay is the geometric series.
        let decay = ArrivalTimeModel.emissionDecay(lifetime: 500, jitter: 0, delay: 0, syncPeriod: 16 * 50)
        let intervals = ArrivalTimeModel.exponentialIntervals(ratePerSecond: 1e12 / 500, deadTime: 0)
        let a = try decay.sampleProbabilities(binWidth: 50, bits: 4)
        let b = try intervals.sampleProbabilities(binWidth: 50, bits: 4)
        for (x, y) in zip(a, b) { #expect(abs(x - y) < 1e-12) }
    }

    @Test(arguments: [1.0, 20, 200, 3000])
    func jitterSpreadsTheDecay(jitter: Double) throws {
        let model = ArrivalTimeModel.emissionDecay(lifetime: 300, jitter: jitter, delay: 2000, syncPeriod: 12_500)
        let probabilities = try model.sampleProbabilities(binWidth: 10, bits: 8)
        #expect(abs(probabilities.reduce(0, +) - 1) < 1e-9)
        let sharp = try ArrivalTimeModel.emissionDecay(lifetime: 300, jitter: 0, delay: 2000, syncPeriod: 12_500)
            .minEntropy(binWidth: 10, bits: 8)
        let entropy = try model.minEntropy(binWidth: 10, bits: 8)
        #expect(entropy >= sharp - 1e-9 && entropy <= 8)
    }

    @Test func theEMGDistributionMatchesNumericalIntegration() {
        // Exp(τ) + N(0, σ²) at a few points against a plain Riemann sum of the convolution.
        let (tau, sigma) = (100.0, 40.0)
        for z in [-200.0, -50, 0, 50, 300, 1000] {
            var sum = 0.0
            let step = 0.05
            var t = step / 2
            while t < 40 * tau {
                let normal = 0.5 * erfc(-(z - t) / (sigma * 2.0.squareRoot()))
                sum += exp(-t / tau) / tau * normal * step
                t += step
            }
            let value = ArrivalTimeModel.decayDistribution(at: z, lifetime: tau, jitter: sigma)
            #expect(abs(value - sum) < 1e-7, "z = \(z): \(value) against \(sum)")
        }
    }

    @Test(arguments: [
        ArrivalTimeModel.emissionDecay(lifetime: 300, jitter: 20, delay: 1e300, syncPeriod: 1),
        .emissionDecay(lifetime: 1e300, jitter: 0, delay: 0, syncPeriod: 12_500),
        .emissionDecay(lifetime: 300, jitter: 20, delay: 0, syncPeriod: 1e300),
        .emissionDecay(lifetime: 300, jitter: .nan, delay: 0, syncPeriod: 12_500),
        .emissionDecay(lifetime: 0, jitter: 1, delay: 0, syncPeriod: 12_500),
        .exponentialIntervals(ratePerSecond: 0, deadTime: 0),
        .exponentialIntervals(ratePerSecond: 1e6, deadTime: -1),
    ])
    func absurdModelsAreErrorsNotTraps(model: ArrivalTimeModel) {
        #expect(throws: QRNGError.self) { try model.minEntropy(binWidth: 10, bits: 8) }
    }

    @Test func theModelMustMatchTheModeAndClaimsMustFit() throws {
        let decay = ArrivalTimeModel.emissionDecay(lifetime: 300, jitter: 20, delay: 0, syncPeriod: 12_500)
        #expect(throws: QRNGError.self) {
            try ArrivalTimeSource(
                reader: try Self.reader([]), mode: .interval(detectors: [1]), binWidth: 10, bitsPerSample: 8,
                minEntropy: .model(decay))
        }
        for claim in [0.0, 8.5, -1] {
            #expect(throws: QRNGError.self) {
                try ArrivalTimeSource(
                    reader: try Self.reader([]), mode: .interval(detectors: [1]), binWidth: 10, bitsPerSample: 8,
                    minEntropy: .claimed(claim))
            }
        }
        let source = try ArrivalTimeSource(
            reader: try Self.reader([]), mode: .afterSync(syncChannel: 0, detectors: [1]), binWidth: 10,
            bitsPerSample: 8, minEntropy: .model(decay))
        #expect(abs(source.claimedMinEntropy - (try decay.minEntropy(binWidth: 10, bits: 8))) < 1e-15)
        #expect(source.claimedMinEntropy > 4 && source.claimedMinEntropy < 8)
    }
}
