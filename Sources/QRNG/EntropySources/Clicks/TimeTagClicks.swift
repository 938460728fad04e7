/// How detections on two detector channels become per-pulse outcomes of a pulsed source with a sync channel.
///
/// Each tag on the sync channel, at time *s*ᵢ, is one pulse. Pulse *i*'s window opens at *o*ᵢ = *s*ᵢ + `delay`
/// and closes at the earlier of *o*ᵢ + `window` and the next pulse's opening *o*ᵢ₊₁. A detection at time *t* on D0
/// or D1 belongs to the pulse whose window holds it (*o*ᵢ ≤ *t* < close); a pulse's outcome is which detectors
/// had at least one detection in it (two detections on one detector are still that detector's single click).
/// Detections outside every window are not assigned and are counted: before the first sync, after a window
/// closed (jitter, afterpulses, dark counts between pulses), and in a gap where sync pulses are missing, which
/// therefore never lengthens a pulse. Missing syncs are not invented: the pulses are exactly the sync tags.
/// A detection at exactly a window's opening counts only if the sync tag comes before it in the stream.
public struct PulsedClickRule: Sendable, Hashable {
    /// The channel of the sync (laser trigger) tags.
    public var syncChannel: UInt16
    /// Detector D0's channel.
    public var d0Channel: UInt16
    /// Detector D1's channel.
    public var d1Channel: UInt16
    /// Picoseconds from a sync tag to the opening of its pulse's window (the cable and emission delay). A detector
    /// whose signals arrive before the sync's can be described with `delay` increased by one period.
    public var delay: UInt64
    /// The length of each pulse's window in picoseconds; at most the sync period is meaningful.
    public var window: UInt64

    public init(syncChannel: UInt16, d0Channel: UInt16, d1Channel: UInt16, delay: UInt64 = 0, window: UInt64) {
        self.syncChannel = syncChannel
        self.d0Channel = d0Channel
        self.d1Channel = d1Channel
        self.delay = delay
        self.window = window
    }

    func validate() throws(QRNGError) {
        guard window > 0 else { throw .invalidArgument("window", "must be at least 1 ps") }
        guard syncChannel != d0Channel && syncChannel != d1Channel && d0Channel != d1Channel else {
            throw .invalidArgument("channels", "sync, D0 and D1 must be three different channels")
        }
    }
}

/// How detections on two detector channels of a continuous-wave (unpulsed) source become per-pulse outcomes.
///
/// Time is cut into bins of `window` picoseconds starting at the first detection on D0 or D1; each bin is one
/// "pulse". A D0 and a D1 detection less than `window` apart are a coincidence, one 'both' event in the bin of the
/// earlier of the two; every other detection is a single click in its own bin. A bin's outcome is the union of
/// the events that start in it, so two detections on one detector in one bin are one single click.
public struct CoincidenceClickRule: Sendable, Hashable {
    /// Detector D0's channel.
    public var d0Channel: UInt16
    /// Detector D1's channel.
    public var d1Channel: UInt16
    /// The coincidence window and bin width, in picoseconds.
    public var window: UInt64

    public init(d0Channel: UInt16, d1Channel: UInt16, window: UInt64) {
        self.d0Channel = d0Channel
        self.d1Channel = d1Channel
        self.window = window
    }

    func validate() throws(QRNGError) {
        guard window > 0 else { throw .invalidArgument("window", "must be at least 1 ps") }
        guard d0Channel != d1Channel else { throw .invalidArgument("channels", "D0 and D1 must differ") }
    }
}

/// Counts of what a click source built on time tags has seen.
public struct TimeTagClickCounts: Sendable, Hashable {
    /// Tags read.
    public var tags: UInt64 = 0
    /// Sync tags (pulsed sources only).
    public var syncs: UInt64 = 0
    /// Detections on D0 and D1.
    public var detections: UInt64 = 0
    /// Detections outside every pulse window (pulsed sources only).
    public var unassignedDetections: UInt64 = 0
    /// Tags on channels that are neither sync, D0 nor D1.
    public var ignoredTags: UInt64 = 0

    public init() {}
}

/// Per-pulse outcomes derived from a time-tag stream: a pulsed source with a sync channel (``PulsedClickRule``) or
/// a continuous-wave source binned at its coincidence window (``CoincidenceClickRule``).
///
/// It reads tags in bulk from its reader and keeps only the pulses that may still receive a detection, so its
/// memory is constant. Copies share the reader's position: use one value per stream.
public struct TimeTagClickSource: ClickSource {
    /// The rule turning tags into pulses.
    public enum Rule: Sendable, Hashable {
        case pulsed(PulsedClickRule)
        case continuous(CoincidenceClickRule)
    }

    public let rule: Rule
    /// The time tags.
    public let reader: any TimeTagReader

    public var skipped: SkippedRecords { reader.skipped }
    public var provenance: Provenance { reader.provenance }
    /// What has been seen so far.
    public private(set) var counts = TimeTagClickCounts()

    private var tags: [TimeTag] = []
    private var tagIndex = 0
    private var tagsEnded = false
    private var pulsed = PulsedState()
    private var continuous = ContinuousState()
    /// Pulses handed out so far.
    private var emitted: UInt64 = 0
    /// The latest timestamp read.
    private var lastTime: UInt64 = 0
    private static let tagChunk = 8192
    /// Pending pulses at most: a delay longer than this many sync periods is refused.
    private static let maximumPending = 1 << 16

    /// Creates a click source over `reader`.
    public init(reader: any TimeTagReader, rule: Rule) throws(QRNGError) {
        switch rule {
        case .pulsed(let pulsed): try pulsed.validate()
        case .continuous(let continuous): try continuous.validate()
        }
        self.reader = reader
        self.rule = rule
    }

    public mutating func nextPulses(_ pulses: Int, into buffer: inout ClickBuffer) throws(QRNGError) -> Bool {
        precondition(pulses >= 0 && pulses <= Int(UInt32.max), "a click buffer covers at most 2³² pulses")
        buffer.firstPulse = emitted
        buffer.pulseCount = 0
        buffer.events.removeAll(keepingCapacity: true)
        var output = Output(capacity: pulses)
        swap(&output.events, &buffer.events)
        defer {
            swap(&output.events, &buffer.events)
            buffer.pulseCount = output.count
            emitted += UInt64(output.count)
        }
        while !output.isFull {
            if tagIndex == tags.count && !tagsEnded {
                tagIndex = 0
                do {
                    tagsEnded = try !reader.read(into: &tags, maximumCount: Self.tagChunk)
                } catch {
                    // Pulses made before the reader failed are delivered; the reader throws again next time.
                    if output.count == 0 { throw error }
                    break
                }
                counts.tags += UInt64(tags.count)
                try checkOrder()
                continue
            }
            let progressed: Bool
            switch rule {
            case .pulsed(let rule): progressed = try stepPulsed(rule, &output)
            case .continuous(let rule): progressed = stepContinuous(rule, &output)
            }
            if !progressed { break }
        }
        return output.count > 0
    }

    /// Checks that the tags just read do not go back in time. qrng's readers guarantee it; a reader from
    /// elsewhere might not, and the rules' arithmetic relies on it.
    private mutating func checkOrder() throws(QRNGError) {
        for tag in tags {
            guard tag.picoseconds >= lastTime else {
                throw QRNGError(
                    .invalidInput, "timestamp \(tag.picoseconds) ps goes backwards (previous \(lastTime) ps)",
                    context: .init(file: reader.path, field: "timestamp"))
            }
            lastTime = tag.picoseconds
        }
    }

    /// Processes the next tag (or the end of the stream); `false` when there is nothing left to do.
    private mutating func stepPulsed(_ rule: PulsedClickRule, _ output: inout Output) throws(QRNGError) -> Bool {
        guard tagIndex < tags.count else {
            // The end: every pending pulse is final.
            pulsed.finalize(before: .max, into: &output)
            return !output.isFull && !pulsed.isEmpty
        }
        let tag = tags[tagIndex]
        pulsed.finalize(before: tag.picoseconds, window: rule.window, into: &output)
        if output.isFull { return false }
        if tag.channel == rule.syncChannel {
            guard pulsed.count < Self.maximumPending else {
                throw .invalidArgument(
                    "delay", "more than \(Self.maximumPending) sync pulses fall within one delay; shorten the delay")
            }
            let (opening, overflow) = tag.picoseconds.addingReportingOverflow(rule.delay)
            pulsed.append(opening: overflow ? .max : opening)
            counts.syncs += 1
        } else if tag.channel == rule.d0Channel || tag.channel == rule.d1Channel {
            counts.detections += 1
            let bit: UInt8 = tag.channel == rule.d0Channel ? 1 : 2
            if !pulsed.mark(at: tag.picoseconds, bit) { counts.unassignedDetections += 1 }
        } else {
            counts.ignoredTags += 1
        }
        tagIndex += 1
        return true
    }

    private mutating func stepContinuous(_ rule: CoincidenceClickRule, _ output: inout Output) -> Bool {
        continuous.emit(into: &output)
        if output.isFull { return false }
        guard tagIndex < tags.count else {
            // The end, in steps so that each closed bin is handed out before the next one closes.
            switch continuous.endStage {
            case 0: continuous.flushPending(window: rule.window)
            case 1: continuous.closeCurrent()
            default: return false
            }
            continuous.endStage += 1
            return true
        }
        let tag = tags[tagIndex]
        if tag.channel == rule.d0Channel || tag.channel == rule.d1Channel {
            // A detection that would close the current bin needs the closed slot free; it was emptied above.
            counts.detections += 1
            continuous.detect(at: tag.picoseconds, bit: tag.channel == rule.d0Channel ? 1 : 2, window: rule.window)
        } else {
            counts.ignoredTags += 1
        }
        tagIndex += 1
        return true
    }
}

/// The pulses being handed out by one call.
private struct Output {
    let capacity: Int
    var count = 0
    var events: [ClickEvent] = []

    init(capacity: Int) { self.capacity = capacity }

    var isFull: Bool { count >= capacity }

    /// Appends `empty` pulses without a click (as many as fit); returns how many.
    mutating func appendEmpty(_ empty: UInt64) -> UInt64 {
        let taken = min(empty, UInt64(capacity - count))
        count += Int(taken)
        return taken
    }

    mutating func append(_ outcome: UInt8) {
        if outcome != 0 {
            events.append(ClickEvent(pulseOffset: UInt32(count), outcome: ClickOutcome(rawValue: outcome)!))
        }
        count += 1
    }
}

/// Pulses of a pulsed source that may still receive detections: their window openings and outcomes so far.
private struct PulsedState {
    private var openings: [UInt64] = []
    private var outcomes: [UInt8] = []
    private var head = 0

    var count: Int { openings.count - head }
    var isEmpty: Bool { count == 0 }

    mutating func append(opening: UInt64) {
        if head > 4096 && head * 2 > openings.count {
            openings.removeFirst(head)
            outcomes.removeFirst(head)
            head = 0
        }
        openings.append(opening)
        outcomes.append(0)
    }

    /// Hands out, in order, every pending pulse whose window closes at or before `time`.
    mutating func finalize(before time: UInt64, window: UInt64 = 0, into output: inout Output) {
        while head < openings.count && !output.isFull {
            if time != .max {
                let (end, overflow) = openings[head].addingReportingOverflow(window)
                let close = min(overflow ? .max : end, head + 1 < openings.count ? openings[head + 1] : .max)
                if close > time { return }
            }
            output.append(outcomes[head])
            head += 1
        }
    }

    /// Marks a detection at `time` in the pulse whose window holds it; `false` when none does.
    ///
    /// Called after ``finalize(before:window:into:)`` with the same time, so the only candidate is the first
    /// pending pulse: any pulse whose window closed is gone, and later ones open after `time`.
    mutating func mark(at time: UInt64, _ bit: UInt8) -> Bool {
        guard head < openings.count, openings[head] <= time else { return false }
        outcomes[head] |= bit
        return true
    }
}

/// The bins of a continuous-wave source: the detection waiting for a possible coincidence partner, the bin
/// being filled, and one closed bin waiting to be handed out.
private struct ContinuousState {
    var origin: UInt64?
    /// A detection that may still pair with one on the other detector.
    var pending: (time: UInt64, bit: UInt8)?
    /// The bin being filled and its outcome.
    var current: (bin: UInt64, outcome: UInt8)?
    /// A closed bin not yet handed out; bins from `nextBin` up to it are empty.
    var closed: (bin: UInt64, outcome: UInt8)?
    /// The next bin to hand out.
    var nextBin: UInt64 = 0
    /// At the end of the stream: 0 before the pending detection is marked, 1 before the last bin is closed, 2 done.
    var endStage = 0

    mutating func emit(into output: inout Output) {
        guard let closed else { return }
        nextBin += output.appendEmpty(closed.bin - nextBin)
        guard nextBin == closed.bin, !output.isFull else { return }
        output.append(closed.outcome)
        nextBin += 1
        self.closed = nil
    }

    mutating func detect(at time: UInt64, bit: UInt8, window: UInt64) {
        if origin == nil { origin = time }
        if let pending {
            if pending.bit != bit && time - pending.time < window {
                mark(pending.time, 3, window: window)
                self.pending = nil
                return
            }
            mark(pending.time, pending.bit, window: window)
        }
        pending = (time, bit)
    }

    mutating func flushPending(window: UInt64) {
        if let pending { mark(pending.time, pending.bit, window: window) }
        pending = nil
    }

    mutating func closeCurrent() {
        precondition(closed == nil, "a closed bin was not handed out")
        closed = current
        current = nil
    }

    /// Adds `bits` to the bin of `time`; bins are marked in increasing order.
    private mutating func mark(_ time: UInt64, _ bits: UInt8, window: UInt64) {
        let bin = (time - origin!) / window
        if let current, current.bin == bin {
            self.current = (bin, current.outcome | bits)
            return
        }
        if current != nil { closeCurrent() }
        current = (bin, bits)
    }
}
