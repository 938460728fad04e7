import QRNG
import Synchronization
import Testing

@Suite struct PackedClickTests {
    static func outcomes(_ count: Int, seed: UInt64) -> [ClickOutcome] {
        var generator = Xoshiro256StarStar(seed: seed)
        // Mostly empty pulses, as from a real source, so that the reader's skip of empty words is exercised.
        return (0..<count).map { _ in
            let draw = generator.next() % 16
            return draw < 13 ? .none : ClickOutcome(rawValue: UInt8(draw - 12))!
        }
    }

    static func readAll(_ reader: some ClickSource, pulses: Int) throws -> [ClickOutcome] {
        var source = reader
        var buffer = ClickBuffer()
        var result: [ClickOutcome] = []
        while try source.nextPulses(pulses, into: &buffer) {
            #expect(buffer.firstPulse == UInt64(result.count))
            result += buffer.outcomes
        }
        return result
    }

    @Test func layoutIsMostSignificantPairFirst() throws {
        let sink = MemorySink()
        let writer = try PackedClickWriter(sink: sink, pulsePeriodPicoseconds: 12_500)
        try writer.write([.d0, .d1, .both, .none, .d1])
        try writer.finish()
        #expect(sink.bytes == Array("QRNGCLIK".utf8) + [1, 0, 32, 0, 2, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0]
            + [0xD4, 0x30, 0, 0, 0, 0, 0, 0] + [0x6C, 0x80])
    }

    @Test(arguments: [(1, 1, 1), (3, 7, 64), (1000, 100, 1 << 16), (1 << 20, .max, 1 << 16)])
    func roundTripInAnyPieces(request: Int, piece: Int, window: Int) throws {
        let outcomes = Self.outcomes(10_001, seed: 3)
        let sink = MemorySink()
        let writer = try PackedClickWriter(sink: sink)
        try writer.write(outcomes.prefix(5000))
        // The rest through the sparse form.
        let rest = Array(outcomes[5000...])
        try writer.write(ReplayedClicksBuffer.make(rest))
        try writer.finish()
        let reader = try PackedClickReader(bytes: sink.bytes, pieceSize: piece, bufferBytes: window)
        #expect(reader.header.pulseCount == 10_001)
        #expect(try Self.readAll(reader, pulses: request) == outcomes)
    }

    @Test func anUnknownCountReadsWholeBytes() throws {
        let sink = PipeLikeSink()
        let writer = try PackedClickWriter(sink: sink)
        try writer.write([.d1, .d0, .both, .d0, .d1])
        try writer.finish()
        let reader = try PackedClickReader(bytes: sink.bytes)
        #expect(reader.header.pulseCount == nil)
        #expect(try Self.readAll(reader, pulses: 3) == [.d1, .d0, .both, .d0, .d1, .none, .none, .none])
    }

    @Test func errorsNameOffsetAndField() throws {
        let good = PackedClickHeader(pulseCount: 6).encoded
        var bytes = good
        bytes[0] = 0
        expectInputError(offset: 0, field: "magic") { _ = try PackedClickReader(bytes: bytes) }
        bytes = good
        bytes[8] = 9
        expectInputError(offset: 8, field: "version") { _ = try PackedClickReader(bytes: bytes) }
        bytes = good
        bytes[10] = 8
        expectInputError(offset: 10, field: "header size") { _ = try PackedClickReader(bytes: bytes) }
        bytes = good
        bytes[12] = 1
        expectInputError(offset: 12, field: "bits per pulse") { _ = try PackedClickReader(bytes: bytes) }
        bytes = good
        bytes[15] = 1
        expectInputError(offset: 14, field: "reserved") { _ = try PackedClickReader(bytes: bytes) }
        expectInputError(offset: 31, field: "header") { _ = try PackedClickReader(bytes: Array(good.prefix(31))) }

        let cases: [([UInt8], UInt64, String)] = [
            ([0x40], 33, "pulse count"),  // 4 of 6 pulses
            ([0x40, 0x41], 33, "padding"),  // the last byte's unused pairs are not zero
            ([0x40, 0x40, 0x00], 34, "pulse count"),  // data after the last pulse
        ]
        for (body, offset, field) in cases {
            let reader = try PackedClickReader(bytes: good + body)
            expectInputError(offset: offset, field: field) { _ = try Self.readAll(reader, pulses: 100) }
        }
        let skipping = try PackedClickReader(bytes: good + [0x40, 0x41, 0x00], errorPolicy: .skip)
        #expect(try Self.readAll(skipping, pulses: 100) == [.d0, .none, .none, .none, .d0, .none])
        #expect(skipping.skipped.count == 2)
    }
}

/// Builds the sparse ``ClickBuffer`` of a list of outcomes.
enum ReplayedClicksBuffer {
    static func make(_ outcomes: [ClickOutcome]) -> ClickBuffer {
        var buffer = ClickBuffer(pulseCount: outcomes.count)
        for (index, outcome) in outcomes.enumerated() where outcome != .none {
            buffer.events.append(ClickEvent(pulseOffset: UInt32(index), outcome: outcome))
        }
        return buffer
    }
}

@Suite struct TimeTagClickTests {
    static func source(_ tags: [TimeTag], _ rule: TimeTagClickSource.Rule) throws -> TimeTagClickSource {
        let sink = MemorySink()
        let writer = try BinaryTimeTagWriter(sink: sink)
        try writer.write(tags)
        try writer.finish()
        return try TimeTagClickSource(reader: BinaryTimeTagReader(bytes: sink.bytes, pieceSize: 23), rule: rule)
    }

    static func tags(_ list: [(UInt16, UInt64)]) -> [TimeTag] {
        list.map { TimeTag(channel: $0.0, picoseconds: $0.1) }
    }

    /// Sync on 0, D0 on 1, D1 on 2; pulses every 1000 ps with one sync missing (3000); delay 100, window 800.
    static let pulsedTags = tags([
        (1, 50),  // before the first window: unassigned
        (0, 0), (1, 150),  // pulse 0: D0
        (0, 1000), (2, 1200), (1, 1300), (1, 1350),  // pulse 1: both
        (2, 1950),  // after pulse 1's window closed at 1900: unassigned
        (0, 2000), (1, 2100), (0, 2050), (2, 2160),  // pulse 2 ends when pulse 3 opens at 2150: D0; pulse 3: D1
        (7, 2500),  // another channel: ignored
        (2, 3500),  // in the gap where a sync is missing: unassigned
        (0, 4000),  // pulse 4: none
        (0, 5000), (2, 5899),  // pulse 5: D1, just inside its window
    ].sorted { $0.1 < $1.1 })

    @Test(arguments: [1, 2, 3, 100])
    func pulsedClicksFollowTheWindowRule(request: Int) throws {
        let rule = PulsedClickRule(syncChannel: 0, d0Channel: 1, d1Channel: 2, delay: 100, window: 800)
        var source = try Self.source(Self.pulsedTags, .pulsed(rule))
        var buffer = ClickBuffer()
        var outcomes: [ClickOutcome] = []
        while try source.nextPulses(request, into: &buffer) { outcomes += buffer.outcomes }
        #expect(outcomes == [.d0, .both, .d0, .d1, .none, .d1])
        let counts = source.counts
        #expect(counts.syncs == 6 && counts.detections == 10 && counts.unassignedDetections == 3)
        #expect(counts.ignoredTags == 1 && counts.tags == 17)
    }

    @Test func aBeamSplitterSourceCountsThePulses() throws {
        let rule = PulsedClickRule(syncChannel: 0, d0Channel: 1, d1Channel: 2, delay: 100, window: 800)
        var source = try BeamSplitterSource(
            clicks: try Self.source(Self.pulsedTags, .pulsed(rule)), claimedMinEntropy: 1)
        var samples = SampleBuffer(bitsPerSample: 1)
        while try source.read(approximately: 2, into: &samples) {}
        #expect((0..<samples.count).map { samples[$0] } == [0, 0, 1, 1])
        #expect(source.counters.pulses == 6 && source.counters.doubleClicks == 1 && source.counters.emptyPulses == 1)
    }

    @Test(arguments: [1, 4, 1000])
    func continuousClicksPairWithinTheWindow(request: Int) throws {
        // Window 100: origin at the first detection (1000).
        let tags = Self.tags([
            (1, 1000), (2, 1050),  // coincidence: bin 0 both
            (1, 1250),  // bin 2: D0
            (5, 1300),  // ignored
            (1, 1320), (2, 1330),  // bin 3: D0 then D1 within 100: both
            (2, 1500), (2, 1550),  // bin 5: D1 twice: D1
            (1, 1700), (2, 1800),  // 100 apart: not a coincidence; bins 7 (D0) and 8 (D1)
            (2, 2000),  // bin 10: D1
        ])
        var source = try Self.source(tags, .continuous(CoincidenceClickRule(d0Channel: 1, d1Channel: 2, window: 100)))
        var buffer = ClickBuffer()
        var outcomes: [ClickOutcome] = []
        while try source.nextPulses(request, into: &buffer) { outcomes += buffer.outcomes }
        #expect(outcomes == [.both, .none, .d0, .both, .none, .d1, .none, .d0, .d1, .none, .d1])
        #expect(source.counts.ignoredTags == 1 && source.counts.detections == 10)
    }

    @Test func rulesAreValidated() {
        #expect(throws: QRNGError.self) {
            try Self.source([], .pulsed(PulsedClickRule(syncChannel: 0, d0Channel: 0, d1Channel: 2, window: 5)))
        }
        #expect(throws: QRNGError.self) {
            try Self.source([], .continuous(CoincidenceClickRule(d0Channel: 1, d1Channel: 2, window: 0)))
        }
    }
}

/// A reader from elsewhere that breaks the promise of non-decreasing timestamps.
final class BackwardsReader: TimeTagReader {
    private let done = Mutex(false)
    var provenance: Provenance { Provenance(kind: .file, detail: "backwards") }
    var path: String { "backwards" }
    var resolutionPicoseconds: Double? { nil }
    var skipped: SkippedRecords { SkippedRecords() }

    func read(into buffer: UnsafeMutableBufferPointer<TimeTag>) throws(QRNGError) -> Int {
        guard !done.withLock({ $0 }), buffer.count >= 3 else { return 0 }
        done.withLock { $0 = true }
        buffer[0] = TimeTag(channel: 1, picoseconds: 10)
        buffer[1] = TimeTag(channel: 2, picoseconds: 20)
        buffer[2] = TimeTag(channel: 1, picoseconds: 5)
        return 3
    }
}

@Suite struct ForeignReaderTests {
    @Test func sourcesRefuseTimestampsGoingBackwards() throws {
        var clicks = try TimeTagClickSource(
            reader: BackwardsReader(), rule: .continuous(CoincidenceClickRule(d0Channel: 1, d1Channel: 2, window: 4)))
        var buffer = ClickBuffer()
        expectInputError(offset: 0, field: "timestamp", file: "backwards", requireOffset: false) {
            _ = try clicks.nextPulses(100, into: &buffer)
        }
        var times = try ArrivalTimeSource(
            reader: BackwardsReader(), mode: .interval(detectors: [1, 2]), binWidth: 1, bitsPerSample: 4,
            minEntropy: .claimed(1))
        var samples = SampleBuffer(bitsPerSample: 4)
        expectInputError(offset: 0, field: "timestamp", file: "backwards", requireOffset: false) {
            _ = try times.read(approximately: 100, into: &samples)
        }
    }
}
