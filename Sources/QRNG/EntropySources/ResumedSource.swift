/// A recorded source read from a position on: the first samples, which an earlier run consumed, are read and
/// zeroed, never handed out, so that stream offsets stay those of the recording.
///
/// Recordings are deterministic: the same file under the same configuration yields the same samples, so skipping
/// a count of samples resumes exactly where the earlier run's consumers stopped (see ``ConsumptionJournal``).
struct ResumedSource: EntropySource {
    private var base: any EntropySource
    /// Samples read past the skipped ones by the last read of the skip, handed out first.
    private var carry: SampleBuffer

    var provenance: Provenance { base.provenance }
    var bitsPerSample: Int { base.bitsPerSample }
    var claimedMinEntropy: Double { base.claimedMinEntropy }
    /// The base's counters, less the samples read past the skip and not yet handed out: so that the sample
    /// count is the stream offset of the next sample handed out.
    var counters: SourceCounters {
        var counters = base.counters
        counters.samples -= UInt64(carry.count)
        return counters
    }

    /// Whether the recording ended within the skipped samples: then nothing is left to hand out.
    private var endedInSkip = false

    /// Reads and discards the first `count` samples of `base`.
    ///
    /// A recording that ends within them is not an error: a journal records ahead of what it handed out (and a
    /// recording that shrank is refused by its size before this), so the source is simply used up.
    ///
    /// - Throws: The base's own read errors.
    init(_ base: any EntropySource, skipping count: UInt64) throws(QRNGError) {
        self.base = base
        var buffer = SampleBuffer(bitsPerSample: base.bitsPerSample)
        var remaining = count
        while remaining > 0 {
            buffer.removeAll()
            guard try self.base.read(approximately: Int(min(remaining, 1 << 16)), into: &buffer) else {
                endedInSkip = true
                buffer.removeAll()
                break
            }
            let dropping = Int(min(UInt64(buffer.count), remaining))
            buffer.removeFirst(dropping)
            remaining -= UInt64(dropping)
        }
        self.carry = buffer
    }

    mutating func read(approximately count: Int, into buffer: inout SampleBuffer) throws(QRNGError) -> Bool {
        if endedInSkip { return false }
        guard carry.isEmpty else {
            buffer.append(contentsOf: carry)
            carry.removeAll()
            return true
        }
        return try base.read(approximately: count, into: &buffer)
    }
}
