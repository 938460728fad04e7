import QRNG
import Testing

@Suite struct SimulatorTests {
    static func counts(_ emitter: inout SimulatedQuantumDotEmitter, pulses: Int) throws -> [ClickOutcome: Int] {
        var buffer = ClickBuffer()
        var counts: [ClickOutcome: Int] = [:]
        var remaining = pulses
        while remaining > 0 {
            let step = min(remaining, 1 << 22)
            _ = try emitter.nextPulses(step, into: &buffer)
            for event in buffer.events { counts[event.outcome, default: 0] += 1 }
            remaining -= step
        }
        counts[.none] = pulses - counts.values.reduce(0, +)
        return counts
    }

    /// |observed − expected| within 5 standard deviations of a binomial count.
    static func isConsistent(_ observed: Int, trials: Int, probability p: Double) -> Bool {
        let mean = Double(trials) * p
        return abs(Double(observed) - mean) <= 5 * (mean * (1 - p)).squareRoot() + 1
    }

    @Test func sameSeedSameClicksAndOtherSeedOtherClicks() throws {
        var a = try SimulatedQuantumDotEmitter(seed: 7)
        var b = try SimulatedQuantumDotEmitter(seed: 7)
        var c = try SimulatedQuantumDotEmitter(seed: 8)
        var (bufferA, bufferB, bufferC) = (ClickBuffer(), ClickBuffer(), ClickBuffer())
        for _ in 0..<3 {
            _ = try a.nextPulses(100_000, into: &bufferA)
            _ = try b.nextPulses(100_000, into: &bufferB)
            _ = try c.nextPulses(100_000, into: &bufferC)
            #expect(bufferA == bufferB)
            #expect(bufferA != bufferC)
        }
        #expect(a.provenance.isSimulated && a.provenance.description.contains("SIMULATED"))
    }

    @Test func outcomeFrequenciesMatchTheClosedForm() throws {
        let configuration = SimulationConfiguration(
            light: .quantumDot(brightness: 0.4, g2: 0.05, lifetime: 0.5e-9), beamSplitterTransmission: 0.55,
            detector0: .init(efficiency: 0.8, darkCountRate: 1e-3 * 80e6),
            detector1: .init(efficiency: 0.6, darkCountRate: 2e-3 * 80e6))
        var emitter = try SimulatedQuantumDotEmitter(configuration: configuration, seed: 2024)
        let pulses = 4_000_000
        let counts = try Self.counts(&emitter, pulses: pulses)
        let p = configuration.outcomeProbabilities
        #expect(abs(p.none + p.d0 + p.d1 + p.both - 1) < 1e-12)
        for (outcome, probability) in [(ClickOutcome.none, p.none), (.d0, p.d0), (.d1, p.d1), (.both, p.both)] {
            let observed = counts[outcome, default: 0]
            #expect(Self.isConsistent(observed, trials: pulses, probability: probability),
                    "\(outcome): \(observed) against \(Double(pulses) * probability)")
        }
    }

    @Test func closedFormAgreesWithAPhotonByPhotonCount() throws {
        // Brute force over photon numbers and per-photon fates, independent of the generating-function algebra.
        let configuration = SimulationConfiguration(
            light: .quantumDot(brightness: 0.5, g2: 0.2, lifetime: 0.5e-9), beamSplitterTransmission: 0.3,
            detector0: .init(efficiency: 0.7, darkCountRate: 0.01 * 80e6),
            detector1: .init(efficiency: 0.9, darkCountRate: 0.02 * 80e6))
        let photons = configuration.photonNumberProbabilities
        let a = 0.3 * 0.7
        let b = 0.7 * 0.9
        var photonClicks = [0.0, 0, 0, 0]  // index: bit 0 = D0 clicked, bit 1 = D1 clicked
        for (n, pn) in photons.enumerated() {
            for fates in 0..<(0..<n).reduce(1, { product, _ in product * 3 }) {  // each photon: 0 → D0, 1 → D1, 2 → lost
                var code = fates
                var probability = pn
                var clicked = 0
                for _ in 0..<n {
                    switch code % 3 {
                    case 0: probability *= a; clicked |= 1
                    case 1: probability *= b; clicked |= 2
                    default: probability *= 1 - a - b
                    }
                    code /= 3
                }
                photonClicks[clicked] += probability
            }
        }
        var outcome = [0.0, 0, 0, 0]
        for (clicked, probability) in photonClicks.enumerated() {
            for dark in 0..<4 {
                let pDark = (dark & 1 == 1 ? 0.01 : 0.99) * (dark & 2 == 2 ? 0.02 : 0.98)
                outcome[clicked | dark] += probability * pDark
            }
        }
        let p = configuration.outcomeProbabilities
        #expect(abs(p.none - outcome[0]) < 1e-12 && abs(p.d0 - outcome[1]) < 1e-12)
        #expect(abs(p.d1 - outcome[2]) < 1e-12 && abs(p.both - outcome[3]) < 1e-12)
    }

    /// The pulsed Hanbury Brown–Twiss estimate N_both·N_pulses / (N_D0·N_D1) recovers g2(0).
    @Test func hanburyBrownTwissEstimateRecoversG2() throws {
        let g2 = 0.05
        let configuration = SimulationConfiguration(
            light: .quantumDot(brightness: 0.3, g2: g2, lifetime: 0.5e-9),
            detector0: .init(efficiency: 0.9, darkCountRate: 0),
            detector1: .init(efficiency: 0.9, darkCountRate: 0))
        var emitter = try SimulatedQuantumDotEmitter(configuration: configuration, seed: 99)
        let pulses = 12_000_000
        let counts = try Self.counts(&emitter, pulses: pulses)
        let both = Double(counts[.both, default: 0])
        let clicks0 = Double(counts[.d0, default: 0]) + both
        let clicks1 = Double(counts[.d1, default: 0]) + both
        let estimate = both * Double(pulses) / (clicks0 * clicks1)
        // About 10⁴ coincidences: a relative error of 1 %; 5 % leaves room for the model's P2·a correction.
        #expect(abs(estimate - g2) / g2 < 0.05, "g2 estimate \(estimate)")
    }

    @Test func beamSplitterBiasFollowsTransmissionAndEfficiencies() throws {
        let configuration = SimulationConfiguration(
            beamSplitterTransmission: 0.6,
            detector0: .init(efficiency: 0.7, darkCountRate: 0),
            detector1: .init(efficiency: 0.9, darkCountRate: 0))
        let expected = 0.6 * 0.7 / (0.6 * 0.7 + 0.4 * 0.9)
        #expect(abs(configuration.outcomeProbabilities.probabilityOfZero - expected) < 1e-3)
        var emitter = try SimulatedQuantumDotEmitter(configuration: configuration, seed: 3)
        let counts = try Self.counts(&emitter, pulses: 2_000_000)
        let singles = counts[.d0, default: 0] + counts[.d1, default: 0]
        #expect(Self.isConsistent(
            counts[.d0, default: 0], trials: singles, probability: configuration.outcomeProbabilities.probabilityOfZero))
    }

    @Test func parametersOutOfRangeAreNamed() {
        func field(_ configuration: SimulationConfiguration) -> String? {
            do {
                try configuration.validateForPulseModel()
                return nil
            } catch {
                return error.context.field
            }
        }
        #expect(field(SimulationConfiguration()) == nil)
        #expect(field(SimulationConfiguration(light: .quantumDot(brightness: 1.5, g2: 0, lifetime: 0))) == "brightness")
        #expect(field(SimulationConfiguration(light: .quantumDot(brightness: 1, g2: 1.5, lifetime: 0))) == "g2")
        #expect(field(SimulationConfiguration(light: .attenuatedLaser(meanPhotonNumber: -1))) == "mean photon number")
        #expect(field(SimulationConfiguration(beamSplitterTransmission: 1.2)) == "transmission")
        #expect(field(SimulationConfiguration(detector1: .init(efficiency: -0.1))) == "detector 1 efficiency")
        #expect(field(SimulationConfiguration(excitation: .pulsed(clockRate: 0))) == "clock rate")
        // What only the time-domain simulator models is refused, not dropped.
        #expect(field(SimulationConfiguration(excitation: .continuous(photonRate: 1e6))) == "photon rate")
        #expect(field(SimulationConfiguration(detector0: .init(afterpulseProbability: 0.1))) == "afterpulse")
        #expect(field(SimulationConfiguration(blinking: .init(meanOn: 1e-3, meanOff: 1e-3))) == "blinking")
        #expect(field(SimulationConfiguration(brightnessDrift: 0.1)) == "drift")
        #expect(field(SimulationConfiguration(faults: [SimulatedFault(.blinding, start: 0, strength: 1)])) == "fault")
    }
}
