import QRNG
import Testing

@Suite struct BeamSplitterSourceTests {
    @Test func singleClicksBecomeBitsAndTheRestIsCounted() throws {
        let outcomes: [ClickOutcome] = [.none, .d0, .d1, .both, .d1, .none, .none, .d0, .both, .d1]
        var source = try BeamSplitterSource(clicks: ReplayedClicks(outcomes), claimedMinEntropy: 1)
        var samples = SampleBuffer(bitsPerSample: 1)
        while try source.read(approximately: 3, into: &samples) {}
        #expect((0..<samples.count).map { samples[$0] } == [0, 1, 1, 0, 1])
        let counters = source.counters
        #expect(counters.pulses == 10 && counters.emptyPulses == 3 && counters.doubleClicks == 2)
        #expect(counters.singleClicksD0 == 2 && counters.singleClicksD1 == 3 && counters.samples == 5)
        #expect(!source.provenance.isSimulated)
    }

    @Test func longRunsCrossWordBoundaries() throws {
        var generator = Xoshiro256StarStar(seed: 1)
        let outcomes = (0..<1000).map { _ in ClickOutcome(rawValue: UInt8(generator.next() & 3))! }
        var source = try BeamSplitterSource(clicks: ReplayedClicks(outcomes), claimedMinEntropy: 0.5)
        var samples = SampleBuffer(bitsPerSample: 1)
        while try source.read(approximately: 100, into: &samples) {}
        let expected: [UInt16] = outcomes.compactMap { $0 == .d0 ? 0 : $0 == .d1 ? 1 : nil }
        #expect((0..<samples.count).map { samples[$0] } == expected)
    }

    @Test(arguments: [0.0, -1, 1.5])
    func minEntropyOutsideZeroToOneIsRejected(minEntropy: Double) {
        #expect(throws: QRNGError.self) {
            try BeamSplitterSource(clicks: ReplayedClicks([]), claimedMinEntropy: minEntropy)
        }
    }
}
