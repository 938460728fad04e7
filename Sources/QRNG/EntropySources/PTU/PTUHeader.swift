/// A TTTR record format of PicoQuant's PTU files (the value of the `TTResultFormat_TTTRRecType` tag).
///
/// The value's bytes are, from the most significant: a sub-ID (the record format's version), the record format
/// (1), the T-mode (2 for T2, 3 for T3) and the hardware (3 PicoHarp, 4 HydraHarp, 5 TimeHarp 260 N,
/// 6 TimeHarp 260 P, 7 MultiHarp and PicoHarp 330). qrng reads and writes the T2 formats.
public struct PTURecordType: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    /// How the 32 bits of a T2 record are laid out and how its overflows count.
    public enum T2Layout: Sendable, Hashable {
        /// PicoHarp: 4-bit channel, 28-bit time; an overflow adds 210,698,240 ticks.
        case picoHarp
        /// HydraHarp version 1: special bit, 6-bit channel, 25-bit time; an overflow adds 33,552,000 ticks.
        case hydraHarpV1
        /// HydraHarp version 2, TimeHarp 260, MultiHarp: as version 1, but an overflow record carries a count of
        /// 2²⁵-tick periods in its time field (0 meaning 1).
        case hydraHarpV2
    }

    public let rawValue: UInt32

    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// PicoHarp 300, T2.
    public static let picoHarpT2 = PTURecordType(rawValue: 0x0001_0203)
    /// HydraHarp 400 with record format version 1, T2.
    public static let hydraHarpV1T2 = PTURecordType(rawValue: 0x0001_0204)
    /// HydraHarp 400 with record format version 2, T2.
    public static let hydraHarpV2T2 = PTURecordType(rawValue: 0x0101_0204)
    /// TimeHarp 260 NANO, T2.
    public static let timeHarp260NT2 = PTURecordType(rawValue: 0x0001_0205)
    /// TimeHarp 260 PICO, T2.
    public static let timeHarp260PT2 = PTURecordType(rawValue: 0x0001_0206)
    /// MultiHarp 150/160 and PicoHarp 330 (PicoQuant's "generic" T2 records).
    public static let multiHarpT2 = PTURecordType(rawValue: 0x0001_0207)

    /// The layout of a T2 record type qrng reads; `nil` for any other type.
    public var t2Layout: T2Layout? {
        switch self {
        case .picoHarpT2: .picoHarp
        case .hydraHarpV1T2: .hydraHarpV1
        case .hydraHarpV2T2, .timeHarp260NT2, .timeHarp260PT2, .multiHarpT2: .hydraHarpV2
        default: nil
        }
    }

    /// Whether this is a T3 record type (time since sync plus sync count), which qrng does not read.
    public var isT3: Bool { (rawValue >> 8) & 0xFF == 0x03 }

    public var description: String {
        let digits = String(rawValue, radix: 16, uppercase: true)
        let hex = "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
        let name: String? =
            switch self {
            case .picoHarpT2: "PicoHarp T2"
            case .hydraHarpV1T2: "HydraHarp v1 T2"
            case .hydraHarpV2T2: "HydraHarp v2 T2"
            case .timeHarp260NT2: "TimeHarp 260 N T2"
            case .timeHarp260PT2: "TimeHarp 260 P T2"
            case .multiHarpT2: "MultiHarp/PicoHarp 330 T2"
            default: nil
            }
        return name.map { "\($0) (\(hex))" } ?? hex
    }
}

/// What qrng takes from a PTU file's tagged header.
///
/// A PTU file starts with the magic `PQTTTR` padded with zeros to 8 bytes and an 8-byte version string, then
/// tags of 48 bytes each: a 32-byte identifier padded with zeros, a 32-bit index (−1 when the tag is not part of
/// an array), a 32-bit type and an 8-byte value. For the variable-length types (Float8Array, AnsiString,
/// WideString, BinaryBlob) the value is the length in bytes of the data that follows the tag. The header ends
/// with the tag `Header_End`; the records follow, 32 bits each, little-endian. Every tag is parsed and checked;
/// qrng keeps the ones below and skips the data of the rest without holding it.
public struct PTUHeader: Sendable, Hashable {
    /// The 8-byte version string, e.g. `1.0.00`.
    public var version: String
    /// `TTResultFormat_TTTRRecType`.
    public var recordType: PTURecordType
    /// `MeasDesc_GlobalResolution`: the unit of T2 timestamps, in seconds.
    public var globalResolution: Double
    /// `MeasDesc_Resolution`, in seconds, when present (the T3 histogram bin; in T2 files usually equal to the
    /// global resolution).
    public var resolution: Double?
    /// `TTResult_NumberOfRecords`, when present; the reader then expects exactly that many records.
    public var numberOfRecords: UInt64?
    /// The number of tags, `Header_End` included.
    public var tagCount: Int
    /// The size of the header in bytes: the offset of the first record.
    public var size: UInt64
}

/// The PTU tag types (`TTagHead.Typ`).
enum PTUTagType: UInt32 {
    case empty8 = 0xFFFF_0008
    case bool8 = 0x0000_0008
    case int8 = 0x1000_0008
    case bitSet64 = 0x1100_0008
    case color8 = 0x1200_0008
    case float8 = 0x2000_0008
    case dateTime = 0x2100_0008
    case float8Array = 0x2001_FFFF
    case ansiString = 0x4001_FFFF
    case wideString = 0x4002_FFFF
    case binaryBlob = 0xFFFF_FFFF

    /// Whether the value is the length of data that follows the tag.
    var hasTrailingData: Bool {
        switch self {
        case .float8Array, .ansiString, .wideString, .binaryBlob: true
        default: false
        }
    }

    var name: String {
        switch self {
        case .empty8: "Empty8"
        case .bool8: "Bool8"
        case .int8: "Int8"
        case .bitSet64: "BitSet64"
        case .color8: "Color8"
        case .float8: "Float8"
        case .dateTime: "TDateTime"
        case .float8Array: "Float8Array"
        case .ansiString: "AnsiString"
        case .wideString: "WideString"
        case .binaryBlob: "BinaryBlob"
        }
    }
}

enum PTUFormat {
    /// `PQTTTR` and two zero bytes.
    static let magic: [UInt8] = Array("PQTTTR".utf8) + [0, 0]
    static let tagSize = 48
    static let identSize = 32
    static let headerEnd = "Header_End"
    static let recordTypeTag = "TTResultFormat_TTTRRecType"
    static let globalResolutionTag = "MeasDesc_GlobalResolution"
    static let resolutionTag = "MeasDesc_Resolution"
    static let numberOfRecordsTag = "TTResult_NumberOfRecords"
    /// No tag's data may be longer (real headers hold a few kilobytes); a larger length is out of range.
    static let maximumTagData: Int64 = 1 << 30
    /// A header that has not ended after this many bytes is rejected.
    static let maximumHeaderSize: UInt64 = 1 << 26
    /// The resolutions accepted: 1 fs to 1 s.
    static let resolutionRange = 1e-15...1.0

    /// Reads and checks the tagged header, leaving `input` at the first record.
    static func readHeader(_ input: ByteInput) throws(QRNGError) -> PTUHeader {
        let file = input.name
        guard try input.require(16) else {
            throw .input("the input ends after \(input.availableCount) bytes, inside the 16-byte preamble",
                file: file, offset: UInt64(input.availableCount), field: "header")
        }
        guard input.bytes.prefix(8).elementsEqual(magic) else {
            throw .input("wrong magic: not a PTU file (expected \"PQTTTR\")", file: file, offset: 0, field: "magic")
        }
        let version = cString(UnsafeRawBufferPointer(rebasing: input.bytes[8..<16]))
        input.consume(16)

        var recordType: (value: Int64, offset: UInt64)?
        var globalResolution: (value: Double, offset: UInt64)?
        var resolution: (value: Double, offset: UInt64)?
        var numberOfRecords: (value: Int64, offset: UInt64)?
        var tagCount = 0
        while true {
            let tagOffset = input.offset
            guard tagOffset < maximumHeaderSize else {
                throw .input("no Header_End tag in the first \(maximumHeaderSize) bytes",
                    file: file, offset: tagOffset, field: "header")
            }
            guard try input.require(tagSize) else {
                throw .input("the input ends \(input.availableCount) bytes into a 48-byte header tag",
                    file: file, offset: tagOffset, field: "header tag")
            }
            let tag = input.bytes
            let ident = cString(UnsafeRawBufferPointer(rebasing: tag[0..<identSize]))
            let rawType = tag.littleEndian(UInt32.self, at: 36)
            let valueOffset = tagOffset + 40
            let value = tag.littleEndian(Int64.self, at: 40)
            tagCount += 1
            guard let type = PTUTagType(rawValue: rawType) else {
                let hex = String(rawType, radix: 16, uppercase: true)
                throw .input("unknown tag type 0x\(hex)", file: file, offset: tagOffset + 36, field: "\(ident) type")
            }
            func expect(_ wanted: PTUTagType) throws(QRNGError) {
                guard type == wanted else {
                    throw .input("tag type \(type.name), expected \(wanted.name)",
                        file: file, offset: tagOffset + 36, field: "\(ident) type")
                }
            }
            switch ident {
            case recordTypeTag:
                try expect(.int8)
                recordType = (value, valueOffset)
            case globalResolutionTag:
                try expect(.float8)
                globalResolution = (Double(bitPattern: UInt64(bitPattern: value)), valueOffset)
            case resolutionTag:
                try expect(.float8)
                resolution = (Double(bitPattern: UInt64(bitPattern: value)), valueOffset)
            case numberOfRecordsTag:
                try expect(.int8)
                numberOfRecords = (value, valueOffset)
            default:
                break
            }
            input.consume(tagSize)
            if ident == headerEnd { break }
            if type.hasTrailingData {
                guard value >= 0 && value <= maximumTagData else {
                    throw .input("data length \(value) out of range (0 to \(maximumTagData) bytes)",
                        file: file, offset: valueOffset, field: ident)
                }
                let skipped = try input.skip(UInt64(value))
                guard skipped == UInt64(value) else {
                    throw .input("the input ends \(skipped) bytes into the \(value) bytes of data of this tag",
                        file: file, offset: input.offset, field: ident)
                }
            }
        }

        let endOffset = input.offset - UInt64(tagSize)
        guard let recordType else {
            throw .input("no \(recordTypeTag) tag before Header_End", file: file, offset: endOffset,
                field: recordTypeTag)
        }
        guard recordType.value >= 0 && recordType.value <= Int64(UInt32.max) else {
            throw .input("record type \(recordType.value) out of range", file: file, offset: recordType.offset,
                field: recordTypeTag)
        }
        let type = PTURecordType(rawValue: UInt32(recordType.value))
        guard type.t2Layout != nil else {
            let reason = type.isT3 ? "T3 records are not supported (only T2)" : "unknown record type"
            throw .input("\(reason): \(type)", file: file, offset: recordType.offset, field: recordTypeTag)
        }
        guard let globalResolution else {
            throw .input("no \(globalResolutionTag) tag before Header_End", file: file, offset: endOffset,
                field: globalResolutionTag)
        }
        guard resolutionRange.contains(globalResolution.value) else {
            throw .input("global resolution \(globalResolution.value) s out of range (1e-15 to 1 s)",
                file: file, offset: globalResolution.offset, field: globalResolutionTag)
        }
        if let resolution, !resolutionRange.contains(resolution.value) {
            throw .input("resolution \(resolution.value) s out of range (1e-15 to 1 s)",
                file: file, offset: resolution.offset, field: resolutionTag)
        }
        if let numberOfRecords, numberOfRecords.value < 0 {
            throw .input("number of records \(numberOfRecords.value) out of range (at least 0)",
                file: file, offset: numberOfRecords.offset, field: numberOfRecordsTag)
        }
        return PTUHeader(
            version: version, recordType: type, globalResolution: globalResolution.value,
            resolution: resolution?.value, numberOfRecords: numberOfRecords.map { UInt64($0.value) },
            tagCount: tagCount, size: input.offset)
    }

    /// The text up to the first zero byte (invalid UTF-8 repaired), as the 8-bit strings of the header hold.
    static func cString(_ bytes: UnsafeRawBufferPointer) -> String {
        let end = bytes.firstIndex(of: 0) ?? bytes.count
        return String(decoding: bytes[0..<end], as: UTF8.self)
    }
}
