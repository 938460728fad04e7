/// Turns per-pulse detector outcomes into bits: a pulse where only D0 clicked gives 0, only D1 gives 1.
///
/// Pulses with no click or with both detectors clicking carry no bit; they are dropped and counted in
/// ``counters``, since the photon monitors need them (a rise in double clicks means multi-photon light).
public struct BeamSplitterSource<Clicks: ClickSource>: EntropySource {
    /// The stream of detector outcomes.
    public private(set) var clicks: Clicks
    public let claimedMinEntropy: Double
    public private(set) var counters = SourceCounters()
    public var provenance: Provenance { clicks.provenance }
    public var bitsPerSample: Int { 1 }

    private var clickBuffer = ClickBuffer()
    static var maximumPulsesPerRead: Int { 1 << 22 }
    /// Single clicks per pulse seen so far, to size each read; starts at 1, so that the first read gives no more
    /// samples than asked (a recording's consumption is journaled per read).
    private var singleClickFraction = 1.0

    /// Creates a beam-splitter source.
    ///
    /// - Parameters:
    ///   - clicks: The detector outcomes.
    ///   - claimedMinEntropy: The min-entropy per bit that the health tests and the extractor may assume, in
    ///     (0, 1].
    public init(clicks: Clicks, claimedMinEntropy: Double) throws(QRNGError) {
        guard claimedMinEntropy > 0 && claimedMinEntropy <= 1 else {
            throw .invalidArgument(
                "min-entropy", "must be in (0, 1] bits per sample for binary samples, got \(claimedMinEntropy)")
        }
        self.clicks = clicks
        self.claimedMinEntropy = claimedMinEntropy
    }

    public mutating func read(approximately count: Int, into buffer: inout SampleBuffer) throws(QRNGError) -> Bool {
        precondition(buffer.bitsPerSample == 1, "a beam-splitter source gives one-bit samples")
        let wanted = Double(max(count, 64)) / singleClickFraction
        // At most 2²² pulses a read: when almost no pulse gives a single click (a dark count in every pulse, a
        // dead source), reads stay short and the monitors see the pulse counters grow instead of waiting on one
        // read of a billion pulses.
        let pulses = Int(min(wanted.rounded(.up), Double(Self.maximumPulsesPerRead)))
        guard try clicks.nextPulses(pulses, into: &clickBuffer) else { return false }

        var bits: BitBuffer
        if case .binary(let existing) = buffer.storage { bits = existing } else { bits = BitBuffer() }
        buffer = SampleBuffer(bitsPerSample: 1)  // drop the reference so appending does not copy
        let bitsBefore = bits.count

        var word: UInt64 = 0
        var filled = 0
        var singles1: UInt64 = 0
        var doubles: UInt64 = 0
        clickBuffer.events.withUnsafeBufferPointer { events in
            for event in events {
                // Branch-free, since D0 and D1 are equally likely: the outcome's two bits are (D1, D0), so a
                // single click is exactly when they differ, and then the D1 bit is the sample.
                let raw = UInt64(event.outcome.rawValue)
                let isSingle = (raw ^ (raw >> 1)) & 1
                let bit = (raw >> 1) & isSingle
                word |= bit << UInt64(63 - filled)
                filled += Int(isSingle)
                singles1 += bit
                doubles += (raw >> 1) & raw & 1
                if filled == 64 {
                    bits.appendLeftAligned(word, width: 64)
                    word = 0
                    filled = 0
                }
            }
        }
        let singles = UInt64(bits.count - bitsBefore + filled)
        let singles0 = singles - singles1
        if filled > 0 { bits.appendLeftAligned(word, width: filled) }
        buffer = SampleBuffer(bits: bits)

        let pulseCount = UInt64(clickBuffer.pulseCount)
        counters.pulses += pulseCount
        counters.singleClicksD0 += singles0
        counters.singleClicksD1 += singles1
        counters.doubleClicks += doubles
        counters.emptyPulses += pulseCount - UInt64(clickBuffer.events.count)
        counters.samples += singles0 + singles1
        counters.skipped = clicks.skipped
        if counters.pulses > 0 {
            singleClickFraction = max(1e-6, Double(counters.singleClicksD0 + counters.singleClicksD1)
                / Double(counters.pulses))
        }
        return true
    }
}
