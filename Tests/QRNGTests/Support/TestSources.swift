import QRNG

/// A source that replays samples computed from their stream offset, for tests that must know where every
/// released sample came from.
struct ScriptedSource: EntropySource {
    let bitsPerSample: Int
    let claimedMinEntropy: Double
    let length: UInt64
    let sample: @Sendable (UInt64) -> UInt16
    private(set) var counters = SourceCounters()
    var provenance: Provenance { Provenance(kind: .simulated, detail: "test script") }

    init(bitsPerSample: Int, claimedMinEntropy: Double, length: UInt64 = .max,
         sample: @escaping @Sendable (UInt64) -> UInt16) {
        self.bitsPerSample = bitsPerSample
        self.claimedMinEntropy = claimedMinEntropy
        self.length = length
        self.sample = sample
    }

    mutating func read(approximately count: Int, into buffer: inout SampleBuffer) throws(QRNGError) -> Bool {
        let start = counters.samples
        guard start < length else { return false }
        let end = min(length, start + UInt64(count))
        if bitsPerSample == 1 {
            var bits = BitBuffer(minimumCapacity: Int(end - start))
            for offset in start..<end { bits.append(sample(offset) == 1) }
            buffer = SampleBuffer(bits: bits)
        } else {
            buffer = SampleBuffer(values: (start..<end).map(sample), bitsPerSample: bitsPerSample)
        }
        counters.samples = end
        return true
    }
}

/// An extractor that outputs its input unchanged, a whole block at a time, so tests can see exactly which
/// released bits reached the output and that no block spans a health failure.
struct BlockPassThroughExtractor: Extractor {
    let blockBits: Int
    private var pending = BitBuffer()

    init(blockBits: Int) { self.blockBits = blockBits }

    var name: String { "pass-through(\(blockBits))" }

    mutating func extract(_ input: BitBuffer, into output: inout BitBuffer) {
        pending.append(contentsOf: input)
        let whole = pending.count / blockBits * blockBits
        output.append(contentsOf: pending, range: 0..<whole)
        pending.removeFirst(whole)
    }

    var bufferedInputBits: Int { pending.count }

    mutating func reset() { pending.removeAll() }
}

/// A click source that replays a fixed list of outcomes.
struct ReplayedClicks: ClickSource {
    let outcomes: [ClickOutcome]
    private var position = 0
    var provenance: Provenance { Provenance(kind: .file, detail: "replayed clicks") }

    init(_ outcomes: [ClickOutcome]) { self.outcomes = outcomes }

    mutating func nextPulses(_ pulses: Int, into buffer: inout ClickBuffer) throws(QRNGError) -> Bool {
        guard position < outcomes.count else { return false }
        let end = min(outcomes.count, position + pulses)
        buffer = ClickBuffer(firstPulse: UInt64(position), pulseCount: end - position, events: [])
        for index in position..<end where outcomes[index] != .none {
            buffer.events.append(ClickEvent(pulseOffset: UInt32(index - position), outcome: outcomes[index]))
        }
        position = end
        return true
    }
}
