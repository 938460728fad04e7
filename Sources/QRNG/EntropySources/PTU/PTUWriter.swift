/// Writes time tags as a PicoQuant PTU file in T2 mode, with a header PicoQuant's own readers accept.
///
/// The header holds the magic and version `1.0.00`, then `CreatorSW_Name`, `Measurement_Mode` (2, T2),
/// `Measurement_SubMode`, `TTResultFormat_TTTRRecType`, `TTResultFormat_BitsPerRecord` (32),
/// `MeasDesc_GlobalResolution`, `MeasDesc_Resolution`, `TTResult_NumberOfRecords` and `Header_End`. The record count
/// is only known at the end, so on a sink that can seek it is written as 0 and filled in by ``finish()``; on a pipe
/// the tag is left out and readers read to the end.
///
/// Channels map as ``PTUReader`` reads them: 0 is the sync input and 1, 2, … the detector inputs (PicoHarp T2
/// takes channels 0 to 4, HydraHarp-style records 0 to 64). Timestamps must be multiples of the resolution and
/// must not decrease; overflow records are inserted as the time base requires.
public final class PTUWriter {
    /// The record type written.
    public let recordType: PTURecordType
    /// The timestamp unit, in picoseconds.
    public let resolutionPicoseconds: UInt64
    private let layout: PTURecordType.T2Layout
    private let sink: ByteSink
    private let wrap: UInt64
    /// Where the value of `TTResult_NumberOfRecords` is, when it was written.
    private var countOffset: UInt64?
    private var base: UInt64 = 0
    private var lastTimestamp: UInt64 = 0
    private var records: UInt64 = 0
    private var pending: [UInt8] = []
    private static let flushSize = 1 << 16

    /// Writes the header.
    ///
    /// - Parameters:
    ///   - sink: Where the bytes go.
    ///   - recordType: A T2 record type, such as ``PTURecordType/picoHarpT2`` or ``PTURecordType/hydraHarpV2T2``.
    ///   - resolutionPicoseconds: The unit of the timestamps (PicoHarp 300: 4 ps; HydraHarp: 1 ps).
    public init(sink: ByteSink, recordType: PTURecordType, resolutionPicoseconds: UInt64) throws(QRNGError) {
        guard let layout = recordType.t2Layout else {
            throw .invalidArgument("record type", "\(recordType) is not a T2 record type qrng writes")
        }
        guard resolutionPicoseconds >= 1 && resolutionPicoseconds <= 1_000_000_000_000 else {
            throw .invalidArgument("resolution", "must be 1 ps to 1 s, got \(resolutionPicoseconds) ps")
        }
        self.recordType = recordType
        self.resolutionPicoseconds = resolutionPicoseconds
        self.layout = layout
        self.sink = sink
        self.wrap = T2Decoder(layout: layout, resolution: 1e-12).wrap

        var header = PTUFormat.magic + Array("1.0.00".utf8) + [0, 0]
        let seconds = Double(resolutionPicoseconds) * 1e-12
        Self.appendTag(&header, "CreatorSW_Name", .ansiString, string: "qrng")
        Self.appendTag(&header, "Measurement_Mode", .int8, value: 2)
        Self.appendTag(&header, "Measurement_SubMode", .int8, value: 0)
        Self.appendTag(&header, PTUFormat.recordTypeTag, .int8, value: Int64(recordType.rawValue))
        Self.appendTag(&header, "TTResultFormat_BitsPerRecord", .int8, value: 32)
        Self.appendTag(&header, PTUFormat.globalResolutionTag, .float8, value: Int64(bitPattern: seconds.bitPattern))
        Self.appendTag(&header, PTUFormat.resolutionTag, .float8, value: Int64(bitPattern: seconds.bitPattern))
        if sink.isSeekable {
            countOffset = UInt64(header.count + 40)
            Self.appendTag(&header, PTUFormat.numberOfRecordsTag, .int8, value: 0)
        }
        Self.appendTag(&header, PTUFormat.headerEnd, .empty8, value: 0)
        try sink.write(header)
    }

    /// Appends `tags`.
    public func write(_ tags: some Sequence<TimeTag>) throws(QRNGError) {
        for tag in tags {
            guard tag.picoseconds >= lastTimestamp else {
                throw .invalidArgument("timestamp", "\(tag.picoseconds) ps is before the previous \(lastTimestamp) ps")
            }
            guard tag.picoseconds % resolutionPicoseconds == 0 else {
                throw .invalidArgument(
                    "timestamp",
                    "\(tag.picoseconds) ps is not a multiple of the resolution \(resolutionPicoseconds) ps")
            }
            let field: UInt32
            switch layout {
            case .picoHarp:
                guard tag.channel <= 4 else {
                    throw .invalidArgument("channel", "PicoHarp T2 records have channels 0 to 4, got \(tag.channel)")
                }
                field = UInt32(tag.channel) << 28
            case .hydraHarpV1, .hydraHarpV2:
                guard tag.channel <= 64 else {
                    throw .invalidArgument("channel", "HydraHarp T2 records have channels 0 to 64, got \(tag.channel)")
                }
                field = tag.channel == 0 ? 0x8000_0000 : UInt32(tag.channel - 1) << 25
            }
            let time = advance(to: tag.picoseconds / resolutionPicoseconds)
            append(field | time)
            lastTimestamp = tag.picoseconds
            if pending.count >= Self.flushSize { try flush() }
        }
    }

    /// Appends a marker record: `bits` (1 to 15) are the marker inputs that fired.
    ///
    /// A marker's time is coarse (PicoHarp records overwrite its low 4 bits with the marker bits) and it is not
    /// ordered against the photons, so it only needs to be a multiple of the resolution.
    public func writeMarker(bits: UInt8, picoseconds: UInt64) throws(QRNGError) {
        guard (1...15).contains(bits) else { throw .invalidArgument("marker", "bits must be 1 to 15, got \(bits)") }
        guard picoseconds >= lastTimestamp, picoseconds % resolutionPicoseconds == 0 else {
            throw .invalidArgument("timestamp", "a marker must not go back in time and must fit the resolution")
        }
        let time = advance(to: picoseconds / resolutionPicoseconds)
        switch layout {
        case .picoHarp: append(0xF000_0000 | (time & ~0xF) | UInt32(bits))
        case .hydraHarpV1, .hydraHarpV2: append(0x8000_0000 | UInt32(bits) << 25 | time)
        }
        lastTimestamp = picoseconds
    }

    /// Writes what is buffered and fills in `TTResult_NumberOfRecords` when the sink can seek.
    public func finish() throws(QRNGError) {
        try flush()
        guard let countOffset else { return }
        var count: [UInt8] = []
        count.appendLittleEndian(Int64(records))
        let outcome = count.withUnsafeBytes { bytes in
            Result { () throws(QRNGError) in try sink.overwrite(at: countOffset, with: bytes) }
        }
        try outcome.get()
    }

    /// Writes the overflow records that bring the time base within one period of `ticks`; returns the time field.
    private func advance(to ticks: UInt64) -> UInt32 {
        while ticks - base >= wrap {
            switch layout {
            case .picoHarp:
                append(0xF000_0000)
                base += wrap
            case .hydraHarpV1:
                append(0xFE00_0000)
                base += wrap
            case .hydraHarpV2:
                let periods = min((ticks - base) / wrap, (1 << 25) - 1)
                append(0xFE00_0000 | UInt32(periods))
                base += periods * wrap
            }
        }
        return UInt32(ticks - base)
    }

    private func append(_ record: UInt32) {
        pending.appendLittleEndian(record)
        records += 1
    }

    private func flush() throws(QRNGError) {
        guard !pending.isEmpty else { return }
        try sink.write(pending)
        pending.removeAll(keepingCapacity: true)
    }

    private static func appendTag(
        _ header: inout [UInt8], _ ident: String, _ type: PTUTagType, value: Int64 = 0, string: String? = nil
    ) {
        var name = Array(ident.utf8.prefix(PTUFormat.identSize - 1))
        name += [UInt8](repeating: 0, count: PTUFormat.identSize - name.count)
        header += name
        header.appendLittleEndian(Int32(-1))
        header.appendLittleEndian(type.rawValue)
        if let string {
            // Strings are zero-terminated and padded to a multiple of 8 bytes, as PicoQuant writes them.
            var data = Array(string.utf8) + [0]
            data += [UInt8](repeating: 0, count: (8 - data.count % 8) % 8)
            header.appendLittleEndian(Int64(data.count))
            header += data
        } else {
            header.appendLittleEndian(value)
        }
    }
}
