import QRNG
@testable import QRNGCLI
import Testing

/// Every fault in the simulator's catalogue is caught by the health tests, a photon monitor or the input
/// checks, after a healthy stretch in which nothing fails (PHYSICS.md §5; issue: "proof that it catches faults").
@Suite struct FaultDetectionTests {
    @Test(arguments: FaultDetection.Case.catalogue.map(\.kind))
    func everyFaultIsCaught(kind: SimulatedFault.Kind) throws {
        let fault = try #require(FaultDetection.Case.catalogue.first { $0.kind == kind })
        let outcome = try FaultDetection.run(fault, seed: 1, maximumSamples: 20_000_000)
        #expect(outcome.failuresBeforeOnset == 0, "a failure before the fault began")
        let detection = try #require(outcome.detection, "\(kind.rawValue) went unnoticed")
        if kind == .timestampsBackwards {
            #expect(detection.code == .invalidInput && detection.context.field == "timestamp")
        } else {
            #expect(detection.code == .healthTestFailure, "\(detection)")
        }
        #expect((outcome.latencySamples ?? -1) >= 0, "caught before it began?")
    }

    /// A fault that beam-splitter bits cannot show is refused in that mode, saying why and where it shows.
    @Test func aFaultInvisibleInTheModeIsRefused() throws {
        #expect {
            _ = try FaultDetection.pipeline(
                FaultDetection.Case(kind: .stalledTagger, strength: 0.5, arrivalTime: false), arrivalTime: false,
                seed: 1)
        } throws: { error in
            guard let error = error as? QRNGError else { return false }
            return error.context.field == "fault" && error.message.contains("stalled-tagger")
                && error.message.contains("--mode arrival-time")
        }
        // Every other fault is caught in beam-splitter mode (everyFaultIsCaught), and stalled-tagger in arrival times.
        for kind in SimulatedFault.Kind.allCases where kind != .stalledTagger {
            #expect(kind.invisibleInBeamSplitterBits == nil)
        }
        let parsed = try Generate.parse(["--bytes", "1", "--seed", "1", "--fault", "stalled-tagger@0.001:0.5"])
        #expect(throws: QRNGError.self) { try GenerateJob(configuration: parsed.pipeline.configuration(), byteCount: 1).run { _ in } }
    }

    /// Physics, not a fault: a dead time longer than the pulse period anticorrelates successive bits, and the
    /// autocorrelation monitor says so.
    @Test func aLongDeadTimeShowsAsAnticorrelation() throws {
        var configuration = SimulationConfiguration()
        configuration.detector0.deadTime = 30e-9
        configuration.detector1.deadTime = 30e-9
        var pipeline = try Pipeline(
            configuration: PipelineConfiguration(
                source: .simulatedTimeTags(
                    configuration, seed: 3,
                    use: .beamSplitter(.pulsed(PulsedClickRule(syncChannel: 0, d0Channel: 1, d1Channel: 2, window: 12_500)))),
                extractor: .vonNeumann))
        var output = BitBuffer()
        while pipeline.failures.isEmpty && pipeline.health.samplesTested < 2_000_000 {
            _ = try? pipeline.step(into: &output)
            output.removeAll(keepingCapacity: true)
        }
        #expect(pipeline.failures.first?.test == .autocorrelation)
    }
}
