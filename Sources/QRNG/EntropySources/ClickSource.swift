/// What the two detectors behind a beam splitter saw in one excitation pulse.
public enum ClickOutcome: UInt8, Sendable, Hashable, CaseIterable {
    /// Neither detector clicked.
    case none = 0
    /// Only detector D0 clicked.
    case d0 = 1
    /// Only detector D1 clicked.
    case d1 = 2
    /// Both detectors clicked: a coincidence, from a multi-photon pulse or a dark count.
    case both = 3
}

/// One pulse in which at least one detector clicked.
public struct ClickEvent: Sendable, Hashable {
    /// The pulse's index, counted from the first pulse of its ``ClickBuffer``.
    public var pulseOffset: UInt32
    /// What the detectors saw; never ``ClickOutcome/none``.
    public var outcome: ClickOutcome

    public init(pulseOffset: UInt32, outcome: ClickOutcome) {
        self.pulseOffset = pulseOffset
        self.outcome = outcome
    }
}

/// The outcomes of a run of consecutive pulses, stored sparsely: most pulses see no click, so only the pulses
/// with a click are listed and every pulse not listed had outcome ``ClickOutcome/none``.
public struct ClickBuffer: Sendable, Equatable {
    /// The index of the first pulse covered, counted from the start of the stream.
    public var firstPulse: UInt64
    /// The number of pulses covered.
    public var pulseCount: Int
    /// The pulses with a click, in increasing order of ``ClickEvent/pulseOffset``.
    public var events: [ClickEvent]

    public init(firstPulse: UInt64 = 0, pulseCount: Int = 0, events: [ClickEvent] = []) {
        self.firstPulse = firstPulse
        self.pulseCount = pulseCount
        self.events = events
    }

    /// The outcome of every pulse, one per element, the empty ones included.
    public var outcomes: [ClickOutcome] {
        var result = [ClickOutcome](repeating: .none, count: pulseCount)
        for event in events { result[Int(event.pulseOffset)] = event.outcome }
        return result
    }
}

/// A stream of per-pulse detector outcomes: what a beam-splitter QRNG's detectors report, pulse by pulse.
public protocol ClickSource: Sendable {
    /// Where the clicks come from.
    var provenance: Provenance { get }

    /// Replaces the contents of `buffer` with the outcomes of the next `pulses` pulses.
    ///
    /// - Returns: `false` when the stream has ended and no pulse was read.
    mutating func nextPulses(_ pulses: Int, into buffer: inout ClickBuffer) throws(QRNGError) -> Bool

    /// Bad records skipped so far under ``ErrorPolicy/skip``; none for a source that cannot skip.
    var skipped: SkippedRecords { get }
}

extension ClickSource {
    public var skipped: SkippedRecords { SkippedRecords() }
}
