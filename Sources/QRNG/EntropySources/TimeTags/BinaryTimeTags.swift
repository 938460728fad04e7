import Synchronization

/// The header of qrng's binary time-tag format: a 32-byte header, then 10-byte little-endian records.
///
/// | Offset | Size | Field | Value |
/// |---|---|---|---|
/// | 0 | 8 | magic | `QRNGTAGS` (ASCII) |
/// | 8 | 2 | version | 1 |
/// | 10 | 2 | header size | 32 |
/// | 12 | 2 | record size | 10 |
/// | 14 | 2 | channel count | channels are `0..<count`; 0 allows every channel |
/// | 16 | 8 | resolution | the instrument's timing resolution in ps, at least 1 |
/// | 24 | 8 | record count | the number of records, or `0xFFFF_FFFF_FFFF_FFFF` when unknown (a stream) |
///
/// Each record is a timestamp in picoseconds (`UInt64`) and a channel (`UInt16`), both little-endian, packed with
/// no padding. Timestamps never decrease. All integers in the header are little-endian.
public struct BinaryTimeTagHeader: Sendable, Hashable {
    /// The eight bytes every file starts with.
    public static let magic: [UInt8] = Array("QRNGTAGS".utf8)
    /// The format version this library reads and writes.
    public static let version: UInt16 = 1
    /// The size of the header in bytes.
    public static let size = 32
    /// The size of one record in bytes.
    public static let recordSize = 10
    /// The record count written when the count is not known.
    static let unknownCount = UInt64.max

    /// Channels are `0..<channelCount`; 0 allows every channel.
    public var channelCount: UInt16
    /// The instrument's timing resolution in picoseconds, at least 1 (timestamps are in picoseconds whatever it is).
    public var resolutionPicoseconds: UInt64
    /// The number of records, or `nil` when it was not known when the header was written.
    public var recordCount: UInt64?

    public init(channelCount: UInt16 = 0, resolutionPicoseconds: UInt64 = 1, recordCount: UInt64? = nil) {
        self.channelCount = channelCount
        self.resolutionPicoseconds = resolutionPicoseconds
        self.recordCount = recordCount
    }

    /// The 32 header bytes.
    public var encoded: [UInt8] {
        var bytes = Self.magic
        bytes.appendLittleEndian(Self.version)
        bytes.appendLittleEndian(UInt16(Self.size))
        bytes.appendLittleEndian(UInt16(Self.recordSize))
        bytes.appendLittleEndian(channelCount)
        bytes.appendLittleEndian(resolutionPicoseconds)
        bytes.appendLittleEndian(recordCount ?? Self.unknownCount)
        return bytes
    }
}

/// Reads qrng's binary time-tag format (see ``BinaryTimeTagHeader``) from a file, pipe or standard input.
///
/// The header is read and checked when the reader is created, so a wrong magic, an unsupported version or an
/// out-of-range header value is thrown by the initialiser. Record errors follow the ``ErrorPolicy``: a channel
/// outside the header's channel count (or the options' channel set), a timestamp before the previous one, a
/// truncated last record, and a record count that disagrees with the header.
public final class BinaryTimeTagReader: RecordedTimeTagReader {
    public let path: String
    public let provenance: Provenance
    /// The file's header.
    public let header: BinaryTimeTagHeader
    private let state: Mutex<RecordStream<BinaryRecordDecoder>>

    public convenience init(recording: sending RecordedInput, options: TimeTagReadOptions) throws(QRNGError) {
        try self.init(input: recording.input, options: options)
    }

    init(input: sending ByteInput, options: TimeTagReadOptions) throws(QRNGError) {
        path = input.name
        provenance = .recording(input.name)
        let header = try Self.readHeader(input)
        self.header = header
        let decoder = BinaryRecordDecoder(header: header, filter: options.channels)
        state = Mutex(RecordStream(input: input, decoder: decoder, errorPolicy: options.errorPolicy))
    }

    public var resolutionPicoseconds: Double? { Double(header.resolutionPicoseconds) }

    public var skipped: SkippedRecords { state.withLock { $0.errors.skipped } }

    public func read(into buffer: UnsafeMutableBufferPointer<TimeTag>) throws(QRNGError) -> Int {
        let lent = LentTags(buffer)
        return try state.withLock { state throws(QRNGError) in try state.read(into: lent.buffer) }
    }

    private static func readHeader(_ input: ByteInput) throws(QRNGError) -> BinaryTimeTagHeader {
        let file = input.name
        let bytes = try input.readQRNGHeaderPrelude(
            magic: BinaryTimeTagHeader.magic, kind: "binary time-tag", version: BinaryTimeTagHeader.version,
            size: BinaryTimeTagHeader.size)
        let recordSize = bytes.littleEndian(UInt16.self, at: 12)
        guard recordSize == BinaryTimeTagHeader.recordSize else {
            throw .input("record size \(recordSize) out of range (version 1 has \(BinaryTimeTagHeader.recordSize))",
                file: file, offset: 12, field: "record size")
        }
        let resolution = bytes.littleEndian(UInt64.self, at: 16)
        guard resolution >= 1 else {
            throw .input("resolution 0 ps out of range (at least 1)", file: file, offset: 16, field: "resolution")
        }
        let count = bytes.littleEndian(UInt64.self, at: 24)
        let header = BinaryTimeTagHeader(
            channelCount: bytes.littleEndian(UInt16.self, at: 14), resolutionPicoseconds: resolution,
            recordCount: count == BinaryTimeTagHeader.unknownCount ? nil : count)
        input.consume(BinaryTimeTagHeader.size)
        return header
    }
}

/// Decodes qrng's binary time-tag records: a 64-bit timestamp in picoseconds and a 16-bit channel, little-endian.
struct BinaryRecordDecoder: FixedSizeRecordDecoder {
    static var recordSize: Int { BinaryTimeTagHeader.recordSize }
    static var recordCountField: String { "record count" }
    let header: BinaryTimeTagHeader
    let filter: ChannelSet?
    /// Channels must be below this: the header's count, or 2¹⁶ when it allows every channel.
    let channelLimit: UInt32
    var lastTimestamp: UInt64 = 0
    private(set) var recordsConsumed: UInt64 = 0
    /// The header's count is checked at the input's end, not read up to.
    var recordsToStopAt: UInt64? { nil }

    init(header: BinaryTimeTagHeader, filter: ChannelSet?) {
        self.header = header
        self.filter = filter
        self.channelLimit = header.channelCount == 0 ? 1 << 16 : UInt32(header.channelCount)
    }

    /// Parses up to `records` whole records into `out` (at most `capacity`), until one is bad.
    mutating func decode(
        _ bytes: UnsafeRawPointer, records: Int, into out: UnsafeMutablePointer<TimeTag>, capacity: Int
    ) -> (consumed: Int, written: Int, bad: Bool) {
        let count = min(records, capacity)
        var previous = lastTimestamp
        defer { lastTimestamp = previous }
        for index in 0..<count {
            let record = bytes + index &* Self.recordSize
            let time = UInt64(littleEndian: record.loadUnaligned(as: UInt64.self))
            let channel = UInt16(littleEndian: record.loadUnaligned(fromByteOffset: 8, as: UInt16.self))
            if time < previous || UInt32(channel) >= channelLimit || !(filter?.contains(channel) ?? true) {
                recordsConsumed += UInt64(index)
                return (index, index, true)
            }
            out[index] = TimeTag(channel: channel, picoseconds: time)
            previous = time
        }
        recordsConsumed += UInt64(count)
        return (count, count, false)
    }

    func badRecordError(in input: ByteInput) -> QRNGError {
        let bytes = input.bytes
        let offset = input.offset
        let time = bytes.littleEndian(UInt64.self, at: 0)
        let channel = bytes.littleEndian(UInt16.self, at: 8)
        if UInt32(channel) >= channelLimit {
            return .input("unknown channel \(channel): the header allows channels 0..<\(channelLimit)",
                file: input.name, offset: offset + 8, field: "channel")
        }
        if !(filter?.contains(channel) ?? true) {
            return .input("unknown channel \(channel): not among the channels accepted",
                file: input.name, offset: offset + 8, field: "channel")
        }
        return .input("timestamp \(time) ps goes backwards (previous \(lastTimestamp) ps)",
            file: input.name, offset: offset, field: "timestamp")
    }

    mutating func skipBadRecord() { recordsConsumed += 1 }

    func recordCountError(in input: ByteInput) -> QRNGError? {
        guard let declared = header.recordCount, declared != recordsConsumed else { return nil }
        return .input(
            "the header declares \(declared) records but the input holds \(recordsConsumed)",
            file: input.name, offset: input.offset, field: Self.recordCountField)
    }

}

/// Writes qrng's binary time-tag format (see ``BinaryTimeTagHeader``).
///
/// Tags are checked as they are written (timestamps must not decrease, channels must be below the channel
/// count), so a file this writer produces always reads back — unless it was told to let timestamps go backwards,
/// which only a simulated faulty time tagger wants. When the record count is not given up front and the
/// sink can seek, ``finish()`` fills it in; on a pipe it stays "unknown".
public final class BinaryTimeTagWriter {
    /// The header as written (its record count as declared, `nil` when left to ``finish()``).
    public let header: BinaryTimeTagHeader
    private let sink: ByteSink
    private var pending: [UInt8] = []
    private var written: UInt64 = 0
    private var lastTimestamp: UInt64 = 0
    private let allowsBackwards: Bool
    private static let flushSize = 1 << 16

    /// Writes the header.
    ///
    /// - Parameters:
    ///   - sink: Where the bytes go.
    ///   - channelCount: Channels are `0..<channelCount`; 0 allows every channel.
    ///   - resolutionPicoseconds: The instrument's timing resolution, at least 1 ps.
    ///   - recordCount: The number of tags that will be written, if known.
    ///   - allowsTimestampsGoingBackwards: Write decreasing timestamps as given (to simulate a faulty time
    ///     tagger) instead of refusing them; readers then report them as bad records.
    public init(
        sink: ByteSink, channelCount: UInt16 = 0, resolutionPicoseconds: UInt64 = 1, recordCount: UInt64? = nil,
        allowsTimestampsGoingBackwards: Bool = false
    ) throws(QRNGError) {
        self.allowsBackwards = allowsTimestampsGoingBackwards
        guard resolutionPicoseconds >= 1 else { throw .invalidArgument("resolution", "must be at least 1 ps") }
        header = BinaryTimeTagHeader(
            channelCount: channelCount, resolutionPicoseconds: resolutionPicoseconds, recordCount: recordCount)
        self.sink = sink
        pending.reserveCapacity(Self.flushSize + BinaryTimeTagHeader.recordSize)
        try sink.write(header.encoded)
    }

    /// Appends `tags`.
    public func write(_ tags: some Sequence<TimeTag>) throws(QRNGError) {
        for tag in tags {
            guard tag.picoseconds >= lastTimestamp || allowsBackwards else {
                throw .invalidArgument("timestamp", "\(tag.picoseconds) ps is before the previous \(lastTimestamp) ps")
            }
            guard header.channelCount == 0 || tag.channel < header.channelCount else {
                throw .invalidArgument(
                    "channel", "\(tag.channel) is not below the channel count \(header.channelCount)")
            }
            pending.appendLittleEndian(tag.picoseconds)
            pending.appendLittleEndian(tag.channel)
            lastTimestamp = tag.picoseconds
            written += 1
            if pending.count >= Self.flushSize { try flush() }
        }
    }

    /// Writes what is buffered and settles the record count: checks it against a declared count, or fills it in
    /// when the sink can seek.
    public func finish() throws(QRNGError) {
        try flush()
        if let declared = header.recordCount {
            guard declared == written else {
                throw .invalidArgument("record count", "declared \(declared) records but \(written) were written")
            }
        } else if sink.isSeekable {
            var count: [UInt8] = []
            count.appendLittleEndian(written)
            let outcome = count.withUnsafeBytes { bytes in
                Result { () throws(QRNGError) in try sink.overwrite(at: 24, with: bytes) }
            }
            try outcome.get()
        }
    }

    private func flush() throws(QRNGError) {
        guard !pending.isEmpty else { return }
        try sink.write(pending)
        pending.removeAll(keepingCapacity: true)
    }
}

extension Array where Element == UInt8 {
    /// Appends `value` in little-endian byte order.
    mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        var little = value.littleEndian
        Swift.withUnsafeBytes(of: &little) { append(contentsOf: $0) }
    }
}

extension UnsafeRawBufferPointer {
    /// The little-endian integer at byte `offset`.
    func littleEndian<T: FixedWidthInteger>(_ type: T.Type, at offset: Int) -> T {
        T(littleEndian: loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}
