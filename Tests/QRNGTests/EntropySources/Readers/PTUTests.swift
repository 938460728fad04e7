import Foundation
import QRNG
import QRNGTestSupport
import Testing

@Suite struct PTUTests {
    static func written(
        _ tags: [TimeTag], type: PTURecordType, resolution: UInt64, sink: ByteSink = MemorySink()
    ) throws -> [UInt8] {
        let writer = try PTUWriter(sink: sink, recordType: type, resolutionPicoseconds: resolution)
        try writer.write(tags)
        try writer.finish()
        return (sink as? MemorySink)?.bytes ?? (sink as! PipeLikeSink).bytes
    }

    static let layouts: [(PTURecordType, UInt64, [UInt16])] = [
        (.picoHarpT2, 4, [0, 1, 2, 3, 4]),
        (.hydraHarpV1T2, 1, [0, 1, 2, 8]),
        (.hydraHarpV2T2, 1, [0, 1, 2, 64]),
        (.multiHarpT2, 5, [0, 1, 17]),
        (.timeHarp260PT2, 25, [0, 1, 2]),
    ]

    @Test(arguments: 0..<5)
    func roundTripAcrossOverflows(layout: Int) throws {
        let (type, resolution, channels) = Self.layouts[layout]
        // Gaps up to ~10 overflow periods, so some records need several overflows and HydraHarp v2 counts them.
        let tags = randomTags(
            count: 3000, channels: channels, maximumGap: 10 * 210_698_240 * resolution / 3000 * 60, unit: resolution,
            seed: UInt64(layout))
        let bytes = try Self.written(tags, type: type, resolution: resolution)
        let reader = try PTUReader(bytes: bytes, pieceSize: 13, options: TimeTagReadOptions(bufferBytes: 100))
        #expect(reader.header.recordType == type)
        #expect(reader.resolutionPicoseconds == Double(resolution))
        #expect(try reader.readAll(chunk: 17) == tags)
        let counts = reader.counts
        #expect(counts.records == reader.header.numberOfRecords)
        #expect(counts.tags == 3000 && counts.overflowRecords > 0 && counts.records == 3000 + counts.overflowRecords)
        if type == .hydraHarpV2T2 { #expect(counts.overflowPeriods > counts.overflowRecords) }
    }

    @Test func aPipeOmitsTheRecordCountAndMarkersAreCounted() throws {
        let sink = PipeLikeSink()
        let writer = try PTUWriter(sink: sink, recordType: .picoHarpT2, resolutionPicoseconds: 4)
        try writer.write([TimeTag(channel: 1, picoseconds: 400)])
        try writer.writeMarker(bits: 2, picoseconds: 800)
        try writer.write([TimeTag(channel: 0, picoseconds: 4 * 300_000_000)])
        try writer.finish()
        let reader = try PTUReader(bytes: sink.bytes)
        #expect(reader.header.numberOfRecords == nil)
        #expect(try reader.readAll() == [
            TimeTag(channel: 1, picoseconds: 400), TimeTag(channel: 0, picoseconds: 1_200_000_000),
        ])
        let counts = reader.counts
        #expect(counts.records == 4 && counts.tags == 2 && counts.markers == 1)
        #expect(counts.overflowRecords == 1 && counts.overflowPeriods == 1)
    }

    @Test func hydraHarpRecordsMapSyncAndInputs() throws {
        var file = PTUBuilder.header(recordType: 0x0101_0204, resolution: 1e-12)
        // sync at 5, input 1 (field 0) at 6, marker 3 at 7, overflow ×2, input 4 (field 3) at 2·2²⁵ + 1.
        file.records([0x8000_0005, 0x0000_0006, 0x8600_0007, 0xFE00_0002, 0x0600_0001])
        let reader = try PTUReader(bytes: file.bytes)
        #expect(try reader.readAll() == [
            TimeTag(channel: 0, picoseconds: 5), TimeTag(channel: 1, picoseconds: 6),
            TimeTag(channel: 4, picoseconds: 2 << 25 + 1),
        ])
        #expect(reader.counts.markers == 1 && reader.counts.overflowPeriods == 2 && reader.counts.overflowRecords == 1)
    }

    @Test func hydraHarpV1OverflowsIgnoreTheCount() throws {
        var file = PTUBuilder.header(recordType: 0x0001_0204, resolution: 1e-12)
        file.records([0xFE00_0005, 0x0000_0001])
        #expect(try PTUReader(bytes: file.bytes).readAll() == [TimeTag(channel: 1, picoseconds: 33_552_001)])
    }

    @Test func headerTagsOfEveryTypeAreSkipped() throws {
        var file = PTUBuilder()
        file.tag("A", .bool(true))
        file.tag("B", .blob([1, 2, 3]))
        file.tag("C", .rawType(0x1100_0008, 7))  // BitSet64
        file.tag("D", .rawType(0x1200_0008, 7))  // Color8
        file.tag("E", .rawType(0x2100_0008, 7))  // TDateTime
        file.tag("F", .rawType(0x2001_FFFF, 16))  // Float8Array of two
        file.bytes += [UInt8](repeating: 0, count: 16)
        file.tag("G", .rawType(0x4002_FFFF, 4))  // WideString
        file.bytes += [65, 0, 0, 0]
        file.tag("TTResultFormat_TTTRRecType", .int(0x0001_0203))
        file.tag("MeasDesc_GlobalResolution", .float(4e-12))
        file.tag("MeasDesc_Resolution", .float(4e-12))
        file.tag("TTResult_NumberOfRecords", .int(1))
        file.tag("Header_End", .empty)
        let size = file.offset
        file.records([0x1000_0003])
        let reader = try PTUReader(bytes: file.bytes, pieceSize: 5)
        #expect(reader.header.tagCount == 12 && reader.header.size == size && reader.header.resolution == 4e-12)
        #expect(try reader.readAll() == [TimeTag(channel: 1, picoseconds: 12)])
    }

    @Test func headerErrorsNameOffsetAndField() {
        var file = PTUBuilder.header(recordType: 0x0001_0203, resolution: 4e-12)
        file.bytes[0] = 0
        expectInputError(offset: 0, field: "magic") { _ = try PTUReader(bytes: file.bytes) }

        file = PTUBuilder()
        file.tag("Weird", .rawType(0x3000_0008, 0))
        expectInputError(offset: 16 + 36, field: "Weird type") { _ = try PTUReader(bytes: file.bytes) }

        for (type, _) in [(0x0001_0303 as Int64, "T3"), (0x0001_0299, "unknown"), (-1, "range")] {
            file = PTUBuilder()
            let offset = file.offset + 40
            file.tag("TTResultFormat_TTTRRecType", .int(type))
            file.tag("MeasDesc_GlobalResolution", .float(4e-12))
            file.tag("Header_End", .empty)
            let bytes = file.bytes
            expectInputError(offset: offset, field: "TTResultFormat_TTTRRecType") { _ = try PTUReader(bytes: bytes) }
        }
        for resolution in [0, -4e-12, .nan, .infinity, 2.0] {
            file = PTUBuilder()
            file.tag("TTResultFormat_TTTRRecType", .int(0x0001_0203))
            let offset = file.offset + 40
            file.tag("MeasDesc_GlobalResolution", .float(resolution))
            file.tag("Header_End", .empty)
            let bytes = file.bytes
            expectInputError(offset: offset, field: "MeasDesc_GlobalResolution") { _ = try PTUReader(bytes: bytes) }
        }
        file = PTUBuilder()
        file.tag("TTResultFormat_TTTRRecType", .float(1))
        expectInputError(offset: 16 + 36, field: "TTResultFormat_TTTRRecType type") {
            _ = try PTUReader(bytes: file.bytes)
        }
        file = PTUBuilder()
        file.tag("TTResultFormat_TTTRRecType", .int(0x0001_0203))
        file.tag("MeasDesc_GlobalResolution", .float(4e-12))
        file.tag("TTResult_NumberOfRecords", .int(-5))
        file.tag("Header_End", .empty)
        expectInputError(offset: 16 + 2 * 48 + 40, field: "TTResult_NumberOfRecords") {
            _ = try PTUReader(bytes: file.bytes)
        }
        file = PTUBuilder()
        file.tag("Header_End", .empty)
        expectInputError(offset: 16, field: "TTResultFormat_TTTRRecType") { _ = try PTUReader(bytes: file.bytes) }
        file = PTUBuilder()
        file.tag("Note", .rawType(0x4001_FFFF, -3))
        expectInputError(offset: 16 + 40, field: "Note") { _ = try PTUReader(bytes: file.bytes) }
        file = PTUBuilder()
        file.tag("Note", .rawType(0x4001_FFFF, 100))
        file.bytes += [1, 2, 3]
        expectInputError(offset: 16 + 48 + 3, field: "Note") { _ = try PTUReader(bytes: file.bytes) }
        file = PTUBuilder()
        file.tag("TTResultFormat_TTTRRecType", .int(0x0001_0203))
        expectInputError(offset: 16 + 48, field: "header tag") { _ = try PTUReader(bytes: file.bytes + [0, 0]) }
        expectInputError(offset: 10, field: "header") { _ = try PTUReader(bytes: Array(file.bytes[0..<10])) }
    }

    @Test func recordErrorsNameOffsetAndFieldAfterDeliveringTheGoodTags() throws {
        let picoHarp: UInt32 = 0x0001_0203
        let hydraHarp: UInt32 = 0x0101_0204
        let cases: [(UInt32, Int64?, [UInt32], [UInt8], Int, String)] = [
            (picoHarp, nil, [0x7000_0010], [], 0, "channel"),  // channel field 7
            (picoHarp, nil, [0x0000_0010], [], 0, "timestamp"),  // 16 ticks after 32
            (hydraHarp, nil, [0xA800_0010], [], 0, "channel"),  // special record, channel 20
            (hydraHarp, nil, [0x0000_0001], [], 0, "timestamp"),
            (picoHarp, nil, [], [1, 2, 3], 0, "record"),
            (picoHarp, 5, [], [], 0, "TTResult_NumberOfRecords"),  // 2 of 5 records
            (picoHarp, 2, [0x1000_0050], [], 0, "TTResult_NumberOfRecords"),  // a record after the count
        ]
        for (type, count, extra, tail, _, field) in cases {
            var file = PTUBuilder.header(recordType: type, resolution: 4e-12, records: count)
            let start = file.offset
            file.records(type == picoHarp ? [0x0000_0010, 0x1000_0020] : [0x0000_0010, 0x0200_0020])
            file.records(extra)
            file.bytes += tail
            let reader = try PTUReader(bytes: file.bytes)
            var tags: [TimeTag] = []
            #expect(try reader.read(into: &tags, maximumCount: 10))
            #expect(tags.count == 2)
            expectInputError(offset: start + 8, field: field) { _ = try reader.read(into: &tags, maximumCount: 10) }
            expectInputError(offset: start + 8, field: field) { _ = try reader.read(into: &tags, maximumCount: 10) }
        }
    }

    @Test func skipCountsEachDefect() throws {
        var file = PTUBuilder.header(recordType: 0x0001_0203, resolution: 4e-12, records: 6)
        file.records([0x0000_0010, 0x7000_0011, 0x0000_0001, 0x1000_0020, 0xF000_0000])
        let reader = try PTUReader(bytes: file.bytes, options: TimeTagReadOptions(errorPolicy: .skip))
        #expect(try reader.readAll().map(\.picoseconds) == [64, 128])
        #expect(reader.skipped.count == 3)  // channel 7, backwards, 5 of 6 records
        #expect(reader.skipped.first?.context.field == "channel")
        #expect(reader.skipped.last?.context.field == "TTResult_NumberOfRecords")
        #expect(reader.counts.overflowRecords == 1 && reader.counts.records == 5)
    }

    /// The real PicoHarp 300 file, and its first 300,000 photons re-encoded as HydraHarp v2 T2 records by
    /// tools/ptu_transcode.py, against the values tools/ptu_summary.py (an independent decoder) computed.
    @Test(arguments: [
        ("picoharp_v30_t2", PTURecordType.picoHarpT2, 4e-12), ("hydraharp_v2_t2_from_picoharp", .hydraHarpV2T2, 1e-12),
    ])
    func realPhotonsMatchTheIndependentDecoder(name: String, recordType: PTURecordType, resolution: Double) throws {
        let expected = try TestVectors.records("ptu/\(name).rsp")[0]
        let path = TestVectors.directory.appendingPathComponent("ptu/\(name).ptu").path
        let reader = try PTUReader(path: path)
        #expect(reader.header.recordType == recordType)
        #expect(reader.header.globalResolution == resolution)
        #expect(reader.header.size == UInt64(try expected.int("header_bytes")))
        #expect(reader.header.numberOfRecords == UInt64(try expected.int("declared_records")))
        var perChannel: [UInt16: Int] = [:]
        var first: UInt64?
        var last: UInt64 = 0
        var tags: [TimeTag] = []
        while try reader.read(into: &tags, maximumCount: 65536) {
            for tag in tags { perChannel[tag.channel, default: 0] += 1 }
            first = first ?? tags.first?.picoseconds
            last = tags.last!.picoseconds
        }
        let counts = reader.counts
        #expect(counts.records == UInt64(try expected.int("records")))
        #expect(counts.tags == UInt64(try expected.int("photons")))
        #expect(counts.overflowRecords == UInt64(try expected.int("overflow_records")))
        #expect(counts.overflowPeriods == UInt64(try expected.int("overflow_periods")))
        #expect(counts.markers == UInt64(try expected.int("markers")))
        #expect(first == UInt64(try expected.int("first_ps")))
        #expect(last == UInt64(try expected.int("last_ps")))
        #expect(perChannel == [0: try expected.int("photons_channel_0"), 1: try expected.int("photons_channel_1")])
        #expect(reader.skipped.count == 0)
    }

    /// The HydraHarp re-encoding holds the PicoHarp file's first 300,000 photons, tag for tag: the two record
    /// layouts, overflow schemes and resolutions decode to the same events.
    @Test func theHydraHarpReEncodingHoldsThePicoHarpPhotons() throws {
        let directory = TestVectors.directory.appendingPathComponent("ptu")
        let picoHarp = try PTUReader(path: directory.appendingPathComponent("picoharp_v30_t2.ptu").path)
        let hydraHarp = try PTUReader(path: directory.appendingPathComponent("hydraharp_v2_t2_from_picoharp.ptu").path)
        var fromPicoHarp: [TimeTag] = []
        var tags: [TimeTag] = []
        while fromPicoHarp.count < 300_000, try picoHarp.read(into: &tags, maximumCount: 300_000 - fromPicoHarp.count) {
            fromPicoHarp += tags
        }
        let fromHydraHarp = try hydraHarp.readAll()
        #expect(fromHydraHarp.count == 300_000)
        #expect(fromHydraHarp == fromPicoHarp)
    }

    @Test func realFileStreamsTheSameInTinyPieces() throws {
        let path = TestVectors.directory.appendingPathComponent("ptu/picoharp_v30_t2.ptu").path
        func checksum(_ reader: PTUReader, chunk: Int) throws -> (Int, UInt64) {
            var tags: [TimeTag] = []
            var (count, sum) = (0, UInt64(0))
            while try reader.read(into: &tags, maximumCount: chunk) {
                count += tags.count
                for tag in tags { sum = sum &* 31 &+ tag.picoseconds &+ UInt64(tag.channel) }
            }
            return (count, sum)
        }
        let big = try checksum(PTUReader(path: path), chunk: 1 << 16)
        let small = try checksum(PTUReader(path: path, options: TimeTagReadOptions(bufferBytes: 64)), chunk: 3)
        #expect(big == small && big.0 == 920_177)
    }
}
