import Foundation
import QRNG
import Testing

/// The time-tag simulator against closed forms of its physics, within statistical error, with fixed seeds.
@Suite struct SimulatedTimeTaggerTests {
    static func tags(_ configuration: SimulationConfiguration, seed: UInt64 = 1) throws -> ([TimeTag], SimulatedTimeTagger) {
        let tagger = try SimulatedTimeTagger(configuration: configuration, seed: seed)
        return (try tagger.readAll(), tagger)
    }

    static func within(_ observed: Double, _ expected: Double, sigma: Double) -> Bool {
        abs(observed - expected) <= 5 * sigma
    }

    static let ideal = SimulationConfiguration.Detector(
        efficiency: 1, darkCountRate: 0, jitter: 0, deadTime: 0, afterpulseProbability: 0)

    @Test func streamIsOrderedReproducibleAndLabelled() throws {
        let configuration = SimulationConfiguration(duration: 0.001)
        let (tags, tagger) = try Self.tags(configuration, seed: 5)
        #expect(tags.count > 80_000)
        #expect(zip(tags, tags.dropFirst()).allSatisfy { $0.picoseconds <= $1.picoseconds }, "time order")
        #expect(tags.filter { $0.channel == 0 }.count == 80_000, "a sync tag per pulse at 80 MHz")
        #expect(Set(tags.map(\.channel)).isSubset(of: [0, 1, 2]))
        #expect(tagger.provenance.isSimulated)
        #expect(try Self.tags(configuration, seed: 5).0 == tags)
        #expect(try Self.tags(configuration, seed: 6).0 != tags)
    }

    /// A pulse of an attenuated laser holds more than one photon, given it holds any, with probability
    /// (1 − (1 + μ)e^−μ) / (1 − e^−μ).
    @Test func poissonMultiPhotonFraction() throws {
        let mu = 0.3
        let configuration = SimulationConfiguration(
            light: .attenuatedLaser(meanPhotonNumber: mu), detector0: Self.ideal, detector1: Self.ideal, duration: 0.005)
        let tagger = try SimulatedTimeTagger(configuration: configuration, seed: 11)
        _ = try tagger.readAll()
        let counts = tagger.photonNumberCounts
        let nonEmpty = Double(counts[1] + counts[2] + counts[3])
        let observed = Double(counts[2] + counts[3]) / nonEmpty
        let expected = (1 - (1 + mu) * exp(-mu)) / (1 - exp(-mu))
        #expect(Self.within(observed, expected, sigma: (expected * (1 - expected) / nonEmpty).squareRoot()),
                "multi-photon fraction \(observed) against \(expected)")
    }

    /// The pulsed Hanbury Brown–Twiss estimate N_both·N_pulses/(N_D0·N_D1), from time tags through the pulsed
    /// click rule, recovers g2(0).
    @Test func hanburyBrownTwissFromTimeTags() throws {
        let g2 = 0.1
        let configuration = SimulationConfiguration(
            light: .quantumDot(brightness: 0.5, g2: g2, lifetime: 0.3e-9), detector0: Self.ideal, detector1: Self.ideal,
            duration: 0.05)
        let tagger = try SimulatedTimeTagger(configuration: configuration, seed: 12)
        var clicks = try TimeTagClickSource(
            reader: tagger, rule: .pulsed(PulsedClickRule(syncChannel: 0, d0Channel: 1, d1Channel: 2, window: 12_500)))
        var buffer = ClickBuffer()
        var (pulses, d0, d1, both) = (0.0, 0.0, 0.0, 0.0)
        while try clicks.nextPulses(1 << 20, into: &buffer) {
            pulses += Double(buffer.pulseCount)
            for event in buffer.events {
                switch event.outcome {
                case .d0: d0 += 1
                case .d1: d1 += 1
                case .both: both += 1
                case .none: break
                }
            }
        }
        #expect(pulses == 4_000_000)
        let estimate = both * pulses / ((d0 + both) * (d1 + both))
        // About 6000 coincidences: a relative error near 1.3 %; the model's P2·η correction is under 2 %.
        #expect(abs(estimate - g2) / g2 < 0.07, "g2 estimate \(estimate)")
    }

    /// Singles split as T·η0 : (1 − T)·η1 between the detectors.
    @Test func biasFollowsTransmissionAndEfficiencies() throws {
        var d0 = Self.ideal
        d0.efficiency = 0.7
        var d1 = Self.ideal
        d1.efficiency = 0.9
        let configuration = SimulationConfiguration(beamSplitterTransmission: 0.6, detector0: d0, detector1: d1, duration: 0.01)
        let (tags, _) = try Self.tags(configuration, seed: 13)
        let clicks0 = Double(tags.filter { $0.channel == 1 }.count)
        let clicks1 = Double(tags.filter { $0.channel == 2 }.count)
        let p = 0.6 * 0.7 / (0.6 * 0.7 + 0.4 * 0.9)
        let total = clicks0 + clicks1
        #expect(Self.within(clicks0 / total, p, sigma: (p * (1 - p) / total).squareRoot()))
    }

    /// Arrival times after the sync follow the exponential decay convolved with Gaussian jitter: χ² over 30
    /// bins of 100 ps against the model's distribution function.
    @Test func arrivalTimesFollowTheDecayConvolvedWithJitter() throws {
        let (tau, sigma) = (500.0, 60.0)  // ps
        var detector = Self.ideal
        detector.jitter = sigma * 1e-12
        let configuration = SimulationConfiguration(
            light: .quantumDot(brightness: 0.3, g2: 0, lifetime: tau * 1e-12), detector0: detector, detector1: detector,
            duration: 0.01)
        let (tags, _) = try Self.tags(configuration, seed: 14)
        let period = 12_500.0
        var histogram = [Double](repeating: 0, count: 31)  // 30 bins of 100 ps from −300 ps, and the rest
        var total = 0.0
        for tag in tags where tag.channel != 0 {
            let pulse = (Double(tag.picoseconds) / period).rounded()
            let delay = Double(tag.picoseconds) - pulse * period
            let bin = Int(((delay + 300) / 100).rounded(.down))
            histogram[bin >= 0 && bin < 30 ? bin : 30] += 1
            total += 1
        }
        func cdf(_ z: Double) -> Double { ArrivalTimeModel.decayDistribution(at: z, lifetime: tau, jitter: sigma) }
        var chiSquare = 0.0
        var expectedTail = total
        for bin in 0..<30 {
            let expected = total * (cdf(Double(bin) * 100 - 200) - cdf(Double(bin) * 100 - 300))
            expectedTail -= expected
            if expected > 0 { chiSquare += pow(histogram[bin] - expected, 2) / expected }
        }
        chiSquare += pow(histogram[30] - expectedTail, 2) / max(expectedTail, 1)
        // 30 degrees of freedom: P(χ² > 70) ≈ 5·10⁻⁵.
        #expect(chiSquare < 70, "χ² = \(chiSquare) over \(total) detections")
    }

    /// A non-paralysable dead time τd turns a Poisson rate r into r / (1 + r·τd).
    @Test func deadTimeLowersTheRateAsTheNonParalysableFormula() throws {
        var detector = Self.ideal
        detector.deadTime = 50e-9
        let rate = 1e7
        let configuration = SimulationConfiguration(
            excitation: .continuous(photonRate: rate), light: .attenuatedLaser(meanPhotonNumber: 1),
            beamSplitterTransmission: 1, detector0: detector, detector1: detector, duration: 0.02)
        let (tags, tagger) = try Self.tags(configuration, seed: 15)
        let measured = Double(tags.filter { $0.channel == 1 }.count) / 0.02
        let expected = rate / (1 + rate * 50e-9)
        // The registered count is a renewal process; its variance is below Poisson's, so 5 Poisson σ is loose.
        #expect(Self.within(measured * 0.02, expected * 0.02, sigma: (expected * 0.02).squareRoot()),
                "measured \(measured)/s against \(expected)/s")
        #expect(tagger.detectorCounts.lostInDeadTime[0] > 0)
    }

    @Test func faultsDoWhatTheySay() throws {
        let duration = 0.002
        func tags(_ fault: SimulatedFault) throws -> [TimeTag] {
            try Self.tags(SimulationConfiguration(faults: [fault], duration: duration), seed: 16).0
        }
        let dead = try tags(SimulatedFault(.deadDetector, start: 0.001, strength: 1))
        #expect(dead.filter { $0.channel == 2 && $0.picoseconds > 1_001_000_000 }.isEmpty, "D1 dead after 1 ms")
        #expect(!dead.filter { $0.channel == 2 && $0.picoseconds < 999_000_000 }.isEmpty)
        let off = try tags(SimulatedFault(.sourceOff, start: 0.001, strength: 1))
        let late = off.filter { $0.channel != 0 && $0.picoseconds > 1_001_000_000 }.count
        #expect(late < 10, "only dark counts (100/s per detector) after the source went off; got \(late)")
        let stalled = try tags(SimulatedFault(.stalledTagger, start: 0.001, strength: 0.5))
        let repeats = zip(stalled, stalled.dropFirst()).filter { $0.picoseconds == $1.picoseconds && $1.picoseconds > 1_000_000_000 }
        #expect(repeats.count > 1000)
        let backwards = try tags(SimulatedFault(.timestampsBackwards, start: 0.001, strength: 0.01))
        #expect(zip(backwards, backwards.dropFirst()).contains { $0.picoseconds > $1.picoseconds })
        let latched = try tags(SimulatedFault(.latchedDetector, start: 0, strength: 1))
        #expect(latched.filter { $0.channel == 1 }.count > 50_000, "D0 clicks on (nearly) every pulse it can")
        #expect(throws: QRNGError.self) { try SimulatedFault(parsing: "melted@1:1") }
        #expect(try SimulatedFault(parsing: "blinding@250ms:0.5") == SimulatedFault(.blinding, start: 0.25, strength: 0.5))
        #expect(throws: QRNGError.self) { try SimulatedFault(parsing: "blinding@1:2") }
    }

    @Test func parametersOutOfRangeAreNamed() {
        func field(_ configuration: SimulationConfiguration) -> String? {
            do {
                try configuration.validate()
                return nil
            } catch {
                return error.context.field
            }
        }
        #expect(field(SimulationConfiguration()) == nil)
        #expect(field(SimulationConfiguration(excitation: .pulsed(clockRate: -1))) == "clock rate")
        #expect(field(SimulationConfiguration(detector0: .init(deadTime: -1))) == "detector 0 dead time")
        #expect(field(SimulationConfiguration(light: .quantumDot(brightness: 2, g2: 0, lifetime: 1e-9))) == "brightness")
        #expect(field(SimulationConfiguration(duration: 0)) == "duration")
    }
}
