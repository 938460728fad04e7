#if canImport(Glibc)
import Glibc
#endif

/// A simulated beam-splitter QRNG: a pulsed quantum-dot (or attenuated-laser) source, a beam splitter and two
/// detectors, pulse by pulse. **Its output is pseudo-random**: every buffer carries a simulated ``Provenance``.
///
/// Pulses are independent and identically distributed under the model, so the simulator does not draw once per
/// pulse. It draws the gap to the next pulse with a click from the geometric distribution with success
/// probability q = 1 − P(no click), then that pulse's outcome from the three click outcomes in proportion to
/// their probabilities. The cost is per click, not per pulse, and the outcome distribution is exactly that of
/// drawing every pulse.
///
/// Given a seed the output is reproducible; without one the generator is seeded from the operating system.
public struct SimulatedQuantumDotEmitter: ClickSource {
    /// The physical model.
    public let configuration: EmitterConfiguration
    /// The model's exact outcome probabilities.
    public let probabilities: ClickProbabilities
    public let provenance: Provenance

    private var generator: Xoshiro256StarStar
    /// The index of the next pulse not yet handed out.
    private var nextPulse: UInt64 = 0
    /// The index of the next pulse with a click, already drawn.
    private var nextClickedPulse: UInt64 = 0
    /// log(1 − q), the scale of the geometric gaps; zero when no pulse can click.
    private let logOfNoClick: Double
    /// Thresholds on a uniform 64-bit draw choosing D0, D1 or both, given a click.
    private let d0Threshold: UInt64
    private let d1Threshold: UInt64

    /// Creates a simulator.
    ///
    /// - Parameters:
    ///   - configuration: The physical model; it is validated.
    ///   - seed: The seed of the pseudo-random generator, or `nil` to seed it from the operating system.
    public init(configuration: EmitterConfiguration = EmitterConfiguration(), seed: UInt64? = nil) throws(QRNGError) {
        try configuration.validate()
        self.configuration = configuration
        self.probabilities = configuration.outcomeProbabilities
        let seedValue = seed ?? UInt64.random(in: .min ... .max)
        self.generator = Xoshiro256StarStar(seed: seedValue)
        let seedText = seed.map { "seed \($0)" } ?? "seeded from the operating system"
        self.provenance = Provenance(kind: .simulated, detail: "\(configuration.summary), \(seedText)")

        let clickProbability = 1 - probabilities.none
        self.logOfNoClick = clickProbability > 0 ? log1p(-clickProbability) : 0
        func threshold(_ fraction: Double) -> UInt64 {
            fraction >= 1 ? .max : UInt64(fraction * 0x1p64)
        }
        let p = clickProbability > 0 ? clickProbability : 1
        self.d0Threshold = threshold(probabilities.d0 / p)
        self.d1Threshold = threshold((probabilities.d0 + probabilities.d1) / p)
        self.nextClickedPulse = drawGap()
    }

    public mutating func nextPulses(_ pulses: Int, into buffer: inout ClickBuffer) throws(QRNGError) -> Bool {
        precondition(pulses >= 0 && pulses <= Int(UInt32.max), "a click buffer covers at most 2³² pulses")
        buffer.firstPulse = nextPulse
        buffer.pulseCount = pulses
        buffer.events.removeAll(keepingCapacity: true)
        let end = nextPulse + UInt64(pulses)
        while nextClickedPulse < end {
            let offset = UInt32(truncatingIfNeeded: nextClickedPulse - nextPulse)
            buffer.events.append(ClickEvent(pulseOffset: offset, outcome: drawOutcome()))
            let gap = drawGap()
            nextClickedPulse = gap == .max ? .max : nextClickedPulse + 1 + gap
        }
        nextPulse = end
        return true
    }

    /// The number of empty pulses before the next pulse with a click: geometric, P(k) = (1 − q)ᵏ·q;
    /// `UInt64.max` when no pulse can click.
    private mutating func drawGap() -> UInt64 {
        guard logOfNoClick < 0 else { return .max }
        let gap = (log(generator.nextOpenUnitInterval()) / logOfNoClick).rounded(.down)
        return gap < 0x1p62 ? UInt64(gap) : 1 << 62
    }

    private mutating func drawOutcome() -> ClickOutcome {
        let u = generator.next()
        if u < d0Threshold { return .d0 }
        if u < d1Threshold { return .d1 }
        return .both
    }
}

extension EmitterConfiguration {
    /// A one-line description of the model.
    public var summary: String {
        let lightText =
            switch light {
            case .quantumDot(let mu, let g2): "QD emitter μ=\(mu) g2(0)=\(g2)"
            case .attenuatedLaser(let mu): "attenuated laser μ=\(mu)"
            }
        return "\(lightText), \(clockRate / 1e6) MHz, T=\(beamSplitterTransmission), "
            + "η=\(detector0.efficiency)/\(detector1.efficiency), "
            + "dark=\(detector0.darkCountProbability)/\(detector1.darkCountProbability) per pulse"
    }
}
