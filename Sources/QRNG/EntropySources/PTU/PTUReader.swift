import Synchronization

/// Counts of what a ``PTUReader`` has decoded so far.
public struct PTUCounts: Sendable, Hashable {
    /// Records read, of every kind, skipped ones included.
    public var records: UInt64 = 0
    /// Tags delivered: photons on the detector inputs and sync events.
    public var tags: UInt64 = 0
    /// Overflow records.
    public var overflowRecords: UInt64 = 0
    /// Overflow periods those records added (more than the records in HydraHarp v2 files, whose overflow records
    /// carry a count).
    public var overflowPeriods: UInt64 = 0
    /// Marker records (external markers), counted and not delivered.
    public var markers: UInt64 = 0

    public init() {}
}

/// Reads the T2 records of a PicoQuant PTU file: PicoHarp 300, HydraHarp 400 (record formats 1 and 2),
/// TimeHarp 260 and MultiHarp/PicoHarp 330.
///
/// The tagged header is parsed in full when the reader is created (see ``PTUHeader``); a malformed header, a T3
/// or unknown record type, or a resolution out of range is thrown by the initialiser. Timestamps are converted to
/// picoseconds: ticks × `MeasDesc_GlobalResolution`, with the resolution rounded to the femtosecond.
///
/// Channels: **0 is the sync input and 1, 2, … are the detector inputs.** In PicoHarp T2 records the 4-bit channel
/// field is the channel (the PicoHarp 300's sync input records as channel 0); fields 0 to 4 are accepted.
/// HydraHarp-style records mark a sync event with the special bit and channel 0 (delivered as channel 0) and
/// input *n* with channel field *n* − 1 (delivered as *n*). Overflow records advance the time base and marker
/// records are counted in ``counts``; neither is delivered as a tag. A PicoHarp channel field of 5 to 14 and a
/// HydraHarp special record with channel 16 to 62 are unknown-channel errors.
public final class PTUReader: RecordedTimeTagReader {
    public let path: String
    public let provenance: Provenance
    /// The file's header.
    public let header: PTUHeader
    private let state: Mutex<RecordStream<T2Decoder>>

    public convenience init(recording: sending RecordedInput, options: TimeTagReadOptions) throws(QRNGError) {
        try self.init(input: recording.input, options: options)
    }

    init(input: sending ByteInput, options: TimeTagReadOptions) throws(QRNGError) {
        path = input.name
        provenance = .recording(input.name)
        let header = try PTUFormat.readHeader(input)
        self.header = header
        let decoder = T2Decoder(
            layout: header.recordType.t2Layout!, resolution: header.globalResolution,
            declaredRecords: header.numberOfRecords, filter: options.channels)
        state = Mutex(RecordStream(input: input, decoder: decoder, errorPolicy: options.errorPolicy))
    }

    public var resolutionPicoseconds: Double? { header.globalResolution * 1e12 }

    public var skipped: SkippedRecords { state.withLock { $0.errors.skipped } }

    /// What has been decoded so far.
    public var counts: PTUCounts { state.withLock { $0.decoder.counts } }

    public func read(into buffer: UnsafeMutableBufferPointer<TimeTag>) throws(QRNGError) -> Int {
        let lent = LentTags(buffer)
        return try state.withLock { state throws(QRNGError) in try state.read(into: lent.buffer) }
    }
}

/// Decodes T2 records into time tags: the overflow time base, the channel mapping, the conversion to picoseconds.
struct T2Decoder {
    let layout: PTURecordType.T2Layout
    /// Ticks added by one overflow period.
    let wrap: UInt64
    /// Picoseconds per tick when that is a whole number, else 0.
    let unitPicoseconds: UInt64
    /// Femtoseconds per tick.
    let unitFemtoseconds: UInt64
    /// The overflow correction, in ticks.
    var base: UInt64 = 0
    /// The last timestamp delivered, in picoseconds.
    var last: UInt64 = 0
    var counts = PTUCounts()
    /// The record count the header declares, where reading stops.
    let declaredRecords: UInt64?
    /// The channels accepted, or `nil` for all.
    let filter: ChannelSet?

    init(layout: PTURecordType.T2Layout, resolution: Double, declaredRecords: UInt64? = nil, filter: ChannelSet? = nil) {
        self.layout = layout
        self.declaredRecords = declaredRecords
        self.filter = filter
        switch layout {
        case .picoHarp: wrap = 210_698_240
        case .hydraHarpV1: wrap = 33_552_000
        case .hydraHarpV2: wrap = 1 << 25
        }
        unitFemtoseconds = UInt64((resolution * 1e15).rounded())
        unitPicoseconds = unitFemtoseconds % 1000 == 0 ? unitFemtoseconds / 1000 : 0
    }

    /// `ticks` in picoseconds, or `nil` past 2⁶⁴ ps.
    @inline(__always)
    func picoseconds(_ ticks: UInt64) -> UInt64? {
        if unitPicoseconds != 0 {
            let (product, overflow) = ticks.multipliedReportingOverflow(by: unitPicoseconds)
            return overflow ? nil : product
        }
        let product = ticks.multipliedFullWidth(by: unitFemtoseconds)
        guard product.high < 1000 else { return nil }
        return UInt64(1000).dividingFullWidth(product).quotient
    }

    /// Decodes records until `records` are consumed, `capacity` tags are written, or a record is bad.
    ///
    /// - Returns: the records consumed, the tags written, and whether the next record is bad (not consumed).
    mutating func decode(
        _ bytes: UnsafeRawPointer, records: Int, into out: UnsafeMutablePointer<TimeTag>, capacity: Int,
        filter: ChannelSet?
    ) -> (consumed: Int, written: Int, bad: Bool) {
        switch layout {
        case .picoHarp: decodePicoHarp(bytes, records: records, into: out, capacity: capacity, filter: filter)
        case .hydraHarpV1, .hydraHarpV2:
            decodeHydraHarp(bytes, records: records, into: out, capacity: capacity, filter: filter)
        }
    }

    // The two loops below run once per record, at hundreds of millions of records a second. They keep every
    // value in locals (so nothing is reloaded through `self` after each store to `out`), take the rare records
    // (overflows, markers, bad ones) out of line, and map the channel without a branch, since sync and detector
    // records alternate unpredictably. While the time base is small enough that no timestamp of the period can
    // overflow, the resolution is whole picoseconds and no channel filter is set, a timestamp is one multiply
    // with no checks; otherwise `checked` does the careful conversion.

    /// Decodes ordinary PicoHarp records (channels 0 to 4) in the fast case, stopping before the first special or
    /// bad record or step back; returns how many it wrote. Few live values, so the loop stays in registers.
    @inline(never)
    private static func picoHarpRun(
        _ bytes: UnsafeRawPointer, count: Int, into out: UnsafeMutablePointer<TimeTag>, base: UInt64, unit: UInt64,
        last: inout UInt64
    ) -> Int {
        var previous = last
        var index = 0
        while index < count {
            let record = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: index &* 4, as: UInt32.self))
            if record >= 0x5000_0000 { break }
            let picoseconds = (base &+ UInt64(record & 0x0FFF_FFFF)) &* unit
            if picoseconds < previous { break }
            out[index] = TimeTag(channel: UInt16(truncatingIfNeeded: record >> 28), picoseconds: picoseconds)
            previous = picoseconds
            index &+= 1
        }
        last = previous
        return index
    }

    /// Decodes ordinary HydraHarp-style records (sync and inputs) in the fast case, stopping before the first
    /// other special record or step back; returns how many it wrote.
    @inline(never)
    private static func hydraHarpRun(
        _ bytes: UnsafeRawPointer, count: Int, into out: UnsafeMutablePointer<TimeTag>, base: UInt64, unit: UInt64,
        last: inout UInt64
    ) -> Int {
        var previous = last
        var index = 0
        while index < count {
            let record = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: index &* 4, as: UInt32.self))
            if record >= 0x8200_0000 { break }
            let channel = (((record >> 25) & 0x3F) &+ 1) & ((record >> 31) &- 1)
            let picoseconds = (base &+ UInt64(record & 0x01FF_FFFF)) &* unit
            if picoseconds < previous { break }
            out[index] = TimeTag(channel: UInt16(truncatingIfNeeded: channel), picoseconds: picoseconds)
            previous = picoseconds
            index &+= 1
        }
        last = previous
        return index
    }

    /// Whether every timestamp from `base` plus a `timeBits`-bit time field converts with one unchecked multiply.
    private func isFast(base: UInt64, timeBits: Int, filter: ChannelSet?) -> Bool {
        guard unitPicoseconds != 0, filter == nil else { return false }
        let (top, overflow) = base.addingReportingOverflow(1 << UInt64(timeBits))
        return !overflow && !top.multipliedReportingOverflow(by: unitPicoseconds).overflow
    }

    /// The timestamp of `time` ticks after `base`, or `nil` if it passes 2⁶⁴ ps or `channel` is filtered out.
    private func checked(_ base: UInt64, _ time: UInt64, _ channel: UInt16, _ filter: ChannelSet?) -> UInt64? {
        let (ticks, overflow) = base.addingReportingOverflow(time)
        guard !overflow, filter?.contains(channel) ?? true else { return nil }
        return picoseconds(ticks)
    }

    private mutating func decodePicoHarp(
        _ bytes: UnsafeRawPointer, records: Int, into out: UnsafeMutablePointer<TimeTag>, capacity: Int,
        filter: ChannelSet?
    ) -> (consumed: Int, written: Int, bad: Bool) {
        let (wrap, unit) = (self.wrap, unitPicoseconds)
        var (base, last, overflows, markers) = (self.base, self.last, UInt64(0), UInt64(0))
        var fast = isFast(base: base, timeBits: 28, filter: filter)
        var written = 0
        var index = 0
        var bad = false
        defer {
            (self.base, self.last) = (base, last)
            counts.overflowRecords += overflows
            counts.overflowPeriods += overflows
            counts.markers += markers
            counts.records += UInt64(index)
            counts.tags += UInt64(written)
        }
        while index < records && written < capacity {
            if fast {
                let run = Self.picoHarpRun(
                    bytes + index &* 4, count: min(records - index, capacity - written), into: out + written,
                    base: base, unit: unit, last: &last)
                index &+= run
                written &+= run
                if index == records || written == capacity { break }
            }
            let record = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: index &* 4, as: UInt32.self))
            let channel = record >> 28
            let time = UInt64(record & 0x0FFF_FFFF)
            if channel >= 5 {
                if channel != 0xF {
                    bad = true
                    break
                }
                // A special record: the low 4 bits of the time field are marker bits; none means an overflow.
                if time & 0xF == 0 {
                    let (next, overflow) = base.addingReportingOverflow(wrap)
                    if overflow {
                        bad = true
                        break
                    }
                    base = next
                    fast = isFast(base: base, timeBits: 28, filter: filter)
                    overflows &+= 1
                } else {
                    markers &+= 1
                }
                index &+= 1
                continue
            }
            guard let picoseconds = fast ? (base &+ time) &* unit : checked(base, time, UInt16(channel), filter),
                picoseconds >= last
            else {
                bad = true
                break
            }
            out[written] = TimeTag(channel: UInt16(channel), picoseconds: picoseconds)
            last = picoseconds
            written &+= 1
            index &+= 1
        }
        return (index, written, bad)
    }

    private mutating func decodeHydraHarp(
        _ bytes: UnsafeRawPointer, records: Int, into out: UnsafeMutablePointer<TimeTag>, capacity: Int,
        filter: ChannelSet?
    ) -> (consumed: Int, written: Int, bad: Bool) {
        let (wrap, unit, counted) = (self.wrap, unitPicoseconds, layout == .hydraHarpV2)
        var (base, last, overflows, periods, markers) = (self.base, self.last, UInt64(0), UInt64(0), UInt64(0))
        var fast = isFast(base: base, timeBits: 25, filter: filter)
        var written = 0
        var index = 0
        var bad = false
        defer {
            (self.base, self.last) = (base, last)
            counts.overflowRecords += overflows
            counts.overflowPeriods += periods
            counts.markers += markers
            counts.records += UInt64(index)
            counts.tags += UInt64(written)
        }
        while index < records && written < capacity {
            if fast {
                let run = Self.hydraHarpRun(
                    bytes + index &* 4, count: min(records - index, capacity - written), into: out + written,
                    base: base, unit: unit, last: &last)
                index &+= run
                written &+= run
                if index == records || written == capacity { break }
            }
            let record = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: index &* 4, as: UInt32.self))
            let special = record >> 31
            let field = (record >> 25) & 0x3F
            let time = UInt64(record & 0x01FF_FFFF)
            // Special records other than sync (overflows, markers) are exactly those from 0x8200_0000 up: one
            // compare that is almost never true, where testing the special bit first would branch on every sync.
            if record >= 0x8200_0000 {
                if field == 0x3F {
                    // Version 2 overflow records count periods in the time field; 0 (old firmware) means one.
                    let count = counted && time != 0 ? time : 1
                    let (next, overflow) = base.addingReportingOverflow(count &* wrap)
                    if overflow {
                        bad = true
                        break
                    }
                    base = next
                    fast = isFast(base: base, timeBits: 25, filter: filter)
                    overflows &+= 1
                    periods &+= count
                } else if field <= 15 {
                    markers &+= 1
                } else {
                    bad = true
                    break
                }
                index &+= 1
                continue
            }
            // Sync (special, field 0) is channel 0; input field n is channel n + 1.
            let channel = UInt16(truncatingIfNeeded: (field &+ 1) & (special &- 1))
            guard let picoseconds = fast ? (base &+ time) &* unit : checked(base, time, channel, filter),
                picoseconds >= last
            else {
                bad = true
                break
            }
            out[written] = TimeTag(channel: channel, picoseconds: picoseconds)
            last = picoseconds
            written &+= 1
            index &+= 1
        }
        return (index, written, bad)
    }

    /// Why `record`, which ``decode(_:records:into:capacity:filter:)`` stopped at, is bad.
    func error(record: UInt32, filter: ChannelSet?, file: String, offset: UInt64) -> QRNGError {
        let channel: UInt16
        let time: UInt64
        let isOverflow: Bool
        switch layout {
        case .picoHarp:
            let field = record >> 28
            time = UInt64(record & 0x0FFF_FFFF)
            isOverflow = field == 0xF
            if field > 4 && field < 0xF {
                return .input("unknown channel \(field) (PicoHarp T2 records have channels 0 to 4)",
                    file: file, offset: offset, field: "channel")
            }
            channel = UInt16(field)
        case .hydraHarpV1, .hydraHarpV2:
            let field = (record >> 25) & 0x3F
            time = UInt64(record & 0x01FF_FFFF)
            let special = record & 0x8000_0000 != 0
            isOverflow = special && field == 0x3F
            if special && field > 15 && field < 0x3F {
                return .input("unknown special record: channel \(field) is neither sync, marker nor overflow",
                    file: file, offset: offset, field: "channel")
            }
            channel = special ? 0 : UInt16(field) + 1
        }
        if isOverflow {
            return .input("the overflow correction passes 2^64 ticks", file: file, offset: offset, field: "overflow")
        }
        guard case (let ticks, false) = base.addingReportingOverflow(time), let picoseconds = picoseconds(ticks) else {
            return .input("the timestamp passes 2^64 ps", file: file, offset: offset, field: "timestamp")
        }
        if !(filter?.contains(channel) ?? true) {
            return .input("unknown channel \(channel): not among the channels accepted",
                file: file, offset: offset, field: "channel")
        }
        return .input("timestamp \(picoseconds) ps goes backwards (previous \(last) ps)",
            file: file, offset: offset, field: "timestamp")
    }
}

extension T2Decoder: FixedSizeRecordDecoder {
    static var recordSize: Int { 4 }
    static var recordCountField: String { PTUFormat.numberOfRecordsTag }
    var recordsConsumed: UInt64 { counts.records }
    var recordsToStopAt: UInt64? { declaredRecords }

    mutating func decode(
        _ bytes: UnsafeRawPointer, records: Int, into out: UnsafeMutablePointer<TimeTag>, capacity: Int
    ) -> (consumed: Int, written: Int, bad: Bool) {
        decode(bytes, records: records, into: out, capacity: capacity, filter: filter)
    }

    func badRecordError(in input: ByteInput) -> QRNGError {
        error(record: input.bytes.littleEndian(UInt32.self, at: 0), filter: filter, file: input.name, offset: input.offset)
    }

    mutating func skipBadRecord() { counts.records += 1 }

    func recordCountError(in input: ByteInput) -> QRNGError? {
        guard let declared = declaredRecords, counts.records != declared else { return nil }
        return .input(
            "the input ends after \(counts.records) of the \(declared) records the header declares",
            file: input.name, offset: input.offset, field: Self.recordCountField)
    }
}
