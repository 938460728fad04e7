#if canImport(Glibc)
import Glibc
#endif

/// A simulated beam-splitter QRNG: a pulsed quantum-dot (or attenuated-laser) source, a beam splitter and two
/// detectors, pulse by pulse. **Its output is pseudo-random**: every buffer carries a simulated ``Provenance``.
///
/// Pulses are independent and identically distributed under the model, so the simulator does not draw once per
/// pulse. It draws the gap to the next pulse with a click from the geometric distribution with success
/// probability q = 1 − P(no click), together with that pulse's outcome (D0, D1 or both in proportion to their
/// probabilities), from one alias table. The cost is per click, not per pulse, and the outcome distribution is
/// that of drawing every pulse, to within 2⁻⁵² per outcome.
///
/// Given a seed the output is reproducible; without one the generator is seeded from the operating system.
public struct SimulatedQuantumDotEmitter: ClickSource {
    /// The physical model; only its pulse-level part is used (see ``SimulationConfiguration/validateForPulseModel()``).
    public let configuration: SimulationConfiguration
    /// The model's exact outcome probabilities.
    public let probabilities: ClickProbabilities
    public let provenance: Provenance

    private var generator: Xoshiro256StarStar
    /// The index of the next pulse not yet handed out.
    private var nextPulse: UInt64 = 0
    /// The next pulse with a click and its outcome, already drawn.
    private var nextClickedPulse: UInt64 = 0
    private var nextOutcome = ClickOutcome.none
    private let sampler: GapSampler
    private var scratch = [ClickEvent](repeating: ClickEvent(pulseOffset: 0, outcome: .none), count: 4096)

    /// Creates a simulator.
    ///
    /// - Parameters:
    ///   - configuration: The physical model, pulsed; it is validated, and what only the time-domain simulator
    ///     models is refused.
    ///   - seed: The seed of the pseudo-random generator, or `nil` to seed it from the operating system.
    public init(configuration: SimulationConfiguration = SimulationConfiguration(), seed: UInt64? = nil) throws(QRNGError) {
        try configuration.validateForPulseModel()
        self.configuration = configuration
        self.probabilities = configuration.outcomeProbabilities
        let seedValue = seed ?? UInt64.random(in: .min ... .max)
        self.generator = Xoshiro256StarStar(seed: seedValue)
        let seedText = seed.map { "seed \($0)" } ?? "seeded from the operating system"
        self.provenance = Provenance(kind: .simulated, detail: "\(configuration.pulseModelSummary), \(seedText)")
        self.sampler = GapSampler(probabilities)
        (nextClickedPulse, nextOutcome) = sampler.draw(using: &generator)
    }

    public mutating func nextPulses(_ pulses: Int, into buffer: inout ClickBuffer) throws(QRNGError) -> Bool {
        precondition(pulses >= 0 && pulses <= Int(UInt32.max), "a click buffer covers at most 2³² pulses")
        buffer.firstPulse = nextPulse
        buffer.pulseCount = pulses
        buffer.events.removeAll(keepingCapacity: true)
        let end = nextPulse + UInt64(pulses)
        let first = nextPulse
        // Clicks are written into a fixed scratch block and appended in bulk, so that no append pays for a
        // uniqueness check; the loop itself runs on locals in `fill`.
        while nextClickedPulse < end {
            let written = scratch.withUnsafeMutableBufferPointer { block in
                Self.fill(
                    block, first: first, end: end, clicked: &nextClickedPulse, outcome: &nextOutcome,
                    generator: &generator, sampler: sampler)
            }
            buffer.events.append(contentsOf: scratch[0..<written])
        }
        nextPulse = end
        return true
    }
}

extension SimulatedQuantumDotEmitter {
    /// Writes clicks into `block` until it is full or the next click is at or past `end`.
    private static func fill(
        _ block: UnsafeMutableBufferPointer<ClickEvent>, first: UInt64, end: UInt64, clicked: inout UInt64,
        outcome: inout ClickOutcome, generator: inout Xoshiro256StarStar, sampler: GapSampler
    ) -> Int {
        var (pulse, current, random) = (clicked, outcome, generator)
        var count = 0
        while pulse < end && count < block.count {
            block[count] = ClickEvent(pulseOffset: UInt32(truncatingIfNeeded: pulse &- first), outcome: current)
            count += 1
            let (gap, drawn) = sampler.draw(using: &random)
            pulse = gap == .max ? .max : pulse &+ 1 &+ gap
            current = drawn
        }
        (clicked, outcome, generator) = (pulse, current, random)
        return count
    }
}
