/// A time-tag format whose records all have one size: what ``RecordStream`` needs to read it.
protocol FixedSizeRecordDecoder {
    /// Bytes per record.
    static var recordSize: Int { get }
    /// Records consumed so far, good or skipped.
    var recordsConsumed: UInt64 { get }
    /// The record count the header declares, when the format stops there; `nil` to read to the input's end.
    var recordsToStopAt: UInt64? { get }

    /// Decodes records from `bytes` until `records` are consumed, `capacity` tags are written, or a record is bad.
    ///
    /// - Returns: the records consumed (now counted in ``recordsConsumed``), the tags written, and whether the next
    ///   record is bad (not consumed).
    mutating func decode(
        _ bytes: UnsafeRawPointer, records: Int, into out: UnsafeMutablePointer<TimeTag>, capacity: Int
    ) -> (consumed: Int, written: Int, bad: Bool)

    /// The error for the bad record at the front of `input`, naming its field and offset.
    func badRecordError(in input: ByteInput) -> QRNGError

    /// Counts the bad record at the front of the input as consumed, once it has been skipped.
    mutating func skipBadRecord()

    /// The error for the record count at the input's end, when it disagrees with the header's; `nil` otherwise.
    func recordCountError(in input: ByteInput) -> QRNGError?

    /// The name of the header field that declares the record count, as errors name it.
    static var recordCountField: String { get }
}

/// Reads a fixed-size-record format from a ``ByteInput``: decodes whole records in batches straight out of the
/// input's window, hands on what it has rather than wait on a pipe for more, reports a bad record under the
/// ``ErrorPolicy`` and skips it, and at the end reports a truncated record and a count the header disagrees with.
struct RecordStream<Decoder: FixedSizeRecordDecoder> {
    let input: ByteInput
    var decoder: Decoder
    var errors: RecordErrors
    private var finished = false

    init(input: ByteInput, decoder: Decoder, errorPolicy: ErrorPolicy) {
        self.input = input
        self.decoder = decoder
        self.errors = RecordErrors(policy: errorPolicy)
    }

    mutating func read(into buffer: UnsafeMutableBufferPointer<TimeTag>) throws(QRNGError) -> Int {
        try errors.check()
        let size = Decoder.recordSize
        var produced = 0
        while produced < buffer.count && !finished {
            var records = input.availableCount / size
            if let declared = decoder.recordsToStopAt {
                if decoder.recordsConsumed >= declared {
                    guard try finish(atDeclaredEnd: true) else { break }
                    continue
                }
                records = Int(min(UInt64(records), declared - decoder.recordsConsumed))
            }
            if records == 0 {
                if produced > 0 { break }  // hand on what we have rather than wait on a pipe for more
                if try !input.refill() {
                    guard try finish(atDeclaredEnd: false) else { break }
                }
                continue
            }
            let (consumed, written, bad) = decoder.decode(
                input.bytes.baseAddress!, records: records, into: buffer.baseAddress! + produced,
                capacity: buffer.count - produced)
            produced += written
            input.consume(consumed * size)
            guard bad else { continue }
            guard errors.report(decoder.badRecordError(in: input)) else { break }
            decoder.skipBadRecord()
            input.consume(size)
        }
        if produced == 0 { try errors.check() }
        return produced
    }

    /// Handles the end of the records: data after the last declared one, a truncated record, or a count the
    /// header disagrees with.
    ///
    /// - Returns: whether to go on (a defect was skipped); `finished` is set either way.
    private mutating func finish(atDeclaredEnd: Bool) throws(QRNGError) -> Bool {
        finished = true
        if atDeclaredEnd {
            guard try !input.isAtEnd() else { return true }
            return errors.report(
                .input(
                    "data after the last of the \(decoder.recordsConsumed) records the header declares",
                    file: input.name, offset: input.offset, field: Decoder.recordCountField))
        }
        let remainder = input.availableCount
        if remainder > 0 {
            let error = QRNGError.input(
                "truncated record: the input ends \(remainder) bytes into a \(Decoder.recordSize)-byte record",
                file: input.name, offset: input.offset, field: "record")
            input.consume(remainder)
            guard errors.report(error) else { return false }
        }
        if let error = decoder.recordCountError(in: input) {
            guard errors.report(error) else { return false }
        }
        return true
    }
}
