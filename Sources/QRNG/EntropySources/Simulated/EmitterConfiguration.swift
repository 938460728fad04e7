#if canImport(Glibc)
import Glibc
#endif

/// The physical parameters of a simulated beam-splitter QRNG: a pulsed light source, a beam splitter and two
/// single-photon detectors (PHYSICS.md §1–§3).
public struct EmitterConfiguration: Sendable, Hashable {
    /// The light in each pulse.
    public enum Light: Sendable, Hashable {
        /// A pulsed quantum-dot single-photon source: mean photon number `brightness` (μ) and second-order
        /// autocorrelation `g2` at zero delay. Per pulse P2 = ½μ²g2(0), P1 = μ − 2·P2, P0 = 1 − P1 − P2.
        case quantumDot(brightness: Double, g2: Double)
        /// An attenuated laser (weak coherent pulses): Poissonian photon number with mean `meanPhotonNumber`.
        case attenuatedLaser(meanPhotonNumber: Double)
    }

    /// A single-photon detector.
    public struct Detector: Sendable, Hashable {
        /// The probability that a photon reaching the detector makes it click.
        public var efficiency: Double
        /// The probability of a dark count in one pulse (the dark-count rate divided by the clock rate).
        public var darkCountProbability: Double

        public init(efficiency: Double, darkCountProbability: Double) {
            self.efficiency = efficiency
            self.darkCountProbability = darkCountProbability
        }
    }

    /// The excitation clock rate in hertz (pulses per second).
    public var clockRate: Double
    /// The light source.
    public var light: Light
    /// The beam splitter's transmission T: the probability that a photon goes to D0.
    public var beamSplitterTransmission: Double
    /// Detector D0, whose clicks give bit 0.
    public var detector0: Detector
    /// Detector D1, whose clicks give bit 1.
    public var detector1: Detector

    /// A quantum-dot source at 80 MHz with μ = 0.3 and g2(0) = 0.01, a balanced beam splitter and two
    /// superconducting nanowire detectors with a small efficiency mismatch (0.90 and 0.89) and 10⁻⁷ dark counts
    /// per pulse.
    public init(
        clockRate: Double = 80e6,
        light: Light = .quantumDot(brightness: 0.3, g2: 0.01),
        beamSplitterTransmission: Double = 0.5,
        detector0: Detector = Detector(efficiency: 0.90, darkCountProbability: 1e-7),
        detector1: Detector = Detector(efficiency: 0.89, darkCountProbability: 1e-7)
    ) {
        self.clockRate = clockRate
        self.light = light
        self.beamSplitterTransmission = beamSplitterTransmission
        self.detector0 = detector0
        self.detector1 = detector1
    }

    /// Checks every parameter's range, naming the first one out of range.
    public func validate() throws(QRNGError) {
        func require(_ condition: Bool, _ field: String, _ message: String) throws(QRNGError) {
            if !condition { throw .invalidArgument(field, message) }
        }
        func isProbability(_ x: Double) -> Bool { x.isFinite && x >= 0 && x <= 1 }
        try require(clockRate.isFinite && clockRate > 0, "clock rate", "must be positive, got \(clockRate)")
        switch light {
        case .quantumDot(let brightness, let g2):
            try require(brightness > 0 && brightness <= 1, "brightness", "μ must be in (0, 1], got \(brightness)")
            try require(g2.isFinite && g2 >= 0, "g2", "g2(0) must be non-negative, got \(g2)")
            let numbers = photonNumberProbabilities
            try require(
                numbers.allSatisfy(isProbability), "g2",
                "μ = \(brightness) and g2(0) = \(g2) give a negative probability (P2 = ½μ²g2 must not exceed μ/2)")
        case .attenuatedLaser(let mean):
            try require(mean.isFinite && mean > 0, "mean photon number", "must be positive, got \(mean)")
        }
        try require(
            isProbability(beamSplitterTransmission), "transmission",
            "T must be in [0, 1], got \(beamSplitterTransmission)")
        for (name, detector) in [("detector 0", detector0), ("detector 1", detector1)] {
            try require(
                isProbability(detector.efficiency), "\(name) efficiency",
                "must be in [0, 1], got \(detector.efficiency)")
            try require(
                isProbability(detector.darkCountProbability), "\(name) dark-count probability",
                "must be in [0, 1], got \(detector.darkCountProbability)")
        }
    }

    /// For a quantum-dot source, the probabilities of 0, 1 and 2 photons in a pulse; empty for a laser.
    public var photonNumberProbabilities: [Double] {
        guard case .quantumDot(let mu, let g2) = light else { return [] }
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

    /// The exact probability of each per-pulse outcome under this model.
    public var outcomeProbabilities: ClickProbabilities { ClickProbabilities(self) }
}

/// The probabilities of the four outcomes of one pulse, computed in closed form from the model.
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

    init(_ configuration: EmitterConfiguration) {
        let t = configuration.beamSplitterTransmission
        let a = t * configuration.detector0.efficiency
        let b = (1 - t) * configuration.detector1.efficiency
        let dark0 = configuration.detector0.darkCountProbability
        let dark1 = configuration.detector1.darkCountProbability
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
