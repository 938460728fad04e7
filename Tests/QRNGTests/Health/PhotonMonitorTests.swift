import Foundation
@testable import QRNG
import Testing

/// A click source that follows one simulated emitter up to a pulse and another after it: a fault that begins
/// mid-stream.
struct SwitchingClicks: ClickSource {
    var before: SimulatedQuantumDotEmitter
    var after: SimulatedQuantumDotEmitter
    let switchPulse: UInt64
    private(set) var pulse: UInt64 = 0
    var provenance: Provenance { before.provenance }

    init(healthy: SimulationConfiguration, faulty: SimulationConfiguration, switchPulse: UInt64, seed: UInt64) throws {
        self.before = try SimulatedQuantumDotEmitter(configuration: healthy, seed: seed)
        self.after = try SimulatedQuantumDotEmitter(configuration: faulty, seed: seed + 1)
        self.switchPulse = switchPulse
    }

    mutating func nextPulses(_ pulses: Int, into buffer: inout ClickBuffer) throws(QRNGError) -> Bool {
        if pulse >= switchPulse {
            _ = try after.nextPulses(pulses, into: &buffer)
        } else {
            _ = try before.nextPulses(Int(min(UInt64(pulses), switchPulse - pulse)), into: &buffer)
        }
        pulse += UInt64(buffer.pulseCount)
        return true
    }
}

@Suite struct PhotonMonitorTests {
    static let healthy = SimulationConfiguration()
    static let window: UInt64 = 1 << 18

    struct Run {
        var failures: [HealthFailure] = []
        var monitor: HealthMonitor
        /// The stream offset of the first sample from the faulty emitter.
        var faultStartSample: UInt64?
    }

    /// Runs a simulated beam splitter through a monitor with every counter monitor on: healthy for
    /// `switchPulse` pulses, then `faulty`.
    static func run(
        faulty: SimulationConfiguration, switchPulse: UInt64 = 6 * window, pulses: UInt64 = 12 * window,
        policy: FailurePolicy = FailurePolicy(permanentFailureCount: 1000), seed: UInt64 = 11
    ) throws -> Run {
        let probabilities = healthy.outcomeProbabilities
        var source = try BeamSplitterSource(
            clicks: try SwitchingClicks(healthy: healthy, faulty: faulty, switchPulse: switchPulse, seed: seed),
            claimedMinEntropy: probabilities.minEntropyPerBit)
        let settings = PhotonMonitorSettings(
            pulseWindow: window, clickRate: .init(expected: 1 - probabilities.none), autocorrelation: nil,
            histogramDrift: nil)
        var run = Run(
            monitor: try HealthMonitor(
                cutoffs: try HealthCutoffs(bitsPerSample: 1, minEntropy: source.claimedMinEntropy), policy: policy,
                monitors: settings))
        var samples = SampleBuffer(bitsPerSample: 1)
        var released = BitBuffer()
        var before = source.counters
        while source.counters.pulses < pulses {
            samples.removeAll()
            // The first read is small: the source sizes reads by the click rate it has seen.
            _ = try source.read(approximately: source.counters.pulses == 0 ? 1 : 1 << 14, into: &samples)
            if run.faultStartSample == nil && source.counters.pulses > switchPulse {
                run.faultStartSample = before.samples  // the whole read is counted as faulty
            }
            run.failures += run.monitor.process(
                samples, counters: source.counters.counted(since: before), releasingInto: &released)
            released.removeAll(keepingCapacity: true)
            before = source.counters
        }
        return run
    }

    @Test func healthyEmitterRaisesNoAlarm() throws {
        let run = try Self.run(faulty: Self.healthy)
        #expect(run.failures.isEmpty, "\(run.failures)")
        #expect(run.monitor.samplesReleased > 0)
    }

    @Test func sourceGoingDarkTripsTheClickRate() throws {
        var dark = Self.healthy
        dark.light = .quantumDot(brightness: 0.12, g2: 0.01, lifetime: 0.5e-9)
        let run = try Self.run(faulty: dark)
        let alarm = try #require(run.failures.first)
        #expect(alarm.test == .clickRate)
        #expect(alarm.value < alarm.threshold && alarm.threshold < 0.75 * 0.27)
        try Self.expectNothingReleasedFromTheFault(run)
    }

    @Test func multiPhotonLightTripsG2() throws {
        var laser = Self.healthy
        laser.light = .attenuatedLaser(meanPhotonNumber: 0.3)
        let run = try Self.run(faulty: laser)
        let alarm = try #require(run.failures.first)
        #expect(alarm.test == .secondOrderCoherence)
        #expect(alarm.value > 0.5 && alarm.threshold == 0.5)
        #expect(alarm.detail?.contains("estimate") == true)
        try Self.expectNothingReleasedFromTheFault(run)
    }

    @Test func splittingDriftTripsTheBias() throws {
        var drifted = Self.healthy
        drifted.beamSplitterTransmission = 0.55
        let run = try Self.run(faulty: drifted)
        let alarm = try #require(run.failures.first)
        #expect(alarm.test == .detectorBias)
        #expect(alarm.value > alarm.threshold && alarm.threshold > 0.5)
        try Self.expectNothingReleasedFromTheFault(run)
    }

    /// A detector that stops clicking: the other one's bits are all alike, which the RCT catches at once.
    @Test func aDeadDetectorTripsTheRepetitionCountTest() throws {
        var dead = Self.healthy
        dead.detector1.efficiency = 1e-4
        let run = try Self.run(faulty: dead, pulses: 8 * Self.window)
        let failure = try #require(run.failures.first)
        #expect(failure.test == .repetitionCount && failure.value == failure.threshold)
        try Self.expectNothingReleasedFromTheFault(run)
    }

    @Test func repeatedAlarmsBecomePermanent() throws {
        var drifted = Self.healthy
        drifted.beamSplitterTransmission = 0.6
        let policy = FailurePolicy(permanentFailureCount: 3, permanentFailureWindow: 1 << 22)
        let run = try Self.run(faulty: drifted, policy: policy)
        #expect(run.failures.count == 3)
        #expect(run.failures.map(\.permanent) == [false, false, true])
        #expect(run.monitor.state == .failedPermanently)
    }

    /// Both detectors click on every pulse (bright-light blinding): no bit at all, g2(0) = 1 and every pulse clicks.
    @Test func blindingTripsG2AndTheClickRate() throws {
        var monitor = try HealthMonitor(
            cutoffs: try HealthCutoffs(bitsPerSample: 1, minEntropy: 0.99),
            monitors: PhotonMonitorSettings(
                pulseWindow: 1 << 16, clickRate: .init(expected: 0.27), autocorrelation: nil, histogramDrift: nil))
        var counters = SourceCounters()
        counters.pulses = 1 << 16
        counters.doubleClicks = 1 << 16
        var released = BitBuffer()
        let failures = monitor.process(SampleBuffer(bitsPerSample: 1), counters: counters, releasingInto: &released)
        #expect(Set(failures.map(\.test)) == [.clickRate, .secondOrderCoherence])
        #expect(failures.allSatisfy { $0.pulseOffset == 1 << 16 })
    }

    static func expectNothingReleasedFromTheFault(_ run: Run) throws {
        let faultStart = try #require(run.faultStartSample)
        #expect(run.monitor.samplesReleased > 0, "output flowed before the fault")
        #expect(
            run.monitor.samplesReleased <= faultStart,
            "released \(run.monitor.samplesReleased) samples, fault at \(faultStart)")
        #expect(run.failures.allSatisfy { $0.sampleOffset >= faultStart })
    }

    @Test func alarmsNameMonitorValueThresholdAndOffset() throws {
        var laser = Self.healthy
        laser.light = .attenuatedLaser(meanPhotonNumber: 0.3)
        let run = try Self.run(faulty: laser, pulses: 8 * Self.window)
        let alarm = try #require(run.failures.first)
        let text = alarm.error.description
        #expect(text.contains("g2(0) monitor"), "\(text)")
        #expect(text.contains("value 0.") && text.contains("threshold 0.5"), "\(text)")
        #expect(text.contains("sample offset \(alarm.sampleOffset)") && text.contains("pulse offset"), "\(text)")
    }
}

/// The monitors that read samples: autocorrelation of bits and of wide samples, and histogram drift.
@Suite struct SampleMonitorTests {
    static func monitor(bits: Int, minEntropy: Double, window: Int = 1 << 14) throws -> HealthMonitor {
        try HealthMonitor(
            cutoffs: try HealthCutoffs(bitsPerSample: bits, minEntropy: minEntropy),
            policy: FailurePolicy(permanentFailureCount: 1000),
            monitors: PhotonMonitorSettings(
                clickRate: nil, secondOrderCoherence: nil, detectorBias: nil,
                autocorrelation: .init(maxLag: 8, windowSamples: window),
                histogramDrift: .init(windowSamples: window)))
    }

    /// Bits that repeat the previous bit with probability `stay` (afterpulsing-like correlation when > ½).
    static func markovBits(_ count: Int, stay: Double, seed: UInt64) -> BitBuffer {
        var generator = Xoshiro256StarStar(seed: seed)
        var bits = BitBuffer()
        var bit = false
        let threshold = UInt64(stay * Double(UInt64.max))
        for _ in 0..<count {
            if generator.next() >= threshold { bit.toggle() }
            bits.append(bit)
        }
        return bits
    }

    @Test func correlatedBitsTripTheAutocorrelation() throws {
        var monitor = try Self.monitor(bits: 1, minEntropy: 0.5)
        var released = BitBuffer()
        let healthy = Self.markovBits(1 << 17, stay: 0.5, seed: 1)
        #expect(monitor.process(SampleBuffer(bits: healthy), releasingInto: &released).isEmpty)
        #expect(monitor.samplesReleased > 0)
        let correlated = Self.markovBits(1 << 16, stay: 0.6, seed: 2)
        let failures = monitor.process(SampleBuffer(bits: correlated), releasingInto: &released)
        let alarm = try #require(failures.first)
        #expect(alarm.test == .autocorrelation && alarm.value > alarm.threshold)
        #expect(alarm.detail?.contains("lag 1") == true)
        #expect(alarm.sampleOffset == (1 << 17) + (1 << 14) - 1, "the end of the first correlated window")
        #expect(monitor.samplesReleased <= 1 << 17)
    }

    /// Arrival-time-like 8-bit samples: an exponential decay of mean `scale` bins, the last bin collecting the tail.
    static func decay(_ count: Int, scale: Double, seed: UInt64, correlated: Bool = false) -> [UInt16] {
        var generator = Xoshiro256StarStar(seed: seed)
        var previous = 0.0
        return (0..<count).map { _ in
            let uniform = (Double(generator.next() >> 11) + 0.5) / Double(1 << 53)
            var value = -scale * Foundation.log(uniform)
            if correlated { value = 0.5 * value + 0.5 * previous }
            previous = value
            return UInt16(min(255, value))
        }
    }

    @Test func correlatedWideSamplesTripTheAutocorrelation() throws {
        var monitor = try Self.monitor(bits: 8, minEntropy: 3)
        var released = BitBuffer()
        let healthy = SampleBuffer(values: Self.decay(1 << 16, scale: 40, seed: 3), bitsPerSample: 8)
        #expect(monitor.process(healthy, releasingInto: &released).isEmpty)
        let correlated = SampleBuffer(
            values: Self.decay(1 << 15, scale: 40, seed: 4, correlated: true), bitsPerSample: 8)
        let failures = monitor.process(correlated, releasingInto: &released)
        #expect(failures.first?.test == .autocorrelation, "\(failures)")
    }

    @Test func aChangedDecayTripsTheHistogramDrift() throws {
        var monitor = try Self.monitor(bits: 8, minEntropy: 3)
        var released = BitBuffer()
        let healthy = SampleBuffer(values: Self.decay(1 << 16, scale: 40, seed: 5), bitsPerSample: 8)
        #expect(monitor.process(healthy, releasingInto: &released).isEmpty)
        let faster = SampleBuffer(values: Self.decay(1 << 15, scale: 34, seed: 6), bitsPerSample: 8)
        let failures = monitor.process(faster, releasingInto: &released)
        let alarm = try #require(failures.first)
        #expect(alarm.test == .histogramDrift && alarm.value > alarm.threshold)
        #expect(alarm.detail?.contains("degrees of freedom") == true)
        #expect(monitor.samplesReleased <= 1 << 16)
    }

    @Test func aSuppliedReferenceIsUsedFromTheFirstWindow() throws {
        var reference = [Double](repeating: 1, count: 256)
        reference[0] = 10
        var monitor = try HealthMonitor(
            cutoffs: try HealthCutoffs(bitsPerSample: 8, minEntropy: 3),
            monitors: PhotonMonitorSettings(
                clickRate: nil, secondOrderCoherence: nil, detectorBias: nil, autocorrelation: nil,
                histogramDrift: .init(windowSamples: 1 << 14, reference: reference)))
        var generator = Xoshiro256StarStar(seed: 8)
        let values = (0..<(1 << 14)).map { _ in UInt16(generator.next() & 0xFF) }
        let uniform = SampleBuffer(values: values, bitsPerSample: 8)
        var released = BitBuffer()
        #expect(monitor.process(uniform, releasingInto: &released).first?.test == .histogramDrift)
    }

    @Test func healthyWideSamplesRaiseNoAlarm() throws {
        var monitor = try Self.monitor(bits: 8, minEntropy: 3)
        var released = BitBuffer()
        for seed in UInt64(10)..<14 {
            let samples = SampleBuffer(values: Self.decay(1 << 16, scale: 40, seed: seed), bitsPerSample: 8)
            #expect(monitor.process(samples, releasingInto: &released).isEmpty)
        }
        // 1024 start-up samples are discarded and the last completed window stays held until the next one
        // completes (the stream ends on a window boundary, so no window is in progress).
        #expect(monitor.samplesReleased == (1 << 18) - (1 << 14) - 1024)
        #expect(monitor.samplesHeld == 1 << 14)
    }

    @Test func settingsOutOfRangeAreRejected() {
        #expect(throws: QRNGError.self) {
            try HealthMonitor(
                cutoffs: try HealthCutoffs(bitsPerSample: 1, minEntropy: 1),
                monitors: PhotonMonitorSettings(autocorrelation: .init(maxLag: 64)))
        }
        #expect(throws: QRNGError.self) {
            try HealthMonitor(
                cutoffs: try HealthCutoffs(bitsPerSample: 8, minEntropy: 1),
                monitors: PhotonMonitorSettings(histogramDrift: .init(reference: [1, 2])))
        }
    }
}

/// On-demand testing (SP 800-90B §4.3): held samples are discarded and start-up runs again before output resumes.
@Suite struct OnDemandTestTests {
    static func decode(_ bits: BitBuffer) -> [UInt64] {
        stride(from: 0, to: bits.count, by: 16).map { UInt64(bits.word(atBit: $0, width: 16) >> 48) }
    }

    @Test func anOnDemandTestDiscardsHeldSamplesAndRerunsStartUp() throws {
        var monitor = try HealthMonitor(cutoffs: try HealthCutoffs(bitsPerSample: 16, minEntropy: 8))
        var released = BitBuffer()
        let first = SampleBuffer(values: (0..<4096).map { UInt16($0) }, bitsPerSample: 16)
        #expect(monitor.process(first, releasingInto: &released).isEmpty)
        #expect(Self.decode(released) == Array(1024..<3072))

        monitor.requestOnDemandTest()
        #expect(monitor.state == .startingUp(remainingSamples: 1024))
        #expect(monitor.onDemandTests == 1 && monitor.samplesHeld == 0)
        let second = SampleBuffer(values: (4096..<8192).map { UInt16($0) }, bitsPerSample: 16)
        #expect(monitor.process(second, releasingInto: &released).isEmpty)
        // The held 3072..<4096 are gone, 4096..<5120 were start-up samples, the last 1024 are held.
        #expect(Self.decode(released) == Array(1024..<3072) + Array(5120..<7168))
        #expect(monitor.samplesDiscarded == 1024 + 1024 + 1024)
        #expect(monitor.failureCount == 0, "an on-demand test is not a failure")
    }

    @Test func thePipelineDropsItsPartialBlockOnAnOnDemandTest() throws {
        let source = ScriptedSource(bitsPerSample: 16, claimedMinEntropy: 8, length: 20_000) {
            UInt16(truncatingIfNeeded: $0)
        }
        var pipeline = Pipeline(
            source: source, health: try HealthMonitor(cutoffs: try HealthCutoffs(bitsPerSample: 16, minEntropy: 8)),
            extractor: BlockPassThroughExtractor(blockBits: 16 * 1000), samplesPerStep: 3000)
        var output = BitBuffer()
        _ = try pipeline.step(into: &output)
        _ = try pipeline.step(into: &output)
        #expect(pipeline.extractor.bufferedInputBits > 0)
        pipeline.requestOnDemandTest()
        #expect(pipeline.extractor.bufferedInputBits == 0)
        #expect(pipeline.health.state == .startingUp(remainingSamples: 1024))
    }
}

/// The autocorrelation monitor's word and SIMD sums against a plain sum over the samples.
@Suite struct AutocorrelationSumTests {
    static func reference(_ samples: [UInt16], maxLag: Int) -> (UInt64, [UInt64]) {
        let sum = samples.reduce(UInt64(0)) { $0 + UInt64($1) }
        let products = (1...maxLag).map { lag in
            (lag..<samples.count).reduce(UInt64(0)) { $0 + UInt64(samples[$1]) * UInt64(samples[$1 - lag]) }
        }
        return (sum, products)
    }

    @Test(arguments: [1, 8, 12, 16])
    func sumsMatchThePlainComputation(bitsPerSample: Int) throws {
        var generator = Xoshiro256StarStar(seed: UInt64(bitsPerSample))
        let mask = UInt64((1 << bitsPerSample) - 1)
        // Whole words only for bits: the monitor adds bits a word at a time.
        let samples = (0..<(64 * 150)).map { _ in UInt16(generator.next() & mask) }
        var window = AutocorrelationWindow(
            maxLag: 9, windowSamples: 1 << 20, bitsPerSample: bitsPerSample, alpha: .defaultAlpha)
        var alarms: [MonitorAlarm] = []
        var position = 0
        while position < samples.count {
            let size = min(samples.count - position, Int(generator.next() % 900) + 1)
            let piece = Array(samples[position..<position + size])
            if bitsPerSample == 1 {
                var bits = BitBuffer()
                for sample in piece { bits.append(sample == 1) }
                window.feed(bits: bits, range: 0..<size, offset: UInt64(position), alarms: &alarms)
            } else {
                piece.withUnsafeBufferPointer { window.feed(values: $0, offset: UInt64(position), alarms: &alarms) }
            }
            position += size
        }
        let (sum, products) = window.sums()
        let expected = Self.reference(samples, maxLag: 9)
        #expect(sum == expected.0)
        #expect(products == expected.1)
        #expect(alarms.isEmpty)
    }
}
