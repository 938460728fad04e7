#if canImport(Glibc)
import Glibc
#endif

/// The physics of a simulated QRNG down to the time tagger: light source, beam splitter, two single-photon
/// detectors with their imperfections, slow drifts and injected faults (PHYSICS.md §1–§5).
///
/// ``SimulatedTimeTagger`` turns it into the stream of time tags a real time tagger would record: a sync tag
/// per pulse on channel 0 (pulsed excitation), and the detectors' clicks on channels 1 (D0) and 2 (D1).
public struct SimulationConfiguration: Sendable, Hashable {
    /// How the emitter is excited.
    public enum Excitation: Sendable, Hashable {
        /// Pulsed at `clockRate` hertz; the time tagger records a sync tag for every pulse.
        case pulsed(clockRate: Double)
        /// Continuous-wave excitation emitting `photonRate` photons per second on average; no sync.
        case continuous(photonRate: Double)
    }

    /// The light source.
    public enum Light: Sendable, Hashable {
        /// A quantum dot: brightness μ (mean photons per pulse; pulsed only), g2(0), and radiative lifetime τ in
        /// seconds, the mean of the exponential emission delay. Under continuous excitation the dot is
        /// antibunched: each emission waits for a re-excitation (exponential) and then the decay.
        case quantumDot(brightness: Double, g2: Double, lifetime: Double)
        /// An attenuated laser: Poissonian photon numbers with mean μ per pulse (pulsed), or Poissonian arrivals
        /// (continuous); emission is immediate.
        case attenuatedLaser(meanPhotonNumber: Double)
    }

    /// A single-photon detector and its imperfections (PHYSICS.md §3).
    public struct Detector: Sendable, Hashable {
        /// Probability that a photon arriving makes a click.
        public var efficiency: Double
        /// Dark counts per second (a Poisson process).
        public var darkCountRate: Double
        /// Gaussian timing jitter: the standard deviation of a timestamp's error, in seconds.
        public var jitter: Double
        /// Dead time after each click, in seconds (non-paralysable: events in it are lost, not extending it).
        public var deadTime: Double
        /// Probability that a click is followed by an afterpulse.
        public var afterpulseProbability: Double
        /// Mean delay of an afterpulse after the dead time ends, in seconds (exponential).
        public var afterpulseDelay: Double

        /// A fast-recovering superconducting nanowire detector: efficiency 0.9, 100 dark counts per second, 20 ps
        /// jitter, 10 ns dead time (shorter than the 12.5 ns period of an 80 MHz clock), no afterpulsing.
        ///
        /// A dead time longer than the pulse period makes successive beam-splitter bits anticorrelated (after a D0
        /// click, D0 is blind to the next pulse, so the next bit leans to 1): 30 ns at 80 MHz gives r ≈ −0.24 at
        /// lag 1, which the autocorrelation monitor reports at once.
        public init(
            efficiency: Double = 0.9, darkCountRate: Double = 100, jitter: Double = 20e-12, deadTime: Double = 10e-9,
            afterpulseProbability: Double = 0, afterpulseDelay: Double = 100e-9
        ) {
            self.efficiency = efficiency
            self.darkCountRate = darkCountRate
            self.jitter = jitter
            self.deadTime = deadTime
            self.afterpulseProbability = afterpulseProbability
            self.afterpulseDelay = afterpulseDelay
        }
    }

    /// Slow on/off switching of the emitter (telegraph noise), with exponential dwell times in seconds.
    public struct Blinking: Sendable, Hashable {
        public var meanOn: Double
        public var meanOff: Double

        public init(meanOn: Double, meanOff: Double) {
            self.meanOn = meanOn
            self.meanOff = meanOff
        }
    }

    public var excitation: Excitation
    public var light: Light
    /// T: the probability that a photon goes to D0.
    public var beamSplitterTransmission: Double
    public var detector0: Detector
    public var detector1: Detector
    public var blinking: Blinking?
    /// Relative change of the brightness per second: μ(t) = μ·(1 + rate·t).
    public var brightnessDrift: Double
    /// Change of T per second: T(t) = T + rate·t (clamped to [0, 1]).
    public var transmissionDrift: Double
    /// Faults injected at given times.
    public var faults: [SimulatedFault]
    /// How long to simulate, in seconds; `nil` for an endless stream.
    public var duration: Double?

    /// An 80 MHz quantum-dot source (μ = 0.3, g2(0) = 0.01, τ = 0.5 ns), a balanced beam splitter and two
    /// superconducting nanowire detectors with a small efficiency mismatch (0.90, 0.89).
    public init(
        excitation: Excitation = .pulsed(clockRate: 80e6),
        light: Light = .quantumDot(brightness: 0.3, g2: 0.01, lifetime: 0.5e-9),
        beamSplitterTransmission: Double = 0.5,
        detector0: Detector = Detector(efficiency: 0.90),
        detector1: Detector = Detector(efficiency: 0.89),
        blinking: Blinking? = nil, brightnessDrift: Double = 0, transmissionDrift: Double = 0,
        faults: [SimulatedFault] = [], duration: Double? = nil
    ) {
        self.excitation = excitation
        self.light = light
        self.beamSplitterTransmission = beamSplitterTransmission
        self.detector0 = detector0
        self.detector1 = detector1
        self.blinking = blinking
        self.brightnessDrift = brightnessDrift
        self.transmissionDrift = transmissionDrift
        self.faults = faults
        self.duration = duration
    }

    /// Checks every parameter, naming the first out of range.
    public func validate() throws(QRNGError) {
        func require(_ condition: Bool, _ field: String, _ message: String) throws(QRNGError) {
            if !condition { throw .invalidArgument(field, message) }
        }
        func probability(_ x: Double) -> Bool { x.isFinite && x >= 0 && x <= 1 }
        func nonNegative(_ x: Double) -> Bool { x.isFinite && x >= 0 }
        switch excitation {
        case .pulsed(let rate):
            try require(rate.isFinite && rate > 0 && rate <= 1e11, "clock rate", "must be in (0, 100 GHz], got \(rate)")
        case .continuous(let rate):
            try require(rate.isFinite && rate > 0 && rate <= 1e10, "photon rate", "must be in (0, 10¹⁰] per second, got \(rate)")
        }
        switch light {
        case .quantumDot(let mu, let g2, let lifetime):
            try require(mu > 0 && mu <= 1, "brightness", "μ must be in (0, 1], got \(mu)")
            try require(nonNegative(g2) && 0.5 * mu * mu * g2 <= mu / 2, "g2", "g2(0) = \(g2) with μ = \(mu) gives P2 above μ/2")
            try require(nonNegative(lifetime) && lifetime < 1e-6, "lifetime", "τ must be in [0, 1 µs), got \(lifetime)")
            if case .continuous(let rate) = excitation {
                try require(lifetime < 1 / rate, "lifetime", "τ = \(lifetime) s leaves no time for re-excitation at \(rate)/s")
            }
        case .attenuatedLaser(let mu):
            try require(mu.isFinite && mu > 0 && mu <= 100, "mean photon number", "μ must be in (0, 100], got \(mu)")
        }
        try require(probability(beamSplitterTransmission), "transmission", "T must be in [0, 1], got \(beamSplitterTransmission)")
        for (name, detector) in [("detector 0", detector0), ("detector 1", detector1)] {
            try require(probability(detector.efficiency), "\(name) efficiency", "must be in [0, 1], got \(detector.efficiency)")
            try require(nonNegative(detector.darkCountRate) && detector.darkCountRate < 1e9, "\(name) dark-count rate",
                        "must be in [0, 10⁹) per second, got \(detector.darkCountRate)")
            try require(nonNegative(detector.jitter) && detector.jitter < 1e-6, "\(name) jitter", "must be in [0, 1 µs), got \(detector.jitter)")
            try require(nonNegative(detector.deadTime) && detector.deadTime < 1e-3, "\(name) dead time", "must be in [0, 1 ms), got \(detector.deadTime)")
            try require(probability(detector.afterpulseProbability) && detector.afterpulseProbability < 1,
                        "\(name) afterpulse probability", "must be in [0, 1), got \(detector.afterpulseProbability)")
            try require(nonNegative(detector.afterpulseDelay) && detector.afterpulseDelay < 1, "\(name) afterpulse delay",
                        "must be in [0, 1 s), got \(detector.afterpulseDelay)")
        }
        if let blinking {
            try require(blinking.meanOn > 0 && blinking.meanOff > 0 && blinking.meanOn.isFinite && blinking.meanOff.isFinite,
                        "blinking", "mean on and off times must be positive")
        }
        try require(brightnessDrift.isFinite && transmissionDrift.isFinite, "drift", "drifts must be finite")
        if let duration { try require(duration.isFinite && duration > 0, "duration", "must be positive, got \(duration)") }
        for fault in faults { try fault.validate() }
    }
}

/// A fault injected into a simulation: what goes wrong, from when, and how badly (PHYSICS.md §5).
public struct SimulatedFault: Sendable, Hashable, CustomStringConvertible {
    /// The catalogue of faults.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// D1 loses efficiency: multiplied by 1 − strength (1: dead).
        case deadDetector = "dead-detector"
        /// D0 latches on: it clicks in a fraction `strength` of pulses (continuous: at `strength` of its maximum
        /// rate, one click per dead time).
        case latchedDetector = "latched-detector"
        /// Bright light blinds both detectors: both click in a fraction `strength` of pulses.
        case blinding
        /// The splitting ratio drifts: T changes by `strength` per second.
        case biasDrift = "bias-drift"
        /// Afterpulsing takes over: every click is followed by an afterpulse with probability `strength`.
        case afterpulseStorm = "afterpulse-storm"
        /// The source goes dark: its brightness falls by the fraction `strength` (1: only dark counts remain).
        case sourceOff = "source-off"
        /// Electromagnetic pickup: an extra D1 click every 1/`strength` pulses (continuous: at `strength`·10 MHz).
        case periodicInterference = "periodic-interference"
        /// The time tagger stalls: a fraction `strength` of tags repeat the previous timestamp.
        case stalledTagger = "stalled-tagger"
        /// The time tagger's clock jumps back: a fraction `strength` of tags lie 1 µs before the previous one.
        case timestampsBackwards = "timestamps-backwards"
    }

    public var kind: Kind
    /// When the fault begins, in seconds from the start of the simulation.
    public var start: Double
    /// How badly; see each ``Kind``.
    public var strength: Double

    public init(_ kind: Kind, start: Double, strength: Double) {
        self.kind = kind
        self.start = start
        self.strength = strength
    }

    /// Parses `NAME@t:strength`, `t` in seconds (or with a unit: `250ms`, `40us`, `2s`), e.g.
    /// `dead-detector@0.5:1`.
    public init(parsing text: String) throws(QRNGError) {
        let field = "fault"
        guard let at = text.firstIndex(of: "@"), let colon = text[at...].firstIndex(of: ":") else {
            throw .invalidArgument(field, "expected NAME@TIME:STRENGTH such as dead-detector@0.5:1, got '\(text)'")
        }
        let name = String(text[..<at])
        guard let kind = Kind(rawValue: name) else {
            let known = Kind.allCases.map(\.rawValue).joined(separator: ", ")
            throw .invalidArgument(field, "unknown fault '\(name)'; the faults are \(known)")
        }
        let timeText = text[text.index(after: at)..<colon]
        let units: [(String, Double)] = [("ms", 1e-3), ("us", 1e-6), ("µs", 1e-6), ("ns", 1e-9), ("s", 1)]
        var scale = 1.0
        var number = Substring(timeText)
        for (suffix, factor) in units where number.hasSuffix(suffix) {
            number = number.dropLast(suffix.count)
            scale = factor
            break
        }
        guard let time = Double(number), let strength = Double(text[text.index(after: colon)...]) else {
            throw .invalidArgument(field, "cannot read the time or strength in '\(text)'")
        }
        self.init(kind, start: time * scale, strength: strength)
        try validate()
    }

    func validate() throws(QRNGError) {
        guard start.isFinite && start >= 0 else {
            throw .invalidArgument("fault", "\(kind.rawValue) starts at a negative or infinite time \(start)")
        }
        let bounded = kind != .biasDrift
        guard strength.isFinite && (!bounded || (strength >= 0 && strength <= 1)) else {
            throw .invalidArgument("fault", "\(kind.rawValue) strength must be in [0, 1], got \(strength)")
        }
    }

    public var description: String { "\(kind.rawValue)@\(start):\(strength)" }
}

extension SimulatedFault.Kind {
    /// What a source's samples are made of: which detector clicked, or when.
    public enum Samples: Sendable, Hashable, CaseIterable {
        case beamSplitterBits
        case arrivalTimes
    }

    /// Why samples of this kind cannot show the fault, or `nil` when they can (and the health tests, the
    /// monitors or the input checks catch it there).
    ///
    /// A fault that only changes what the samples do not carry leaves them as unpredictable as before: no test
    /// can see it, and none needs to. Such a fault is injected in the other mode, where it shows.
    public func invisible(in samples: Samples) -> String? {
        switch (self, samples) {
        case (.stalledTagger, .beamSplitterBits):
            "a stalled tagger repeats timestamps, which changes when a click seems to happen but never which "
                + "detector clicked, so beam-splitter bits stay as unpredictable as before and no test can see "
                + "it; inject it with --mode arrival-time, where the timestamps are the samples"
        case (.deadDetector, .arrivalTimes):
            "a dead detector halves the clicks but leaves the time of every remaining click as unpredictable as "
                + "before, so arrival times cannot show it; inject it in beam-splitter mode, where the bits "
                + "turn constant"
        case (.sourceOff, .arrivalTimes):
            "a dark source leaves the dark counts, whose arrival times are as unpredictable as the photons' "
                + "(uniform over the period), so the samples stay good and only their rate falls, which no "
                + "arrival-time monitor watches yet; inject it in beam-splitter mode, where the click-rate "
                + "monitor sees it"
        case (.biasDrift, .arrivalTimes):
            "a drifting splitting ratio changes which detector clicks, not when, so arrival times stay as "
                + "unpredictable as before; inject it in beam-splitter mode, where the bits become biased"
        default: nil
        }
    }
}
