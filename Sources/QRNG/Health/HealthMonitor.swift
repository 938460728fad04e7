/// SP 800-90B's continuous health tests with start-up testing, on-demand testing, the photon monitors and output
/// gating: the gate between the source and the extractor.
///
/// ## Why output is held back
/// A test notices a failure only after it has seen the failing samples: the Repetition Count Test on the C-th
/// repeat, the Adaptive Proportion Test somewhere in a window, a photon monitor at the end of its window. A fault
/// that begins late in one window may only be caught by the next. So a sample that passed is not released at
/// once. It is held until
/// - the continuous tests have looked ``holdbackSamples`` = max(2W, C) samples past it (SP 800-90B §4.4), and
/// - every photon monitor has completed the window after the one it fell in: a monitor clears the samples before
///   the start of its most recently completed window (``PhotonMonitorSettings``), so the holdback always covers
///   the monitors' averaging span, whatever its length in samples.
///
/// When a test fails or a monitor alarms, every sample still held is discarded with the failing ones, so no
/// sample from a failing stretch, and none produced during the window in which a monitor alarmed, is released.
///
/// ## Start-up, on-demand tests and failures
/// After creation, after every failure, after an operator reset and on request (``requestOnDemandTest()``), the
/// first ``startupSamples`` samples (at least 1024, SP 800-90B §4.3) are tested and discarded; only samples after
/// a passed start-up can be released. A failure re-runs start-up (an intermittent failure) unless the
/// ``FailurePolicy`` makes it permanent; a monitor alarm counts as a failure under the same policy. A monitor
/// alarm restarts at the end of the buffer being processed, so the rest of that buffer is discarded too.
///
/// ## Speed
/// Binary samples are tested 64 at a time (the run carried across words, the APT count a population count),
/// wider samples in blocks whose equal neighbours and reference matches are counted in loops the optimiser
/// vectorises. Only a word or block in which a test may fail is re-tested one sample at a time, so failures,
/// their offsets and the released bits are exactly those of testing every sample in turn.
public struct HealthMonitor: Sendable {
    /// The tests' parameters.
    public let cutoffs: HealthCutoffs
    /// The number of samples start-up testing discards.
    public let startupSamples: Int
    /// How failures are treated.
    public let policy: FailurePolicy
    /// How far the continuous tests look past a sample before it is released.
    public let holdbackSamples: Int
    /// The photon monitors' settings, or `nil` when none run.
    public var monitorSettings: PhotonMonitorSettings? { monitors?.settings }
    /// Whether a monitor's alarm gates output or is only reported.
    public let monitorAction: MonitorAction

    /// Where the monitor stands.
    public internal(set) var state: HealthState
    /// Samples tested so far; also the stream offset of the next sample.
    public private(set) var samplesTested: UInt64 = 0
    /// Samples released to the extractor so far.
    public private(set) var samplesReleased: UInt64 = 0
    /// Failures (and monitor alarms) so far.
    public private(set) var failureCount = 0
    /// Monitor alarms reported without gating, under ``MonitorAction/warn``.
    public private(set) var monitorWarnings = 0
    /// What the end of input left unreleased, once ``finish(releasingInto:)`` has run.
    public private(set) var endOfInput: EndOfInput?
    /// The most recent failure.
    public private(set) var lastFailure: HealthFailure?
    /// On-demand tests requested so far.
    public private(set) var onDemandTests = 0
    /// Pulses the source has reported so far through ``process(_:counters:releasingInto:)``.
    public private(set) var pulsesSeen: UInt64 = 0

    var repetitionCount: RepetitionCountTest
    var adaptiveProportion: AdaptiveProportionTest
    private var monitors: PhotonMonitors?
    /// Samples that passed and wait for the tests and monitors to look far enough past them: one-bit samples
    /// packed in `heldBits`, wider ones in `heldValues`, each from index `heldFront` on.
    private var heldBits = BitBuffer()
    private var heldValues: [UInt16] = []
    private var heldFront = 0
    private var heldSamples = 0
    private var recentFailureOffsets: [UInt64] = []
    var ledger = SampleLedger()
    /// Tests every sample in turn instead of whole words and blocks; the tests compare the two paths with it.
    var testsSampleBySample = false

    /// Creates a monitor.
    ///
    /// - Parameters:
    ///   - cutoffs: The tests' parameters.
    ///   - startupSamples: Samples to test and discard at start-up; at least 1024.
    ///   - policy: When failures become permanent.
    ///   - monitors: The photon monitors to run as well; none by default.
    ///   - monitorAction: Whether a monitor's alarm gates output (the default) or is only reported.
    public init(
        cutoffs: HealthCutoffs, startupSamples: Int = 1024, policy: FailurePolicy = FailurePolicy(),
        monitors: PhotonMonitorSettings? = nil, monitorAction: MonitorAction = .gate
    ) throws(QRNGError) {
        self.monitorAction = monitorAction
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
        if let monitors {
            self.monitors = try PhotonMonitors(
                settings: monitors, bitsPerSample: cutoffs.bitsPerSample, claimedMinEntropy: cutoffs.minEntropy)
        }
    }

    /// Samples held back, waiting to be released.
    public var samplesHeld: Int { heldSamples }

    /// Samples tested but neither released nor held: start-up samples and samples discarded on failures.
    public var samplesDiscarded: UInt64 { samplesTested - samplesReleased - UInt64(heldSamples) }

    /// Where every tested sample went, and why those not released were discarded.
    public var sampleAccount: SampleAccount {
        ledger.account(
            tested: samplesTested, released: samplesReleased, held: heldSamples,
            failedPermanently: state == .failedPermanently)
    }

    /// Tests the next samples of the stream and appends to `released` the bits of every sample now safe to use.
    ///
    /// - Returns: The failures among these samples, in order; empty when all passed. After a failure the caller
    ///   must also drop whatever it built from earlier released bits but has not output yet (a partial
    ///   extractor block), so that output resumes from a clean state.
    public mutating func process(_ samples: SampleBuffer, releasingInto released: inout BitBuffer) -> [HealthFailure] {
        process(samples, counters: nil, releasingInto: &released)
    }

    /// Tests the next samples and the detector counters behind them, and appends to `released` the bits of every
    /// sample now safe to use.
    ///
    /// - Parameters:
    ///   - samples: The next samples of the stream.
    ///   - counters: What the source counted while producing `samples` (the change in its ``SourceCounters``),
    ///     for the counter monitors; `nil` when the source counts nothing.
    ///   - released: Where the bits of released samples are appended.
    /// - Returns: The failures and monitor alarms, in order of detection.
    public mutating func process(
        _ samples: SampleBuffer, counters: SourceCounters?, releasingInto released: inout BitBuffer
    ) -> [HealthFailure] {
        precondition(samples.bitsPerSample == cutoffs.bitsPerSample, "sample width differs from the tests'")
        var failures: [HealthFailure] = []
        let count = samples.count
        let first = samplesTested
        if let counters { pulsesSeen += counters.pulses }
        guard state != .failedPermanently else {
            samplesTested += UInt64(count)
            return failures
        }
        // Samples [keptFrom, count) passed and follow a passed start-up; samples from `segmentStart` on follow the
        // last failure in this buffer, which is what the monitors see.
        var keptFrom: Int? = state == .healthy ? 0 : nil
        var segmentStart = 0
        switch samples.storage {
        case .binary(let bits):
            bits.words.withUnsafeBufferPointer { words in
                testBinary(words, count: count, keptFrom: &keptFrom, segmentStart: &segmentStart, failures: &failures)
            }
        case .wide(let values):
            values.withUnsafeBufferPointer { values in
                testWide(values, keptFrom: &keptFrom, segmentStart: &segmentStart, failures: &failures)
            }
        }
        samplesTested += UInt64(count)
        guard state != .failedPermanently else { return failures }

        if var running = monitors {
            monitors = nil  // no second reference while the monitors run
            switch samples.storage {
            case .binary(let bits):
                running.feed(bits: bits, range: segmentStart..<count, offset: first + UInt64(segmentStart))
            case .wide(let values):
                values.withUnsafeBufferPointer { values in
                    running.feed(
                        values: UnsafeBufferPointer(rebasing: values[segmentStart...]),
                        offset: first + UInt64(segmentStart))
                }
            }
            if let counters {
                running.feed(
                    counters: counters, firstSample: first + UInt64(segmentStart), endSample: samplesTested,
                    totalPulses: pulsesSeen)
            }
            let alarms = running.takeAlarms()
            monitors = running
            if !alarms.isEmpty {
                let recorded = recordAlarms(alarms, restartAt: samplesTested)
                failures.append(contentsOf: recorded)
                if recorded.contains(where: \.gating) {
                    keptFrom = nil
                    if recorded.contains(where: \.permanent) { return failures }
                }
            }
        }
        release(samples, keptFrom: keptFrom, into: &released)
        return failures
    }

    /// Runs the start-up tests again on request (SP 800-90B §4.3, on-demand testing): discards every held sample
    /// and tests ``startupSamples`` fresh samples before output resumes. Output stays gated meanwhile.
    ///
    /// The caller must also drop any partial extractor block, as after a failure (``Pipeline/requestOnDemandTest()``
    /// does both). Nothing happens after a permanent failure, which only ``operatorReset()`` clears.
    public mutating func requestOnDemandTest() {
        guard state != .failedPermanently else { return }
        onDemandTests += 1
        restart(at: samplesTested, resettingMonitors: false, reason: .onDemand)
    }

    /// Clears a permanent failure, as an operator does after repairing the source; start-up testing runs again
    /// and the monitors forget what they learned.
    public mutating func operatorReset() {
        recentFailureOffsets.removeAll()
        monitors?.forgetReferences()
        let reason: DiscardReason = state == .failedPermanently ? .afterPermanentFailure : .startup
        restart(at: samplesTested, resettingMonitors: true, reason: reason)
    }

    // MARK: - Releasing

    /// Appends the samples [keptFrom, count) of `samples` to the held ones and releases, from the front, every held
    /// sample the tests and monitors have looked far enough past. Released samples go straight from `samples`
    /// when they can, so that most bits are copied once.
    private mutating func release(_ samples: SampleBuffer, keptFrom: Int?, into released: inout BitBuffer) {
        let count = samples.count
        let newKept = keptFrom.map { count - $0 } ?? 0
        let total = heldSamples + newKept
        guard total > 0 else { return }
        let firstHeld = samplesTested - UInt64(total)
        var limit = samplesTested >= UInt64(holdbackSamples) ? samplesTested - UInt64(holdbackSamples) : 0
        if let monitors { limit = min(limit, monitors.clearedBefore) }
        let releasing = limit > firstHeld ? min(total, Int(limit - firstHeld)) : 0
        let fromHeld = min(releasing, heldSamples)
        let fromNew = releasing - fromHeld
        let width = cutoffs.bitsPerSample
        releaseHeld(fromHeld, into: &released)
        if let keptFrom {
            let split = keptFrom + fromNew
            switch samples.storage {
            case .binary(let bits):
                if fromNew > 0 { released.append(contentsOf: bits, range: keptFrom..<split) }
                if split < count { heldBits.append(contentsOf: bits, range: split..<count) }
            case .wide(let values):
                values.withUnsafeBufferPointer { values in
                    if fromNew > 0 {
                        released.append(samples: UnsafeBufferPointer(rebasing: values[keptFrom..<split]), width: width)
                    }
                    if split < count { heldValues.append(contentsOf: values[split..<count]) }
                }
            }
            heldSamples += count - split
        }
        samplesReleased += UInt64(fromNew)
        ledger.release(fromNew)
        compactHeld()
    }

    /// Releases the first `count` held samples.
    private mutating func releaseHeld(_ count: Int, into released: inout BitBuffer) {
        guard count > 0 else { return }
        if cutoffs.bitsPerSample == 1 {
            released.append(contentsOf: heldBits, range: heldFront..<heldFront + count)
        } else {
            heldValues.withUnsafeBufferPointer { values in
                released.append(
                    samples: UnsafeBufferPointer(rebasing: values[heldFront..<heldFront + count]),
                    width: cutoffs.bitsPerSample)
            }
        }
        heldFront += count
        heldSamples -= count
        samplesReleased += UInt64(count)
        ledger.release(count)
    }

    /// Drops released samples from the front of the held storage once they are the larger part of it.
    private mutating func compactHeld() {
        guard heldFront > 0 else { return }
        if heldSamples == 0 {
            discardHeld()
        } else if heldFront >= 4096 && heldFront >= heldSamples {
            if cutoffs.bitsPerSample == 1 {
                heldBits.removeFirst(heldFront)
            } else {
                heldValues.withUnsafeMutableBufferPointer { values in
                    let released = UnsafeMutableBufferPointer(rebasing: values[..<heldFront])
                    secureZero(UnsafeMutableRawBufferPointer(released))
                }
                heldValues.removeFirst(heldFront)
            }
            heldFront = 0
        }
    }

    private mutating func discardHeld() {
        heldBits.removeAll(keepingCapacity: true)
        heldValues.withUnsafeMutableBytes { secureZero($0) }
        heldValues.removeAll(keepingCapacity: true)
        heldFront = 0
        heldSamples = 0
    }

    // MARK: - End of input

    /// What the end of input left unreleased, and why.
    public struct EndOfInput: Sendable, Hashable {
        /// Samples of the Adaptive Proportion Test's unfinished window: SP 800-90B §4.4.2 tests whole windows of
        /// W samples, and these never completed one.
        public var unfinishedWindowSamples = 0
        /// Samples after the last window a photon monitor could evaluate: an unfinished window of fewer than 1024
        /// samples, a first histogram window with no reference yet, the last bits short of a 64-bit word.
        public var unevaluatedMonitorSamples = 0
        /// Samples discarded because a monitor's last window alarmed.
        public var alarmedSamples = 0
        /// Samples of a start-up test that the input ended before it completed.
        public var unfinishedStartupSamples = 0

        /// All the samples the end of input dropped.
        public var droppedSamples: Int {
            unfinishedWindowSamples + unevaluatedMonitorSamples + alarmedSamples + unfinishedStartupSamples
        }
    }

    /// Releases, at the end of input, every held sample that has passed every test it can still get.
    ///
    /// While the stream goes on, a sample waits until the tests have looked past it (see the type's discussion);
    /// at its end there is nothing more to look at. What has passed the continuous tests over whole windows, and
    /// every photon monitor over a window it could evaluate, is released; the monitors evaluate their unfinished
    /// windows first. Only the Adaptive Proportion Test's unfinished window and samples no monitor could evaluate
    /// are dropped, and ``endOfInput`` says how many. Calling it again releases nothing more.
    ///
    /// - Returns: The alarms of the monitors' last windows; a gating alarm discards every held sample.
    public mutating func finish(releasingInto released: inout BitBuffer) -> [HealthFailure] {
        guard endOfInput == nil else { return [] }
        var summary = EndOfInput()
        defer { endOfInput = summary }
        if case .startingUp = state {
            // A start-up test the input ended in the middle of: its samples never passed it.
            summary.unfinishedStartupSamples = Int(samplesTested - ledger.accountedEnd)
            ledger.discard(upTo: samplesTested, as: .endOfInput)
        }
        guard state == .healthy, heldSamples > 0 else { return [] }
        let windowStart = samplesTested - UInt64(adaptiveProportion.windowPosition)
        var limit = windowStart
        var failures: [HealthFailure] = []
        if var running = monitors {
            monitors = nil
            let cleared = running.finish(endSample: samplesTested, totalPulses: pulsesSeen)
            let alarms = running.takeAlarms()
            monitors = running
            if !alarms.isEmpty {
                let held = heldSamples
                failures = recordAlarms(alarms, restartAt: samplesTested)
                if failures.contains(where: \.gating) {
                    summary.alarmedSamples = held
                    return failures
                }
            }
            limit = min(limit, cleared)
        }
        let firstHeld = samplesTested - UInt64(heldSamples)
        let releasing = limit > firstHeld ? min(heldSamples, Int(limit - firstHeld)) : 0
        releaseHeld(releasing, into: &released)
        summary.unfinishedWindowSamples = min(heldSamples, Int(samplesTested - windowStart))
        summary.unevaluatedMonitorSamples = heldSamples - summary.unfinishedWindowSamples
        ledger.discard(upTo: ledger.accountedEnd + UInt64(heldSamples), as: .endOfInput)
        discardHeld()
        return failures
    }

    /// Records the monitors' alarms: under ``MonitorAction/gate`` one failure under the policy (each alarm
    /// reported), restarting at `restartAt`; under ``MonitorAction/warn`` reports that gate nothing.
    private mutating func recordAlarms(_ alarms: [MonitorAlarm], restartAt: UInt64) -> [HealthFailure] {
        guard monitorAction == .gate else {
            monitorWarnings += alarms.count
            return alarms.map { alarm in
                HealthFailure(
                    test: alarm.monitor, sampleOffset: alarm.sampleOffset, pulseOffset: alarm.pulseOffset,
                    value: alarm.value, threshold: alarm.threshold, detail: alarm.detail,
                    duringStartup: state != .healthy, permanent: false, gating: false)
            }
        }
        // A monitor's alarm covers its whole window: everything held and kept so far goes. Alarms of several
        // monitors at once are one failure under the policy, each reported.
        let first = alarms[0]
        let failure = recordFailure(
            first.monitor, at: first.sampleOffset, value: first.value, threshold: first.threshold,
            pulseOffset: first.pulseOffset, detail: first.detail, restartAt: restartAt)
        var failures = [failure]
        for other in alarms.dropFirst() {
            let companion = HealthFailure(
                test: other.monitor, sampleOffset: other.sampleOffset, pulseOffset: other.pulseOffset,
                value: other.value, threshold: other.threshold, detail: other.detail,
                duringStartup: failure.duringStartup, permanent: failure.permanent)
            failures.append(companion)
            failureCount += 1
            lastFailure = companion
        }
        return failures
    }

    // MARK: - Failures

    private mutating func recordFailure(
        _ test: HealthTestKind, at offset: UInt64, value: Double, threshold: Double, pulseOffset: UInt64? = nil,
        detail: String? = nil, restartAt: UInt64
    ) -> HealthFailure {
        let duringStartup = state != .healthy
        recentFailureOffsets.append(offset)
        // A monitor's alarm names the end of its window, so offsets need not arrive in order.
        recentFailureOffsets.removeAll { $0 < offset && offset - $0 >= policy.permanentFailureWindow }
        let permanent = recentFailureOffsets.count >= policy.permanentFailureCount
        restart(at: restartAt, resettingMonitors: true, reason: .failure(test))
        if permanent { state = .failedPermanently }
        let failure = HealthFailure(
            test: test, sampleOffset: offset, pulseOffset: pulseOffset, value: value, threshold: threshold,
            detail: detail, duringStartup: duringStartup, permanent: permanent)
        failureCount += 1
        lastFailure = failure
        return failure
    }

    /// Records a failure of a continuous test at the sample `index` of the buffer that starts at `first`.
    mutating func recordTestFailure(_ rctFailed: Bool, at offset: UInt64) -> HealthFailure {
        let test: HealthTestKind = rctFailed ? .repetitionCount : .adaptiveProportion
        let value = rctFailed ? repetitionCount.currentRun : adaptiveProportion.currentCount
        let cutoff = rctFailed ? repetitionCount.cutoff : adaptiveProportion.cutoff
        return recordFailure(
            test, at: offset, value: Double(value), threshold: Double(cutoff), restartAt: offset + 1)
    }

    /// Discards every held sample, and every sample before stream offset `offset` not yet released, for `reason`,
    /// and starts start-up testing afresh with the sample at `offset`.
    private mutating func restart(at offset: UInt64, resettingMonitors: Bool, reason: DiscardReason) {
        ledger.discard(upTo: offset, as: reason)
        discardHeld()
        repetitionCount.reset()
        adaptiveProportion.reset()
        state = .startingUp(remainingSamples: startupSamples)
        if resettingMonitors { monitors?.restart(at: offset) }
    }

}
