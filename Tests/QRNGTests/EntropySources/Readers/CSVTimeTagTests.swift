import QRNG
import Testing

@Suite struct CSVTimeTagTests {
    static func reader(_ text: String, policy: ErrorPolicy = .stop, piece: Int = .max) throws -> CSVTimeTagReader {
        try CSVTimeTagReader(bytes: Array(text.utf8), pieceSize: piece, options: TimeTagReadOptions(errorPolicy: policy))
    }

    @Test func roundTrip() throws {
        let tags = randomTags(count: 3000, channels: [0, 1, 65535], maximumGap: .max / 4000, seed: 5)
        let sink = MemorySink()
        let writer = try CSVTimeTagWriter(sink: sink)
        try writer.write(tags)
        try writer.finish()
        #expect(sink.bytes.starts(with: Array("channel,timestamp_ps\n".utf8)))
        #expect(try CSVTimeTagReader(bytes: sink.bytes).readAll() == tags)
        #expect(try CSVTimeTagReader(bytes: sink.bytes, pieceSize: 7).readAll(chunk: 5) == tags)
    }

    @Test func acceptsCommentsBlanksSpacesCRLFAndAMissingLastLineEnd() throws {
        let text = "# recorded by hand\n\n Channel , TIMESTAMP_PS \r\n1,5\n  # indented comment\n"
            + "\t2 ,\t7 \r\n\n3,18446744073709551615"
        for piece in [1, 2, 3, .max] {
            #expect(try Self.reader(text, piece: piece).readAll(chunk: 2) == [
                TimeTag(channel: 1, picoseconds: 5), TimeTag(channel: 2, picoseconds: 7),
                TimeTag(channel: 3, picoseconds: .max),
            ])
        }
        #expect(try Self.reader("").readAll().isEmpty)
    }

    @Test func errorsNameTheFieldsOffset() throws {
        let cases: [(String, UInt64, String)] = [
            ("1,5\nx,7\n", 4, "channel"),
            ("1,5\n65536,7\n", 4, "channel"),
            ("1,5\n-1,7\n", 4, "channel"),
            ("1,5\n2, 1.5\n", 6, "timestamp_ps"),
            ("1,5\n2,18446744073709551616\n", 6, "timestamp_ps"),
            ("1,5\n2,7,9\n", 6, "line"),
            ("1,5\n27\n", 4, "line"),
            ("1,5\n2,4\n", 6, "timestamp_ps"),
            ("foo,bar\n", 0, "header"),
            ("1,5\nchannel,timestamp_ps\n", 4, "channel"),
            ("1,5\n" + String(repeating: "1", count: 1100) + ",3\n", 4, "line"),
        ]
        for (text, offset, field) in cases {
            let reader = try Self.reader(text)
            expectInputError(offset: offset, field: field) { _ = try reader.readAll() }
        }
        let reader = try CSVTimeTagReader(bytes: Array("1,5\n2,5\n".utf8), options: TimeTagReadOptions(channels: [1]))
        expectInputError(offset: 4, field: "channel") { _ = try reader.readAll() }
    }

    @Test func stopDeliversTheGoodLinesFirst() throws {
        let reader = try Self.reader("1,5\n2,6\nbad\n3,7\n")
        var tags: [TimeTag] = []
        #expect(try reader.read(into: &tags, maximumCount: 10))
        #expect(tags.map(\.picoseconds) == [5, 6])
        expectInputError(offset: 8, field: "line") { _ = try reader.read(into: &tags, maximumCount: 10) }
    }

    @Test func skipCountsBadLinesAndOverlongOnes() throws {
        let long = String(repeating: "9", count: 3000)
        let reader = try Self.reader("1,5\nbad\n\(long)\n2,3\n3,9\n4,x\n", policy: .skip, piece: 100)
        #expect(try reader.readAll().map(\.picoseconds) == [5, 9])
        #expect(reader.skipped.count == 4)
        #expect(reader.skipped.first?.context.byteOffset == 4)
        #expect(reader.skipped.last?.context.field == "timestamp_ps")
    }
}
