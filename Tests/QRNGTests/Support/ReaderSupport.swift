import Foundation
import QRNG
import Testing

/// Runs `body` and checks it throws an invalid-input error at exactly `offset` (unless `requireOffset` is false),
/// in `field`, naming `file`.
func expectInputError(
    offset: UInt64, field: String, file: String = "memory", requireOffset: Bool = true,
    sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void
) {
    do {
        try body()
        Issue.record("expected an invalid-input error at byte \(offset), field \(field); none was thrown",
            sourceLocation: sourceLocation)
    } catch let error as QRNGError {
        #expect(error.code == .invalidInput, "\(error)", sourceLocation: sourceLocation)
        if requireOffset {
            #expect(error.context.byteOffset == offset, "offset: got \(error)", sourceLocation: sourceLocation)
        }
        #expect(error.context.field == field, "field: got \(error)", sourceLocation: sourceLocation)
        #expect(error.context.file == file, "file: got \(error)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected a QRNGError, got \(error)", sourceLocation: sourceLocation)
    }
}

/// A sink that cannot seek, like a pipe.
final class PipeLikeSink: ByteSink {
    private(set) var bytes: [UInt8] = []
    var isSeekable: Bool { false }
    func write(_ bytes: UnsafeRawBufferPointer) throws(QRNGError) { self.bytes.append(contentsOf: bytes) }
    func overwrite(at offset: UInt64, with bytes: UnsafeRawBufferPointer) throws(QRNGError) {
        Issue.record("overwrite on a sink that cannot seek")
    }
}

/// Random nondecreasing tags on `channels`, with gaps up to `maximumGap` ps in multiples of `unit`.
func randomTags(
    count: Int, channels: [UInt16], maximumGap: UInt64, unit: UInt64 = 1, seed: UInt64
) -> [TimeTag] {
    var generator = Xoshiro256StarStar(seed: seed)
    var time: UInt64 = 0
    return (0..<count).map { _ in
        time += (generator.next() % (maximumGap / unit + 1)) * unit
        return TimeTag(channel: channels[Int(generator.next() % UInt64(channels.count))], picoseconds: time)
    }
}

/// A fresh path in a temporary folder, removed by the caller.
func temporaryPath(_ name: String) -> String {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("qrng-tests-\(getpid())")
    try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return folder.appendingPathComponent("\(UUID().uuidString)-\(name)").path
}

/// Builds PTU files byte by byte, for headers and records the writer would never produce.
struct PTUBuilder {
    enum Value {
        case empty, bool(Bool), int(Int64), float(Double), string(String), blob([UInt8]), rawType(UInt32, Int64)
    }

    var bytes: [UInt8] = Array("PQTTTR".utf8) + [0, 0] + Array("1.0.00".utf8) + [0, 0]

    /// The offset the next tag will start at.
    var offset: UInt64 { UInt64(bytes.count) }

    mutating func tag(_ ident: String, _ value: Value, index: Int32 = -1) {
        var name = Array(ident.utf8)
        name += [UInt8](repeating: 0, count: 32 - name.count)
        bytes += name
        append(index)
        let (type, raw, data): (UInt32, Int64, [UInt8]) =
            switch value {
            case .empty: (0xFFFF_0008, 0, [])
            case .bool(let flag): (0x0000_0008, flag ? 1 : 0, [])
            case .int(let number): (0x1000_0008, number, [])
            case .float(let number): (0x2000_0008, Int64(bitPattern: number.bitPattern), [])
            case .string(let text): (0x4001_FFFF, Int64(text.utf8.count + 1), Array(text.utf8) + [0])
            case .blob(let blob): (0xFFFF_FFFF, Int64(blob.count), blob)
            case .rawType(let type, let raw): (type, raw, [])
            }
        append(type)
        append(raw)
        bytes += data
    }

    /// A complete header for `recordType`, with the tags a reader needs.
    static func header(recordType: UInt32, resolution: Double, records: Int64? = nil) -> PTUBuilder {
        var builder = PTUBuilder()
        builder.tag("File_Comment", .string("made by hand"))
        builder.tag("TTResultFormat_TTTRRecType", .int(Int64(recordType)))
        builder.tag("MeasDesc_GlobalResolution", .float(resolution))
        if let records { builder.tag("TTResult_NumberOfRecords", .int(records)) }
        builder.tag("Header_End", .empty)
        return builder
    }

    mutating func records(_ words: [UInt32]) {
        for word in words { append(word) }
    }

    private mutating func append<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }
}
