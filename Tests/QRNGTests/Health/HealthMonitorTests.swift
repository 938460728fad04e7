@testable import QRNG
import QRNGTestSupport
import Testing

@Suite struct HealthMonitorTests {
    /// 16-bit samples that carry their own stream offset: all distinct within any window, so a healthy stretch
    /// never fails, and each released sample says where it came from.
    static func taggedMonitor() throws -> HealthMonitor {
        try HealthMonitor(cutoffs: try HealthCutoffs(bitsPerSample: 16, minEntropy: 8))
    }

    static func decode(_ bits: BitBuffer) -> [UInt64] {
        stride(from: 0, to: bits.count, by: 16).map { UInt64(bits.word(atBit: $0, width: 16) >> 48) }
    }

    @Test func startUpSamplesAreDiscardedAndOutputIsHeldBack() throws {
        var monitor = try Self.taggedMonitor()
        #expect(monitor.holdbackSamples == 1024)  // 2W for W = 512
        var released = BitBuffer()
        let first = SampleBuffer(values: (0..<1024).map { UInt16($0) }, bitsPerSample: 16)
        #expect(monitor.process(first, releasingInto: &released).isEmpty)
        #expect(released.isEmpty)
        #expect(monitor.state == .healthy)

        let second = SampleBuffer(values: (1024..<4096).map { UInt16($0) }, bitsPerSample: 16)
        #expect(monitor.process(second, releasingInto: &released).isEmpty)
        // Start-up took samples 0..<1024; the last 1024 tested samples are still held.
        #expect(Self.decode(released) == Array(1024..<3072))
        #expect(monitor.samplesReleased == 2048 && monitor.samplesDiscarded == 1024)
    }

    /// A detector sticks mid-stream. Nothing from the stuck stretch may be released, nor any sample the tests had
    /// not yet looked `holdbackSamples` past when they caught it; output resumes only after a fresh start-up.
    @Test func faultMidStreamReleasesNothingFromTheFailingStretch() throws {
        var monitor = try HealthMonitor(
            cutoffs: try HealthCutoffs(bitsPerSample: 16, minEntropy: 8),
            policy: FailurePolicy(permanentFailureCount: 1000))
        let faultStart: UInt64 = 5000
        let faultEnd: UInt64 = 5100
        var released = BitBuffer()
        var failures: [HealthFailure] = []
        for chunk in stride(from: UInt64(0), to: 12000, by: 777) {
            let values = (chunk..<min(chunk + 777, 12000)).map { offset in
                (faultStart..<faultEnd).contains(offset) ? 0xABCD : UInt16(truncatingIfNeeded: offset)
            }
            failures += monitor.process(SampleBuffer(values: values, bitsPerSample: 16), releasingInto: &released)
        }
        // RCT cutoff 1 + ⌈30/8⌉ = 5: the stuck run fails at its 5th sample, then again every 5 samples while
        // start-up re-runs inside the stuck stretch.
        let rctCutoff = UInt64(monitor.cutoffs.repetitionCountCutoff)
        #expect(rctCutoff == 5)
        let expectedOffsets = Array(stride(from: faultStart + rctCutoff - 1, to: faultEnd, by: Int(rctCutoff)))
        #expect(failures.map(\.sampleOffset) == expectedOffsets)
        #expect(failures.allSatisfy { $0.test == .repetitionCount })

        let detection = try #require(failures.first).sampleOffset
        let offsets = Self.decode(released)
        // Start-up re-runs after the last failure and discards its samples.
        let lastFailure = try #require(failures.last).sampleOffset
        let unsafe = (detection - UInt64(monitor.holdbackSamples))..<(lastFailure + 1 + UInt64(monitor.startupSamples))
        let unsafeReleased = offsets.filter { unsafe.contains($0) }
        #expect(unsafeReleased.isEmpty, "released samples from \(unsafe)")
        #expect(offsets.first.map { $0 < faultStart } == true && offsets.last.map { $0 >= faultEnd } == true)
        // Released samples come out in stream order, each once.
        #expect(offsets == offsets.sorted() && Set(offsets).count == offsets.count)
    }

    @Test func repeatedFailuresBecomePermanentUntilAnOperatorReset() throws {
        var monitor = try HealthMonitor(
            cutoffs: try HealthCutoffs(bitsPerSample: 1, minEntropy: 1),
            policy: FailurePolicy(permanentFailureCount: 3, permanentFailureWindow: 1 << 20))
        var released = BitBuffer()
        let stuck = SampleBuffer(bits: BitBuffer(zeros: 10_000))
        let failures = monitor.process(stuck, releasingInto: &released)
        #expect(failures.count == 3)
        #expect(failures.map(\.permanent) == [false, false, true])
        #expect(failures.map(\.sampleOffset) == [30, 61, 92])  // RCT cutoff 31: every 31st sample fails
        #expect(monitor.state == .failedPermanently)
        #expect(released.isEmpty)

        var generator = Xoshiro256StarStar(seed: 5)
        let healthy = SampleBuffer(bits: .random(count: 10_000, using: &generator))
        #expect(monitor.process(healthy, releasingInto: &released).isEmpty)
        #expect(released.isEmpty, "a permanently failed monitor releases nothing")

        monitor.operatorReset()
        #expect(monitor.process(healthy, releasingInto: &released).isEmpty)
        #expect(released.count == 10_000 - 1024 - monitor.holdbackSamples)
    }

    @Test func failureErrorNamesTestValueThresholdAndOffset() throws {
        var monitor = try HealthMonitor(cutoffs: try HealthCutoffs(bitsPerSample: 1, minEntropy: 1))
        var released = BitBuffer()
        let failure = try #require(
            monitor.process(SampleBuffer(bits: BitBuffer(zeros: 100)), releasingInto: &released).first)
        let text = failure.error.description
        #expect(text.contains("Repetition Count Test"))
        #expect(text.contains("value 31") && text.contains("threshold 31") && text.contains("sample offset 30"))
    }
}

/// The word-at-a-time path for binary samples and the block path for wider ones must agree exactly with testing
/// one sample at a time: the same failures at the same offsets, the same released bits.
@Suite struct HealthMonitorFastPathTests {
    /// A stream of `bitsPerSample`-bit samples: random stretches, stuck stretches of various lengths and biased
    /// stretches (a repeated value half the time), to exercise both tests' failures.
    static func stream(bitsPerSample k: Int, length: Int, seed: UInt64) -> [UInt16] {
        var generator = Xoshiro256StarStar(seed: seed)
        let mask = UInt64((1 << k) - 1)
        var samples: [UInt16] = []
        samples.reserveCapacity(length + 3000)
        var segment = 0
        while samples.count < length {
            let stretch = Int(generator.next() % 3000) + 1
            switch segment % 4 {
            case 0, 1:
                for _ in 0..<stretch { samples.append(UInt16(generator.next() & mask)) }
            case 2:
                let value = UInt16(generator.next() & mask)
                for _ in 0..<Int(generator.next() % 150) { samples.append(value) }
            default:
                let value = UInt16(generator.next() & mask)
                let percent = UInt64(k == 1 ? 85 : 40)
                for _ in 0..<stretch {
                    samples.append(generator.next() % 100 < percent ? value : UInt16(generator.next() & mask))
                }
            }
            segment += 1
        }
        return samples
    }

    /// The stream cut into buffers of odd sizes.
    static func chunks(_ samples: [UInt16], bitsPerSample k: Int, seed: UInt64) -> [SampleBuffer] {
        var generator = Xoshiro256StarStar(seed: seed ^ 0xC0FFEE)
        var result: [SampleBuffer] = []
        var position = 0
        while position < samples.count {
            let size = min(samples.count - position, Int(generator.next() % 1500) + 1)
            let piece = Array(samples[position..<position + size])
            if k == 1 {
                var bits = BitBuffer()
                for sample in piece { bits.append(sample == 1) }
                result.append(SampleBuffer(bits: bits))
            } else {
                result.append(SampleBuffer(values: piece, bitsPerSample: k))
            }
            position += size
        }
        return result
    }

    static func run(_ monitor: inout HealthMonitor, _ chunks: [SampleBuffer]) -> (BitBuffer, [HealthFailure]) {
        var released = BitBuffer()
        var failures: [HealthFailure] = []
        for chunk in chunks { failures += monitor.process(chunk, releasingInto: &released) }
        return (released, failures)
    }

    @Test(arguments: [
        (1, 0.3), (1, 0.8), (1, 1.0), (2, 0.5), (2, 1.5), (8, 1.0), (8, 4.0), (8, 7.5), (12, 6.0), (12, 11.0),
        (16, 8.0), (16, 15.0),
    ])
    func fastPathAgreesWithSampleBySample(bitsPerSample: Int, minEntropy: Double) throws {
        let seed = UInt64(bitsPerSample * 1000) + UInt64(minEntropy * 10)
        let length = bitsPerSample == 1 ? 200_000 : 60_000
        let samples = Self.stream(bitsPerSample: bitsPerSample, length: length, seed: seed)
        let chunks = Self.chunks(samples, bitsPerSample: bitsPerSample, seed: seed)
        let cutoffs = try HealthCutoffs(bitsPerSample: bitsPerSample, minEntropy: minEntropy)
        var fast = try HealthMonitor(cutoffs: cutoffs, policy: FailurePolicy(permanentFailureCount: 1_000_000))
        var plain = fast
        plain.testsSampleBySample = true
        let (fastReleased, fastFailures) = Self.run(&fast, chunks)
        let (plainReleased, plainFailures) = Self.run(&plain, chunks)
        #expect(!plainFailures.isEmpty, "the stream must exercise failures")
        // At low H the APT's cutoff is out of reach of these biased stretches; elsewhere both tests must fail.
        #expect(minEntropy < 2 || Set(plainFailures.map(\.test)).count == 2,
                "both tests should fail somewhere: \(Set(plainFailures.map(\.test)))")
        #expect(fastFailures == plainFailures)
        #expect(fastReleased == plainReleased)
        #expect(!plainReleased.isEmpty, "healthy stretches must release samples")
        #expect(fast.samplesReleased == plain.samplesReleased && fast.samplesDiscarded == plain.samplesDiscarded)
    }

    /// With the sample monitors on, the two paths still agree (the monitors see the same samples either way).
    @Test(arguments: [1, 8])
    func fastPathAgreesWithMonitorsOn(bitsPerSample: Int) throws {
        let samples = Self.stream(bitsPerSample: bitsPerSample, length: 150_000, seed: 77)
        let chunks = Self.chunks(samples, bitsPerSample: bitsPerSample, seed: 78)
        let settings = PhotonMonitorSettings.samplesOnly(alpha: try ErrorProbability(log2: -20))
        var fast = try HealthMonitor(
            cutoffs: try HealthCutoffs(bitsPerSample: bitsPerSample, minEntropy: bitsPerSample == 1 ? 0.9 : 6),
            policy: FailurePolicy(permanentFailureCount: 1_000_000),
            monitors: PhotonMonitorSettings(
                alpha: settings.alpha, clickRate: nil, secondOrderCoherence: nil, detectorBias: nil,
                autocorrelation: .init(maxLag: 4, windowSamples: 4096), histogramDrift: .init(windowSamples: 4096)))
        var plain = fast
        plain.testsSampleBySample = true
        let (fastReleased, fastFailures) = Self.run(&fast, chunks)
        let (plainReleased, plainFailures) = Self.run(&plain, chunks)
        #expect(!plainFailures.isEmpty)
        #expect(fastFailures == plainFailures)
        #expect(fastReleased == plainReleased)
    }

    @Test func runDetectionWithinAWord() {
        #expect(RepetitionCountTest.hasRun(0x00FF_0000_0000_0000, 8))
        #expect(!RepetitionCountTest.hasRun(0x00FE_0000_0000_0000, 8))
        #expect(RepetitionCountTest.hasRun(.max, 64))
        #expect(!RepetitionCountTest.hasRun(.max >> 1, 64))
        #expect(RepetitionCountTest.hasRun(0x0000_0000_0000_0007, 3))
    }
}
