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

    /// Reads and discards the first `count` samples of `base`.
    ///
    /// - Throws: ``QRNGError/Code/invalidInput`` when `base` holds fewer samples; its own read errors.
    init(_ base: any EntropySource, skipping count: UInt64) throws(QRNGError) {
        self.base = base
        var buffer = SampleBuffer(bitsPerSample: base.bitsPerSample)
        var remaining = count
        while remaining > 0 {
            buffer.removeAll()
            guard try self.base.read(approximately: Int(min(remaining, 1 << 16)), into: &buffer) else {
                throw QRNGError(
                    .invalidInput,
                    "the recording holds \(count - remaining) samples, fewer than the \(count) already consumed")
            }
            let dropping = Int(min(UInt64(buffer.count), remaining))
            buffer.removeFirst(dropping)
            remaining -= UInt64(dropping)
        }
        self.carry = buffer
    }

    mutating func read(approximately count: Int, into buffer: inout SampleBuffer) throws(QRNGError) -> Bool {
        guard carry.isEmpty else {
            buffer.append(contentsOf: carry)
            carry.removeAll()
            return true
        }
        return try base.read(approximately: count, into: &buffer)
    }
}
