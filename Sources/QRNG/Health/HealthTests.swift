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

    /// Tests `count` one-bit samples, the first `count` bits of `word`, at once.
    ///
    /// - Returns: `false` when none of them fails, with the state advanced past them; `true` when one of them
    ///   may fail, with the state undefined: the caller then re-tests them one at a time from a saved copy to
    ///   find the exact failing sample.
    @inlinable
    public mutating func mayFail(binaryWord word: UInt64, count: Int) -> Bool {
        guard count > 0 else { return false }
        let top = UInt64.max << UInt64(64 - count)  // the `count` valid bits
        if run == 0 {
            previous = UInt16(truncatingIfNeeded: word >> 63)
        }
        // Ones where a bit equals the run's value: the leading ones continue the run.
        let equal = (previous == 1 ? word : ~word) | ~top
        let lead = min((~equal).leadingZeroBitCount, count)
        if lead == count {
            run += count
            return run >= cutoff
        }
        if run + lead >= cutoff { return true }
        if cutoff <= 64 {
            let rest = (UInt64.max >> UInt64(lead)) & top
            if Self.hasRun(word & rest, cutoff) || Self.hasRun(~word & rest, cutoff) { return true }
        }
        let last = (word >> UInt64(64 - count)) & 1
        // The samples right-aligned, ones where equal to the last; zeros above them end the count.
        let validLow = count == 64 ? UInt64.max : (1 << UInt64(count)) - 1
        let trailing = ((last == 1 ? word : ~word) >> UInt64(64 - count)) & validLow
        previous = UInt16(last)
        run = (~trailing).trailingZeroBitCount
        return false
    }

    /// Whether `bits` holds `length` consecutive ones (1 ≤ length ≤ 64), by repeated doubling of the runs seen.
    @inlinable
    static func hasRun(_ bits: UInt64, _ length: Int) -> Bool {
        var runs = bits
        var have = 1
        while have < length && runs != 0 {
            let step = min(have, length &- have)
            runs &= runs << UInt64(truncatingIfNeeded: step)
            have &+= step
        }
        return runs != 0
    }
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

    /// How many samples of the current window have been tested; 0 when the next sample starts a window.
    public var windowPosition: Int { position }

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

    /// Tests `bitCount` one-bit samples, the first `bitCount` bits of `word`, at once.
    ///
    /// - Returns: `false` when none of them fails, with the state advanced past them; `true` when one of them
    ///   may fail, with the state undefined (re-test them one at a time from a saved copy).
    @inlinable
    public mutating func mayFail(binaryWord word: UInt64, count bitCount: Int) -> Bool {
        var bits = word
        var remaining = bitCount
        while remaining > 0 {
            if position == 0 {
                reference = UInt16(truncatingIfNeeded: bits >> 63)
                count = 1
                position = 1
                bits <<= 1
                remaining -= 1
                continue
            }
            let taking = min(remaining, window - position)
            let chunk = bits & ~(UInt64.max >> UInt64(taking))
            let ones = chunk.nonzeroBitCount
            count += reference == 1 ? ones : taking - ones
            if count >= cutoff { return true }
            position += taking
            if position == window { position = 0 }
            bits = taking == 64 ? 0 : bits << UInt64(taking)
            remaining -= taking
        }
        return false
    }
}
