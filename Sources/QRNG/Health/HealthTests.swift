/// The Repetition Count Test of SP 800-90B §4.4.1: fails when one value repeats `cutoff` times in a row.
///
/// The first sample sets A and B = 1; each later sample equal to A increments B, and B ≥ C is a failure;
/// a different sample becomes the new A with B = 1.
public struct RepetitionCountTest: Sendable, Hashable {
    /// C: the length of a run of identical samples that fails.
    public let cutoff: Int
    @usableFromInline var previous: UInt16 = 0
    @usableFromInline var run = 0

    public init(cutoff: Int) {
        precondition(cutoff >= 2, "a cutoff below 2 would fail on every sample")
        self.cutoff = cutoff
    }

    /// The length of the current run of identical samples.
    public var currentRun: Int { run }

    /// Tests one sample; returns `true` when the test fails at it.
    @inlinable
    public mutating func feed(_ sample: UInt16) -> Bool {
        if run > 0 && sample == previous {
            run += 1
            return run >= cutoff
        }
        previous = sample
        run = 1
        return false
    }

    /// Forgets every sample seen.
    public mutating func reset() { run = 0 }
}

/// The Adaptive Proportion Test of SP 800-90B §4.4.2: fails when a window's first sample value occurs `cutoff`
/// times within the window.
///
/// Windows are consecutive and do not overlap. The first sample of each window is A with B = 1; each of the next
/// W − 1 samples equal to A increments B, and B ≥ C is a failure.
public struct AdaptiveProportionTest: Sendable, Hashable {
    /// W: the window in samples.
    public let window: Int
    /// C: the count of the reference value that fails.
    public let cutoff: Int
    @usableFromInline var reference: UInt16 = 0
    @usableFromInline var count = 0
    @usableFromInline var position = 0

    public init(window: Int, cutoff: Int) {
        precondition(window >= 2 && cutoff >= 2, "the window and the cutoff must be at least 2")
        self.window = window
        self.cutoff = cutoff
    }

    /// How many times the current window's first value has occurred in it so far.
    public var currentCount: Int { count }

    /// Tests one sample; returns `true` when the test fails at it.
    @inlinable
    public mutating func feed(_ sample: UInt16) -> Bool {
        if position == 0 {
            reference = sample
            count = 1
            position = 1
            return false
        }
        position += 1
        if position == window { position = 0 }
        if sample == reference {
            count += 1
            return count >= cutoff
        }
        return false
    }

    /// Forgets every sample seen; the next sample starts a window.
    public mutating func reset() {
        position = 0
        count = 0
    }
}
