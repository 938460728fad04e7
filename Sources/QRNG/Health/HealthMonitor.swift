/// Which health test failed.
public enum HealthTestKind: String, Sendable, Hashable {
    /// SP 800-90B §4.4.1.
    case repetitionCount = "Repetition Count Test"
    /// SP 800-90B §4.4.2.
    case adaptiveProportion = "Adaptive Proportion Test"
}

/// One failure of a health test.
public struct HealthFailure: Sendable, Hashable, CustomStringConvertible {
    /// The test that failed.
    public var test: HealthTestKind
    /// The offset of the sample at which it failed, counted in samples from the start of the stream.
    public var sampleOffset: UInt64
    /// The run length (RCT) or count (APT) the test reached.
    public var value: Int
    /// The test's cutoff.
    public var cutoff: Int
    /// Whether the failure happened during start-up testing.
    public var duringStartup: Bool
    /// Whether this failure made the failure permanent under the ``FailurePolicy``.
    public var permanent: Bool

    /// The failure as an error, for consumers that were waiting for bits.
    public var error: QRNGError {
        let what = permanent ? "permanent failure, output stopped until an operator reset" : "output discarded"
        let stage = duringStartup ? "start-up test failed" : "continuous test failed"
        return QRNGError(
            .healthTestFailure, "\(stage); \(what)",
            context: .init(
                sampleOffset: sampleOffset, test: test.rawValue, value: Double(value), threshold: Double(cutoff)))
    }

    public var description: String { error.description }
}

/// When a failure is intermittent and when it is permanent.
///
/// Every failure discards the samples still held back and re-runs the start-up tests. When
/// ``permanentFailureCount`` failures fall within ``permanentFailureWindow`` samples, the failure is permanent:
/// nothing more is output until an operator calls ``HealthMonitor/operatorReset()``.
public struct FailurePolicy: Sendable, Hashable {
    /// The number of failures that make a failure permanent.
    public var permanentFailureCount: Int
    /// The span, in samples, within which those failures must fall.
    public var permanentFailureWindow: UInt64

    /// Three failures within 2²⁰ samples. With α = 2⁻³⁰ a healthy source fails once in about 10⁹ samples,
    /// so three in a million samples means a broken source.
    public init(permanentFailureCount: Int = 3, permanentFailureWindow: UInt64 = 1 << 20) {
        precondition(permanentFailureCount >= 1, "at least one failure must be allowed before it is permanent")
        self.permanentFailureCount = permanentFailureCount
        self.permanentFailureWindow = permanentFailureWindow
    }
}

/// Where the health monitor stands.
public enum HealthState: Sendable, Hashable, CustomStringConvertible {
    /// Start-up tests are running; this many samples must still pass before any output.
    case startingUp(remainingSamples: Int)
    /// The tests pass; output flows.
    case healthy
    /// Too many failures: no output until an operator reset.
    case failedPermanently

    public var description: String {
        switch self {
        case .startingUp(let remaining): "starting up (\(remaining) samples to go)"
        case .healthy: "healthy"
        case .failedPermanently: "FAILED (permanent)"
        }
    }
}

/// SP 800-90B's continuous health tests with start-up testing and output gating: the gate between the source
/// and the extractor.
///
/// ## Why output is held back
/// A test notices a failure only after it has seen the failing samples: the Repetition Count Test on the C-th
/// repeat, the Adaptive Proportion Test somewhere in a window. A fault that begins late in one APT window may
/// only be caught by the next, up to 2W samples later. So a sample that passed is not released at once: it is
/// held until the tests have looked ``holdbackSamples`` = max(2W, C) samples past it. When a test fails, every
/// sample still held is discarded with the failing one, so no sample from a failing stretch is ever released.
///
/// ## Start-up and failures
/// After creation, after every failure and after an operator reset, the first ``startupSamples`` samples (at
/// least 1024, §4.3) are tested and discarded; only samples after a passed start-up can be released. A failure
/// re-runs start-up (an intermittent failure) unless the ``FailurePolicy`` makes it permanent.
public struct HealthMonitor: Sendable {
    /// The tests' parameters.
    public let cutoffs: HealthCutoffs
    /// The number of samples start-up testing discards.
    public let startupSamples: Int
    /// How failures are treated.
    public let policy: FailurePolicy
    /// How far the tests look past a sample before it is released.
    public let holdbackSamples: Int

    /// Where the monitor stands.
    public private(set) var state: HealthState
    /// Samples tested so far; also the stream offset of the next sample.
    public private(set) var samplesTested: UInt64 = 0
    /// Samples released to the extractor so far.
    public private(set) var samplesReleased: UInt64 = 0
    /// Failures so far.
    public private(set) var failureCount = 0
    /// The most recent failure.
    public private(set) var lastFailure: HealthFailure?

    private var repetitionCount: RepetitionCountTest
    private var adaptiveProportion: AdaptiveProportionTest
    /// Bits of samples that passed and wait for the tests to look far enough past them.
    private var heldBits = BitBuffer()
    private var heldSamples = 0
    private var recentFailureOffsets: [UInt64] = []
    /// Whether binary samples are tested a word at a time; tests turn it off to compare with the plain path.
    var checkBitsAtOnce = true

    /// Creates a monitor.
    ///
    /// - Parameters:
    ///   - cutoffs: The tests' parameters.
    ///   - startupSamples: Samples to test and discard at start-up; at least 1024.
    ///   - policy: When failures become permanent.
    public init(cutoffs: HealthCutoffs, startupSamples: Int = 1024, policy: FailurePolicy = FailurePolicy())
        throws(QRNGError)
    {
        guard startupSamples >= 1024 else {
            throw .invalidArgument("start-up samples", "SP 800-90B §4.3 requires at least 1024, got \(startupSamples)")
        }
        self.cutoffs = cutoffs
        self.startupSamples = startupSamples
        self.policy = policy
        self.holdbackSamples = max(2 * cutoffs.adaptiveProportionWindow, cutoffs.repetitionCountCutoff)
        self.state = .startingUp(remainingSamples: startupSamples)
        self.repetitionCount = RepetitionCountTest(cutoff: cutoffs.repetitionCountCutoff)
        self.adaptiveProportion = AdaptiveProportionTest(
            window: cutoffs.adaptiveProportionWindow, cutoff: cutoffs.adaptiveProportionCutoff)
    }

    /// Samples tested but neither released nor held: start-up samples and samples discarded on failures.
    public var samplesDiscarded: UInt64 { samplesTested - samplesReleased - UInt64(heldSamples) }

    /// Tests the next samples of the stream and appends to `released` the bits of every sample now safe to use.
    ///
    /// - Returns: The failures among these samples, in order; empty when all passed. After a failure the caller
    ///   must also drop whatever it built from earlier released bits but has not output yet (a partial
    ///   extractor block), so that output resumes from a clean state.
    public mutating func process(_ samples: SampleBuffer, releasingInto released: inout BitBuffer) -> [HealthFailure] {
        precondition(samples.bitsPerSample == cutoffs.bitsPerSample, "sample width differs from the tests'")
        var failures: [HealthFailure] = []
        let count = samples.count
        guard state != .failedPermanently else {
            samplesTested += UInt64(count)
            return failures
        }
        // Samples [keptFrom, i) passed and follow a passed start-up; they join the held samples at the end.
        var keptFrom: Int? = state == .healthy ? 0 : nil
        var index = 0
        func test(_ sample: UInt16) -> Bool {
            let rctFailed = repetitionCount.feed(sample)
            let aptFailed = adaptiveProportion.feed(sample)
            if rctFailed || aptFailed {
                let failure = recordFailure(
                    rctFailed ? .repetitionCount : .adaptiveProportion, at: samplesTested + UInt64(index))
                failures.append(failure)
                keptFrom = nil
                if failure.permanent { return false }
            } else if case .startingUp(let remaining) = state {
                if remaining == 1 {
                    state = .healthy
                    keptFrom = index + 1
                } else {
                    state = .startingUp(remainingSamples: remaining - 1)
                }
            }
            index += 1
            return true
        }
        switch samples.storage {
        case .binary(let bits):
            bits.words.withUnsafeBufferPointer { words in
                func bit(_ index: Int) -> UInt16 {
                    UInt16(truncatingIfNeeded: words[index >> 6] >> UInt64(63 - (index & 63))) & 1
                }
                while index < count {
                    var width = min(64, count - index)
                    if case .startingUp(let remaining) = state { width = min(width, remaining) }
                    if checkBitsAtOnce {
                        // Whole words at once; only a word in which a test may fail is re-tested bit by bit.
                        let word = bits.word(atBit: index, width: width)
                        var rct = repetitionCount
                        var apt = adaptiveProportion
                        if !rct.mayFail(binaryWord: word, count: width)
                            && !apt.mayFail(binaryWord: word, count: width)
                        {
                            repetitionCount = rct
                            adaptiveProportion = apt
                            index += width
                            if case .startingUp(let remaining) = state {
                                if remaining == width {
                                    state = .healthy
                                    keptFrom = index
                                } else {
                                    state = .startingUp(remainingSamples: remaining - width)
                                }
                            }
                            continue
                        }
                    }
                    let end = index + width
                    while index < end {
                        if !test(bit(index)) { return }
                    }
                }
            }
        case .wide(let values):
            values.withUnsafeBufferPointer { values in
                while index < count {
                    if !test(values[index]) { break }
                }
            }
        }
        if state == .failedPermanently { index = count }
        samplesTested += UInt64(count)
        if let keptFrom, keptFrom < count {
            samples.appendBits(of: keptFrom..<count, to: &heldBits)
            heldSamples += count - keptFrom
        }
        if heldSamples > holdbackSamples {
            let releasing = heldSamples - holdbackSamples
            let releasingBits = releasing * cutoffs.bitsPerSample
            released.append(contentsOf: heldBits, range: 0..<releasingBits)
            heldBits.removeFirst(releasingBits)
            heldSamples -= releasing
            samplesReleased += UInt64(releasing)
        }
        return failures
    }

    /// Clears a permanent failure, as an operator does after repairing the source; start-up testing runs again.
    public mutating func operatorReset() {
        recentFailureOffsets.removeAll()
        restart()
    }

    private mutating func recordFailure(_ test: HealthTestKind, at offset: UInt64) -> HealthFailure {
        let value = test == .repetitionCount ? repetitionCount.currentRun : adaptiveProportion.currentCount
        let cutoff = test == .repetitionCount ? repetitionCount.cutoff : adaptiveProportion.cutoff
        let duringStartup = state != .healthy
        recentFailureOffsets.append(offset)
        recentFailureOffsets.removeAll { offset - $0 >= policy.permanentFailureWindow }
        let permanent = recentFailureOffsets.count >= policy.permanentFailureCount
        restart()
        if permanent { state = .failedPermanently }
        let failure = HealthFailure(
            test: test, sampleOffset: offset, value: value, cutoff: cutoff, duringStartup: duringStartup,
            permanent: permanent)
        failureCount += 1
        lastFailure = failure
        return failure
    }

    /// Discards every held sample and starts start-up testing afresh.
    private mutating func restart() {
        heldBits.removeAll(keepingCapacity: true)
        heldSamples = 0
        repetitionCount.reset()
        adaptiveProportion.reset()
        state = .startingUp(remainingSamples: startupSamples)
    }
}
