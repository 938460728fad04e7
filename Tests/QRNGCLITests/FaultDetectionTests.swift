import QRNG
@testable import QRNGCLI
import Testing

/// Every fault in the simulator's catalogue is caught by the health tests, a photon monitor or the input
/// checks, after a healthy stretch in which nothing fails (PHYSICS.md §5; issue: "proof that it catches faults").
@Suite struct FaultDetectionTests {
    @Test(arguments: FaultDetection.Case.catalogue.indices)
    func everyFaultIsCaught(index: Int) throws {
        let fault = FaultDetection.Case.catalogue[index]
        let kind = fault.kind
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

    /// Each fault in each mode: caught (the catalogue runs it in ``everyFaultIsCaught``), or invisible in that
    /// mode's samples, said why, and refused.
    @Test func everyFaultInEveryModeIsCaughtOrRefusedWithItsReason() throws {
        for kind in SimulatedFault.Kind.allCases {
            for arrivalTime in [false, true] {
                let samples: SimulatedFault.Kind.Samples = arrivalTime ? .arrivalTimes : .beamSplitterBits
                let inCatalogue = FaultDetection.Case.catalogue.contains { $0.kind == kind && $0.arrivalTime == arrivalTime }
                let reason = kind.invisible(in: samples)
                #expect(inCatalogue != (reason != nil), "\(kind.rawValue), arrival times \(arrivalTime)")
                guard let reason else { continue }
                #expect {
                    _ = try FaultDetection.pipeline(
                        FaultDetection.Case(kind: kind, strength: 0.5, arrivalTime: arrivalTime),
                        arrivalTime: arrivalTime, seed: 1)
                } throws: { error in
                    guard let error = error as? QRNGError else { return false }
                    return error.context.field == "fault" && error.message.contains(kind.rawValue)
                        && error.message.contains(reason)
                }
            }
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
