/// What a reader does with a malformed record.
///
/// Header errors (wrong magic, an unsupported version or record type, a header value out of range) always stop a
/// reader: without a valid header no record can be read. Record errors (a truncated record, an unknown record type
/// or channel, a timestamp going backwards, a malformed CSV line) follow the policy.
public enum ErrorPolicy: String, Sendable, Hashable, CaseIterable {
    /// Stop: the records before the bad one are delivered, then the reader throws the error, and throws it again on
    /// every later read.
    case stop
    /// Skip the bad record, count it in the reader's ``SkippedRecords`` and go on.
    case skip
}

/// The records a reader skipped under ``ErrorPolicy/skip``.
public struct SkippedRecords: Sendable, Hashable {
    /// How many defects were skipped: each malformed record, truncated last record, or record count that disagrees
    /// with the header counts once.
    public internal(set) var count: UInt64 = 0
    /// The first defect skipped, with its file, byte offset and field.
    public internal(set) var first: QRNGError?
    /// The latest defect skipped.
    public internal(set) var last: QRNGError?

    public init() {}
}

/// The error bookkeeping every reader shares: the policy, the skip report, and an error held back so that the
/// records parsed before it are delivered first.
struct RecordErrors {
    let policy: ErrorPolicy
    var skipped = SkippedRecords()
    /// The error that stopped the reader; thrown by every later read.
    var stopped: QRNGError?

    init(policy: ErrorPolicy) { self.policy = policy }

    /// Handles a record error: under ``ErrorPolicy/skip`` counts it and returns `true` (go on); under
    /// ``ErrorPolicy/stop`` keeps it to be thrown and returns `false`.
    mutating func report(_ error: QRNGError) -> Bool {
        switch policy {
        case .skip:
            skipped.count += 1
            if skipped.first == nil { skipped.first = error }
            skipped.last = error
            return true
        case .stop:
            stopped = error
            return false
        }
    }

    /// Throws the error that stopped the reader, if any.
    func check() throws(QRNGError) {
        if let stopped { throw stopped }
    }
}

extension QRNGError {
    /// Malformed input at `offset` of `file`, in `field`.
    static func input(_ message: String, file: String, offset: UInt64, field: String) -> QRNGError {
        QRNGError(.invalidInput, message, context: Context(file: file, byteOffset: offset, field: field))
    }
}

extension Provenance {
    /// The provenance of data read from `path` (`-` is standard input).
    static func recording(_ path: String) -> Provenance {
        Provenance(kind: .file, detail: path == "-" ? "standard input" : path)
    }
}
