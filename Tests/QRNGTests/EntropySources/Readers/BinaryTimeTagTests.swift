import Foundation
import QRNG
import Testing

@Suite struct BinaryTimeTagTests {
    static let tags = randomTags(count: 5000, channels: [0, 1, 2, 3], maximumGap: 1 << 40, seed: 11)

    static func file(_ tags: [TimeTag], channelCount: UInt16 = 4, count: UInt64? = nil) throws -> [UInt8] {
        let sink = MemorySink()
        let writer = try BinaryTimeTagWriter(
            sink: sink, channelCount: channelCount, resolutionPicoseconds: 4, recordCount: count)
        try writer.write(tags)
        try writer.finish()
        return sink.bytes
    }

    /// The header followed by raw records.
    static func raw(_ records: [(UInt64, UInt16)], header: BinaryTimeTagHeader = .init(channelCount: 4)) -> [UInt8] {
        var bytes = header.encoded
        for (time, channel) in records {
            withUnsafeBytes(of: time.littleEndian) { bytes += $0 }
            withUnsafeBytes(of: channel.littleEndian) { bytes += $0 }
        }
        return bytes
    }

    @Test func roundTripFillsInTheRecordCount() throws {
        let bytes = try Self.file(Self.tags)
        #expect(bytes.count == 32 + 10 * Self.tags.count)
        let reader = try BinaryTimeTagReader(bytes: bytes)
        #expect(reader.header == BinaryTimeTagHeader(channelCount: 4, resolutionPicoseconds: 4, recordCount: 5000))
        #expect(try reader.readAll() == Self.tags)
        #expect(reader.skipped.count == 0)
    }

    @Test func headerLayoutIsAsDocumented() {
        let bytes = BinaryTimeTagHeader(channelCount: 3, resolutionPicoseconds: 0x0102, recordCount: nil).encoded
        #expect(bytes == Array("QRNGTAGS".utf8) + [1, 0, 32, 0, 10, 0, 3, 0, 2, 1, 0, 0, 0, 0, 0, 0]
            + [UInt8](repeating: 0xFF, count: 8))
        #expect(Self.raw([(0x0807_0605_0403_0201, 0x0A09)]).suffix(10) == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    }

    @Test func aPipeKeepsTheCountUnknown() throws {
        let sink = PipeLikeSink()
        let writer = try BinaryTimeTagWriter(sink: sink)
        try writer.write(Self.tags.prefix(10))
        try writer.finish()
        let reader = try BinaryTimeTagReader(bytes: sink.bytes)
        #expect(reader.header.recordCount == nil)
        #expect(try reader.readAll() == Array(Self.tags.prefix(10)))
    }

    @Test(arguments: [(1, 64, 1), (3, 64, 7), (10, 100, 3), (7, 1 << 16, 1000)])
    func tinyPiecesAndBuffersGiveTheSameTags(piece: Int, window: Int, chunk: Int) throws {
        let bytes = try Self.file(Self.tags)
        let reader = try BinaryTimeTagReader(
            bytes: bytes, pieceSize: piece, options: TimeTagReadOptions(bufferBytes: window))
        #expect(try reader.readAll(chunk: chunk) == Self.tags)
    }

    @Test func readsFilesAndNamedPipes() throws {
        let path = temporaryPath("tags.bin")
        defer { unlink(path) }
        let writer = try BinaryTimeTagWriter(sink: try WritableFile(path: path), channelCount: 4)
        try writer.write(Self.tags)
        try writer.finish()
        let reader = try BinaryTimeTagReader(path: path)
        #expect(reader.header.recordCount == 5000)
        #expect(try reader.readAll() == Self.tags)
        #expect(reader.provenance == Provenance(kind: .file, detail: path))

        let fifo = temporaryPath("tags.fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        defer { unlink(fifo) }
        let bytes = try Self.file(Self.tags)
        let feeder = Thread {
            let sink = try! WritableFile(path: fifo)
            for start in stride(from: 0, to: bytes.count, by: 4099) {
                try! sink.write(Array(bytes[start..<min(bytes.count, start + 4099)]))
            }
        }
        feeder.start()
        let piped = try BinaryTimeTagReader(path: fifo, options: TimeTagReadOptions(bufferBytes: 1000))
        #expect(try piped.readAll(chunk: 333) == Self.tags)
    }

    @Test func headerErrorsNameOffsetAndField() {
        var bytes = Self.raw([])
        bytes[3] = UInt8(ascii: "X")
        expectInputError(offset: 0, field: "magic") { _ = try BinaryTimeTagReader(bytes: bytes) }
        bytes = Self.raw([])
        bytes[8] = 2
        expectInputError(offset: 8, field: "version") { _ = try BinaryTimeTagReader(bytes: bytes) }
        bytes = Self.raw([])
        bytes[10] = 40
        expectInputError(offset: 10, field: "header size") { _ = try BinaryTimeTagReader(bytes: bytes) }
        bytes = Self.raw([])
        bytes[12] = 16
        expectInputError(offset: 12, field: "record size") { _ = try BinaryTimeTagReader(bytes: bytes) }
        bytes = Self.raw([], header: BinaryTimeTagHeader(resolutionPicoseconds: 0))
        expectInputError(offset: 16, field: "resolution") { _ = try BinaryTimeTagReader(bytes: bytes) }
        let short = Array(Self.raw([])[0..<20])
        expectInputError(offset: 20, field: "header") { _ = try BinaryTimeTagReader(bytes: short) }
        expectInputError(offset: 0, field: "header") { _ = try BinaryTimeTagReader(bytes: []) }
    }

    @Test func recordErrorsNameOffsetAndFieldAfterDeliveringTheGoodTags() throws {
        let good: [(UInt64, UInt16)] = [(10, 0), (20, 1)]
        let cases: [([UInt8], UInt64, String)] = [
            (Self.raw(good + [(15, 2)]), 52, "timestamp"),
            (Self.raw(good + [(30, 4)]), 60, "channel"),
            (Self.raw(good) + [1, 2, 3, 4], 52, "record"),
            (Self.raw(good, header: BinaryTimeTagHeader(channelCount: 4, recordCount: 3)), 52, "record count"),
        ]
        for (bytes, offset, field) in cases {
            let reader = try BinaryTimeTagReader(bytes: bytes)
            var tags: [TimeTag] = []
            #expect(try reader.read(into: &tags, maximumCount: 100))
            #expect(tags == [TimeTag(channel: 0, picoseconds: 10), TimeTag(channel: 1, picoseconds: 20)])
            expectInputError(offset: offset, field: field) { _ = try reader.read(into: &tags, maximumCount: 100) }
            // The error is sticky.
            expectInputError(offset: offset, field: field) { _ = try reader.read(into: &tags, maximumCount: 100) }
        }
    }

    @Test func aChannelOutsideTheOptionsIsUnknown() throws {
        let reader = try BinaryTimeTagReader(
            bytes: Self.raw([(1, 0), (2, 3)]), options: TimeTagReadOptions(channels: [0, 1]))
        expectInputError(offset: 50, field: "channel") { _ = try reader.readAll() }
    }

    @Test func skipCountsEachDefectAndGoesOn() throws {
        let bytes = Self.raw(
            [(10, 0), (5, 1), (20, 9), (30, 1), (25, 2), (40, 3)],
            header: BinaryTimeTagHeader(channelCount: 4, recordCount: 7)) + [0, 0, 0]
        let reader = try BinaryTimeTagReader(bytes: bytes, options: TimeTagReadOptions(errorPolicy: .skip))
        #expect(try reader.readAll(chunk: 2).map(\.picoseconds) == [10, 30, 40])
        let skipped = reader.skipped
        // Backwards (5), unknown channel (9), backwards (25), the truncated record, and the count (6 of 7).
        #expect(skipped.count == 5)
        #expect(skipped.first?.context.byteOffset == 42 && skipped.first?.context.field == "timestamp")
        #expect(skipped.last?.context.field == "record count")
    }
}
