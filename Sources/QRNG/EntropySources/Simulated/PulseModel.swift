#if canImport(Glibc)
import Glibc
#endif

/// The pulse-level view of a ``SimulationConfiguration``: what ``SimulatedQuantumDotEmitter`` models.
///
/// One configuration describes the emitter for both simulators. At pulse level the pulses are independent: the
/// photon number of a pulse, the beam splitter, the detectors' efficiencies and their dark counts per pulse
/// (the dark-count rate over the clock rate) decide its outcome, and the detectors' timing (jitter, a dead time
/// shorter than the period) cannot change which detector clicked. What only the time-domain simulator models
/// (continuous excitation, afterpulsing, blinking, drifts, faults) is refused, never silently dropped.
extension SimulationConfiguration {
    /// The excitation clock rate in hertz; `nil` for continuous excitation.
    public var clockRate: Double? {
        if case .pulsed(let rate) = excitation { rate } else { nil }
    }

    /// The probability of a dark count of `detector` in one pulse: its rate over the clock rate, at most 1.
    public func darkCountProbability(_ detector: Detector) -> Double {
        guard let clockRate else { return 0 }
        return min(1, detector.darkCountRate / clockRate)
    }

    /// For a quantum-dot source, the probabilities of 0, 1 and 2 photons in a pulse (P2 = ½μ²g2(0),
    /// P1 = μ − 2·P2); empty for a laser.
    public var photonNumberProbabilities: [Double] {
        guard case .quantumDot(let mu, let g2, _) = light else { return [] }
        let p2 = 0.5 * mu * mu * g2
        let p1 = mu - 2 * p2
        return [1 - p1 - p2, p1, p2]
    }

    /// E[zⁿ] over the photon number n of one pulse: the generating function of the photon-number distribution.
    func photonNumberGeneratingFunction(_ z: Double) -> Double {
        switch light {
        case .quantumDot:
            let p = photonNumberProbabilities
            return p[0] + z * (p[1] + z * p[2])
        case .attenuatedLaser(let mean):
            return exp(mean * (z - 1))
        }
    }

    /// The exact probability of each per-pulse outcome under the pulse-level model.
    public var outcomeProbabilities: ClickProbabilities { ClickProbabilities(self) }

    /// Checks the parameters and that the pulse-level model covers everything asked for, naming the first
    /// parameter that it does not.
    public func validateForPulseModel() throws(QRNGError) {
        try validate()
        func refuse(_ field: String, _ what: String) throws(QRNGError) {
            throw .invalidArgument(field, "\(what) needs the time-domain simulator (SimulatedTimeTagger)")
        }
        if clockRate == nil { try refuse("photon rate", "continuous-wave excitation") }
        if detector0.afterpulseProbability > 0 || detector1.afterpulseProbability > 0 {
            try refuse("afterpulse", "afterpulsing")
        }
        if blinking != nil { try refuse("blinking", "blinking") }
        if brightnessDrift != 0 || transmissionDrift != 0 { try refuse("drift", "a drift") }
        if !faults.isEmpty { try refuse("fault", "an injected fault") }
    }

    /// A one-line description of the pulse-level model.
    public var pulseModelSummary: String {
        let lightText =
            switch light {
            case .quantumDot(let mu, let g2, _): "QD emitter μ=\(mu) g2(0)=\(g2)"
            case .attenuatedLaser(let mu): "attenuated laser μ=\(mu)"
            }
        return "\(lightText), \((clockRate ?? 0) / 1e6) MHz, T=\(beamSplitterTransmission), "
            + "η=\(detector0.efficiency)/\(detector1.efficiency), "
            + "dark=\(darkCountProbability(detector0))/\(darkCountProbability(detector1)) per pulse"
    }
}

/// The probabilities of the four outcomes of one pulse, computed in closed form from the pulse-level model.
///
/// Each photon independently goes to D0 and is detected with probability a = T·η0, goes to D1 and is detected
/// with probability b = (1 − T)·η1, or is lost. With G(z) = E[zⁿ] the generating function of the photon
/// number and independent dark counts d0, d1: P(D0 silent) = G(1 − a)(1 − d0), P(D1 silent) = G(1 − b)(1 − d1),
/// P(both silent) = G(1 − a − b)(1 − d0)(1 − d1), and the four outcomes follow by inclusion and exclusion.
public struct ClickProbabilities: Sendable, Hashable {
    /// P(no click).
    public var none: Double
    /// P(only D0 clicks).
    public var d0: Double
    /// P(only D1 clicks).
    public var d1: Double
    /// P(both click).
    public var both: Double

    init(_ configuration: SimulationConfiguration) {
        let t = configuration.beamSplitterTransmission
        let a = t * configuration.detector0.efficiency
        let b = (1 - t) * configuration.detector1.efficiency
        let dark0 = configuration.darkCountProbability(configuration.detector0)
        let dark1 = configuration.darkCountProbability(configuration.detector1)
        let silent0 = configuration.photonNumberGeneratingFunction(1 - a) * (1 - dark0)
        let silent1 = configuration.photonNumberGeneratingFunction(1 - b) * (1 - dark1)
        let silentBoth = configuration.photonNumberGeneratingFunction(1 - a - b) * (1 - dark0) * (1 - dark1)
        none = silentBoth
        d0 = silent1 - silentBoth
        d1 = silent0 - silentBoth
        both = max(0, 1 - silent0 - silent1 + silentBoth)
    }

    /// The probability that a beam-splitter bit (a pulse with exactly one click) is 0.
    public var probabilityOfZero: Double { d0 / (d0 + d1) }

    /// The min-entropy of a beam-splitter bit, −log2 max(p0, 1 − p0), in bits.
    public var minEntropyPerBit: Double {
        let p0 = probabilityOfZero
        return -log2(max(p0, 1 - p0))
    }
}
