import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A simulated beam-splitter QRNG seen through its time tagger: **pseudo-random**, labelled simulated.
///
/// It produces what a time tagger records (PHYSICS.md §1–§5): on channel 0 a sync tag for every excitation
/// pulse, on channels 1 and 2 the clicks of D0 and D1 — photons delayed by the dot's exponential decay, dark
/// counts, afterpulses (also of afterpulses), each click followed by a dead time that swallows what arrives in
/// it, every timestamp blurred by the detector's Gaussian jitter — with blinking, slow drifts and injected
/// faults. As a ``TimeTagReader`` it feeds the same click and arrival-time sources as a real file, and the
/// writers turn it into the hardware formats.
///
/// The simulation runs in 100 µs segments, in which the slowly varying parameters (drifts, blinking, faults) are
/// held fixed. Photon detections are drawn per pulse with a click, not per pulse; every candidate click — photon,
/// dark count, afterpulse, fault — goes through one time-ordered queue per detector that applies the dead time.
/// Tags are sorted before they are handed out (jitter can swap near clicks), and held back near a segment's end
/// until the next segment is known, so the stream never goes backwards unless a fault makes it.
public final class SimulatedTimeTagger: TimeTagReader {
    /// The simulated physics.
    public let configuration: SimulationConfiguration
    public let provenance: Provenance
    public var path: String { "simulated" }
    public var resolutionPicoseconds: Double? { 1 }
    public var skipped: SkippedRecords { SkippedRecords() }

    /// The sync channel, and the channels of D0 and D1.
    public static let syncChannel: UInt16 = 0
    public static let detectorChannels: (UInt16, UInt16) = (1, 2)

    private let engine: Mutex<Engine>

    /// Creates a simulator.
    ///
    /// - Parameters:
    ///   - configuration: The physics; it is validated.
    ///   - seed: The pseudo-random generator's seed, or `nil` to seed it from the operating system.
    public init(configuration: SimulationConfiguration = SimulationConfiguration(), seed: UInt64? = nil)
        throws(QRNGError)
    {
        try configuration.validate()
        self.configuration = configuration
        let seedValue = seed ?? UInt64.random(in: .min ... .max)
        let seedText = seed.map { "seed \($0)" } ?? "seeded from the operating system"
        let faults = configuration.faults.isEmpty ? "" : ", faults " + configuration.faults.map(\.description).joined(separator: " ")
        self.provenance = Provenance(kind: .simulated, detail: "time-tagged \(configuration.summary)\(faults), \(seedText)")
        self.engine = Mutex(Engine(configuration: configuration, seed: seedValue))
    }

    public func read(into buffer: UnsafeMutableBufferPointer<TimeTag>) throws(QRNGError) -> Int {
        let target = LentTags(buffer)
        return engine.withLock { $0.fill(target.buffer) }
    }

    /// Pulses by the number of photons they emitted: index 1 and 2 count one and two photons, index 3 three or
    /// more (index 0, empty pulses, is not counted): for checking the photon statistics against the model.
    public var photonNumberCounts: [UInt64] { engine.withLock { $0.photonNumbers } }

    /// Clicks registered per detector, and candidate events lost in the dead time.
    public var detectorCounts: (clicks: [UInt64], lostInDeadTime: [UInt64]) {
        engine.withLock { ($0.clicks, $0.lostInDeadTime) }
    }
}

/// A possible click: a photon, dark count, afterpulse or fault event arriving at a detector.
struct Candidate: Sendable {
    var time: Double  // picoseconds
    var detector: Int
}

/// The parameters in force during one segment.
private struct SegmentParameters {
    var brightnessFactor = 1.0
    var transmission: Double
    var efficiency: (Double, Double)
    var afterpulse: (Double, Double)
    var latched = 0.0
    var blinding = 0.0
    var interference = 0.0
    var stalled = 0.0
    var backwards = 0.0
}

private struct Engine: Sendable {
    let configuration: SimulationConfiguration
    var random: Xoshiro256StarStar
    let segment: Double = 1e8  // 100 µs in picoseconds
    var segmentStart = 0.0
    let end: Double?
    var finished = false

    // Pulsed excitation.
    let period: Double
    var nextPulse: UInt64 = 0
    // Continuous excitation.
    var nextEmission = 0.0

    /// This segment's candidates, appended in any order and sorted once; later events (afterpulses, photons
    /// emitted past the segment's end) wait in `future`.
    var queue = CandidateQueue()
    var nextDark: [Double]
    var lastClick: [Double] = [-.infinity, -.infinity]
    var emitterOn = true
    var nextBlinkToggle = Double.infinity

    /// Tags sorted, not yet handed out because a later segment may still put tags before them.
    var held: [TimeTag] = []
    var ready: [TimeTag] = []
    var readyPosition = 0
    var lastHandedOut: UInt64 = 0

    var photonNumbers: [UInt64] = [0, 0, 0, 0]
    var clicks: [UInt64] = [0, 0]
    var lostInDeadTime: [UInt64] = [0, 0]

    init(configuration: SimulationConfiguration, seed: UInt64) {
        self.configuration = configuration
        self.random = Xoshiro256StarStar(seed: seed)
        self.end = configuration.duration.map { $0 * 1e12 }
        switch configuration.excitation {
        case .pulsed(let rate): period = 1e12 / rate
        case .continuous: period = 0
        }
        nextDark = [Double.infinity, Double.infinity]
        for (index, detector) in [configuration.detector0, configuration.detector1].enumerated()
        where detector.darkCountRate > 0 {
            nextDark[index] = exponential(mean: 1e12 / detector.darkCountRate)
        }
        if let blinking = configuration.blinking { nextBlinkToggle = exponential(mean: blinking.meanOn * 1e12) }
        if case .continuous = configuration.excitation { nextEmission = emissionInterval() }
    }

    mutating func fill(_ buffer: UnsafeMutableBufferPointer<TimeTag>) -> Int {
        var written = 0
        while written < buffer.count {
            if readyPosition == ready.count {
                if finished { break }
                ready.removeAll(keepingCapacity: true)
                readyPosition = 0
                simulateSegment()
                continue
            }
            let count = min(buffer.count - written, ready.count - readyPosition)
            for index in 0..<count { buffer[written + index] = ready[readyPosition + index] }
            written += count
            readyPosition += count
        }
        return written
    }

    // MARK: One segment

    mutating func simulateSegment() {
        var segmentEnd = segmentStart + segment
        if let end, segmentEnd >= end {
            segmentEnd = end
            finished = true
        }
        let parameters = parameters(at: segmentStart)
        updateBlinking(until: segmentStart)
        var syncs: [TimeTag] = []
        switch configuration.excitation {
        case .pulsed:
            pulses(until: segmentEnd, parameters, syncs: &syncs)
        case .continuous:
            continuous(until: segmentEnd, parameters)
        }
        for detector in 0..<2 {
            let rate = detector == 0 ? configuration.detector0.darkCountRate : configuration.detector1.darkCountRate
            while nextDark[detector] < segmentEnd {
                queue.push(Candidate(time: nextDark[detector], detector: detector))
                nextDark[detector] += exponential(mean: 1e12 / rate)
            }
        }
        var detections: [TimeTag] = []
        registerClicks(until: segmentEnd, parameters, into: &detections)
        detections.sort { $0.picoseconds < $1.picoseconds }
        let merged = Self.merge(held, Self.merge(syncs, detections))
        // Jitter reaches a few standard deviations: tags that close to the segment's end wait for the next one.
        let guardBand = 10 * max(configuration.detector0.jitter, configuration.detector1.jitter) * 1e12 + 1
        let cut = finished ? merged.count : (merged.firstIndex { Double($0.picoseconds) >= segmentEnd - guardBand } ?? merged.count)
        held = Array(merged[cut...])
        handOut(merged[..<cut], parameters)
        segmentStart = segmentEnd
    }

    /// Drifts, blinking and faults evaluated at `time` (picoseconds).
    func parameters(at time: Double) -> SegmentParameters {
        let seconds = time * 1e-12
        var parameters = SegmentParameters(
            transmission: configuration.beamSplitterTransmission + configuration.transmissionDrift * seconds,
            efficiency: (configuration.detector0.efficiency, configuration.detector1.efficiency),
            afterpulse: (configuration.detector0.afterpulseProbability, configuration.detector1.afterpulseProbability))
        parameters.brightnessFactor = max(0, 1 + configuration.brightnessDrift * seconds)
        for fault in configuration.faults where seconds >= fault.start {
            switch fault.kind {
            case .deadDetector: parameters.efficiency.1 *= 1 - fault.strength
            case .latchedDetector: parameters.latched = fault.strength
            case .blinding: parameters.blinding = fault.strength
            case .biasDrift: parameters.transmission += fault.strength * (seconds - fault.start)
            case .afterpulseStorm: parameters.afterpulse = (fault.strength, fault.strength)
            case .sourceOff: parameters.brightnessFactor *= 1 - fault.strength
            case .periodicInterference: parameters.interference = fault.strength
            case .stalledTagger: parameters.stalled = fault.strength
            case .timestampsBackwards: parameters.backwards = fault.strength
            }
        }
        parameters.transmission = min(1, max(0, parameters.transmission))
        return parameters
    }

    mutating func updateBlinking(until time: Double) {
        guard let blinking = configuration.blinking else { return }
        while nextBlinkToggle <= time {
            emitterOn.toggle()
            nextBlinkToggle += exponential(mean: (emitterOn ? blinking.meanOn : blinking.meanOff) * 1e12)
        }
    }

    /// The pulses in the segment: their sync tags, and the photons and fault events they bring.
    mutating func pulses(until segmentEnd: Double, _ parameters: SegmentParameters, syncs: inout [TimeTag]) {
        let first = nextPulse
        let last = UInt64((segmentEnd / period).rounded(.up))
        guard last > first else { return }
        syncs.reserveCapacity(Int(last - first))
        for pulse in first..<last {
            syncs.append(TimeTag(channel: SimulatedTimeTagger.syncChannel, picoseconds: UInt64((Double(pulse) * period).rounded())))
        }
        nextPulse = last
        // Photons: the pulses that emit any, drawn by geometric gaps; then each pulse's photon number, and each
        // photon's path (T), detection (η) and emission delay (τ) on its own.
        let factor = emitterOn ? parameters.brightnessFactor : 0
        if factor > 0 {
            let (numbers, lifetime) = photonNumberDistribution(brightnessFactor: factor)
            let emitting = 1 - numbers[0]
            let logOfDark = log1p(-min(emitting, 1 - 1e-16))
            let table = AliasTable(weights: Array(numbers.dropFirst()), values: (1..<UInt64(numbers.count)).map { $0 })
            var pulse = first
            while emitting > 0 {
                let gap = (log(random.nextOpenUnitInterval()) / logOfDark).rounded(.down)
                guard gap < Double(last - pulse) else { break }
                pulse += UInt64(gap)
                let photons = Int(table.draw(random.next()))
                photonNumbers[min(photons, 3)] += 1
                let time = Double(pulse) * period
                for _ in 0..<photons {
                    let detector = random.nextOpenUnitInterval() <= parameters.transmission ? 0 : 1
                    let efficiency = detector == 0 ? parameters.efficiency.0 : parameters.efficiency.1
                    if random.nextOpenUnitInterval() <= efficiency {
                        queue.push(Candidate(time: time + exponential(mean: lifetime), detector: detector))
                    }
                }
                pulse += 1
                if pulse >= last { break }
            }
        }
        for time in pulseTimes(first..<last, withProbability: parameters.latched) {
            queue.push(Candidate(time: time, detector: 0))
        }
        for time in pulseTimes(first..<last, withProbability: parameters.blinding) {
            queue.push(Candidate(time: time, detector: 0))
            queue.push(Candidate(time: time, detector: 1))
        }
        if parameters.interference > 0 {
            let every = UInt64(max(1, (1 / parameters.interference).rounded()))
            var pulse = (first + every - 1) / every * every
            while pulse < last {
                queue.push(Candidate(time: Double(pulse) * period + period / 2, detector: 1))
                pulse += every
            }
        }
    }

    /// Continuous excitation: photons one by one, routed to a detector or lost.
    mutating func continuous(until segmentEnd: Double, _ parameters: SegmentParameters) {
        let factor = emitterOn ? parameters.brightnessFactor : 0
        let toD0 = parameters.transmission * parameters.efficiency.0
        let toD1 = (1 - parameters.transmission) * parameters.efficiency.1
        while nextEmission < segmentEnd {
            let u = random.nextOpenUnitInterval()
            if u <= factor {
                let route = random.nextOpenUnitInterval()
                if route <= toD0 {
                    queue.push(Candidate(time: nextEmission, detector: 0))
                } else if route <= toD0 + toD1 {
                    queue.push(Candidate(time: nextEmission, detector: 1))
                }
            }
            nextEmission += emissionInterval()
        }
        // Latching and blinding at a rate tied to the dead time; interference at strength·10 MHz.
        let dead = configuration.detector0.deadTime * 1e12
        for (strength, detectors) in [(parameters.latched, [0]), (parameters.blinding, [0, 1])] where strength > 0 {
            var time = segmentStart
            let mean = max(dead, 1000) / strength
            while true {
                time += exponential(mean: mean)
                guard time < segmentEnd else { break }
                for detector in detectors { queue.push(Candidate(time: time, detector: detector)) }
            }
        }
        if parameters.interference > 0 {
            let spacing = 1e12 / (parameters.interference * 1e7)
            var time = (segmentStart / spacing).rounded(.up) * spacing
            while time < segmentEnd {
                queue.push(Candidate(time: time, detector: 1))
                time += spacing
            }
        }
    }

    /// Applies the dead time in time order and registers clicks, with jitter; clicks may add afterpulses.
    mutating func registerClicks(until segmentEnd: Double, _ parameters: SegmentParameters, into tags: inout [TimeTag]) {
        let detectors = [configuration.detector0, configuration.detector1]
        queue.prepare()
        while let next = queue.popFirst(before: segmentEnd) {
            let detector = detectors[next.detector]
            let dead = detector.deadTime * 1e12
            guard next.time >= lastClick[next.detector] + dead else {
                lostInDeadTime[next.detector] += 1
                continue
            }
            lastClick[next.detector] = next.time
            clicks[next.detector] += 1
            let stamped = max(0, next.time + gaussian() * detector.jitter * 1e12).rounded()
            let channel = next.detector == 0 ? SimulatedTimeTagger.detectorChannels.0 : SimulatedTimeTagger.detectorChannels.1
            tags.append(TimeTag(channel: channel, picoseconds: UInt64(stamped)))
            let afterpulse = next.detector == 0 ? parameters.afterpulse.0 : parameters.afterpulse.1
            if afterpulse > 0 && random.nextOpenUnitInterval() <= afterpulse {
                queue.push(Candidate(time: next.time + dead + exponential(mean: detector.afterpulseDelay * 1e12),
                                     detector: next.detector))
            }
        }
    }

    /// Hands out sorted tags, where a stalled or jumping tagger may spoil their order.
    mutating func handOut(_ tags: ArraySlice<TimeTag>, _ parameters: SegmentParameters) {
        ready.reserveCapacity(ready.count + tags.count)
        for var tag in tags {
            if parameters.stalled > 0 && random.nextOpenUnitInterval() <= parameters.stalled {
                tag.picoseconds = lastHandedOut
            } else if parameters.backwards > 0 && random.nextOpenUnitInterval() <= parameters.backwards {
                tag.picoseconds = lastHandedOut >= 1_000_000 ? lastHandedOut - 1_000_000 : 0
            }
            lastHandedOut = tag.picoseconds
            ready.append(tag)
        }
    }

    // MARK: Draws

    /// P(n photons in a pulse) for n = 0, 1, …, and the emission delay's mean in picoseconds. A quantum dot
    /// gives P2 = ½μ²g2(0), P1 = μ − 2·P2; a laser Poisson probabilities, cut where the rest is below 10⁻¹⁶.
    func photonNumberDistribution(brightnessFactor: Double) -> ([Double], Double) {
        switch configuration.light {
        case .quantumDot(let brightness, let g2, let tau):
            let mu = brightness * brightnessFactor
            let p2 = 0.5 * mu * mu * g2
            let p1 = mu - 2 * p2
            return ([1 - p1 - p2, p1, p2], tau * 1e12)
        case .attenuatedLaser(let meanPhotonNumber):
            let mu = meanPhotonNumber * brightnessFactor
            var probabilities = [exp(-mu)]
            var cumulative = probabilities[0]
            while 1 - cumulative > 1e-16 && probabilities.count < 400 {
                let next = probabilities.last! * mu / Double(probabilities.count)
                probabilities.append(next)
                cumulative += next
            }
            return (probabilities, 0)
        }
    }

    /// The times of the pulses in `pulses` chosen independently with probability `p`.
    mutating func pulseTimes(_ pulses: Range<UInt64>, withProbability p: Double) -> [Double] {
        guard p > 0, !pulses.isEmpty else { return [] }
        var times: [Double] = []
        var pulse = pulses.lowerBound
        let logOfMiss = log1p(-min(p, 1 - 1e-16))
        while true {
            let gap = p >= 1 ? 0 : (log(random.nextOpenUnitInterval()) / logOfMiss).rounded(.down)
            guard gap < Double(pulses.upperBound - pulse) else { return times }
            pulse += UInt64(gap)
            times.append(Double(pulse) * period)
            pulse += 1
            if pulse >= pulses.upperBound { return times }
        }
    }

    mutating func emissionInterval() -> Double {
        guard case .continuous(let rate) = configuration.excitation else { return 0 }
        switch configuration.light {
        case .quantumDot(_, _, let tau):
            // Antibunched: a re-excitation wait, then the decay; together they average 1/rate.
            return exponential(mean: 1e12 / rate - tau * 1e12) + exponential(mean: tau * 1e12)
        case .attenuatedLaser:
            return exponential(mean: 1e12 / rate)
        }
    }

    mutating func exponential(mean: Double) -> Double {
        mean > 0 ? -mean * log(random.nextOpenUnitInterval()) : 0
    }

    /// A standard normal draw (Box–Muller).
    mutating func gaussian() -> Double {
        let u = random.nextOpenUnitInterval()
        let v = random.nextOpenUnitInterval()
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
    }

    static func merge(_ a: [TimeTag], _ b: [TimeTag]) -> [TimeTag] {
        if a.isEmpty { return b }
        if b.isEmpty { return a }
        var result: [TimeTag] = []
        result.reserveCapacity(a.count + b.count)
        var (i, j) = (0, 0)
        while i < a.count && j < b.count {
            if a[i].picoseconds <= b[j].picoseconds {
                result.append(a[i])
                i += 1
            } else {
                result.append(b[j])
                j += 1
            }
        }
        result += a[i...]
        result += b[j...]
        return result
    }
}

extension SimulationConfiguration {
    /// A one-line description of the model.
    public var summary: String {
        let excitationText =
            switch excitation {
            case .pulsed(let rate): "pulsed \(rate / 1e6) MHz"
            case .continuous(let rate): "CW \(rate) photons/s"
            }
        let lightText =
            switch light {
            case .quantumDot(let mu, let g2, let tau): "QD μ=\(mu) g2(0)=\(g2) τ=\(tau * 1e9) ns"
            case .attenuatedLaser(let mu): "laser μ=\(mu)"
            }
        return "\(lightText), \(excitationText), T=\(beamSplitterTransmission), "
            + "η=\(detector0.efficiency)/\(detector1.efficiency), dead \(detector0.deadTime * 1e9) ns, "
            + "jitter \(detector0.jitter * 1e12) ps"
    }
}
