import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A durable record of how far into a recording qrng has handed out randomness, so that a restart never hands
/// out the same bits again.
///
/// A recording is deterministic: run it through the same source configuration twice and the same samples come
/// out, and with them the same random bits. Whoever used the first run's bits (a QKD engine, a key store) would
/// get them again. So before any bit derived from a recording reaches a consumer, the pool asks the journal to
/// record the sample offset the bit reaches into (``record(consumedSamples:)``); the journal writes it to a new
/// file, fsyncs it, renames it over the old one and fsyncs the directory, and only then are the bits copied out.
/// A crash at any moment leaves either the old record or the new one, and the bits a consumer may have got are
/// always covered. The journal records ahead: a write reserves a stretch beyond the offset asked for (a quarter
/// second's consumption at the rate since the previous write, at least ``minimumReserveSamples``, at most
/// ``maximumReserveSamples``), so that a fast consumer costs about four durable writes a second, not one per
/// read; a crash loses at most that stretch of the recording (never serves it twice), and a clean stop
/// (``settle()``) gives back what was reserved but not handed out. The next run over the same recording resumes after the recorded offset
/// (``resumePosition``), or, when asked to start from the beginning, says that its output is re-used.
///
/// The recording is identified by its content, not its name: the SHA-256 of its first 64 KiB (all of it when
/// shorter), so that a renamed or copied recording is recognised and a different file at the same path is not.
/// The source configuration's fingerprint is stored beside it: the same recording read another way (other
/// channels, bins or sample width) gives other samples, at other offsets, from the same photons, so a journal
/// made under another configuration is refused rather than applied. A journal that cannot be parsed, whose
/// checksum does not match, or that belongs to another recording is an error naming the journal, never ignored.
public final class ConsumptionJournal: Sendable {
    /// The journal file.
    public let path: String
    /// The recording it covers, as given when opened.
    public let recordingPath: String
    /// The sample offset the run starts at: what earlier runs consumed, or 0 when starting from the beginning.
    public let resumePosition: UInt64
    /// Whether this run re-reads samples whose bits earlier runs handed out (``Resume/fromStart`` over a journal
    /// that had recorded consumption).
    public let reusesConsumedSamples: Bool

    private let identity: RecordingIdentity
    private let configurationFingerprint: String
    private let directory: String
    /// What is on disk (`durable`, reserved ahead), what consumers were handed (`handedOut`), and where and when
    /// the previous write asked for its offset.
    private let recorded: Mutex<Progress>
    private struct Progress {
        var durable: UInt64
        var handedOut: UInt64
        var lastAsked: UInt64
        var lastWrite: ContinuousClock.Instant
    }
    /// The least a write reserves beyond the offset it is asked for.
    public let minimumReserveSamples: UInt64
    /// The most a write reserves: what a crash can cost at worst.
    public static let maximumReserveSamples: UInt64 = 1 << 26
    /// The descriptor holding the exclusive lock on the recording's journal.
    private let lock: Int32

    /// The first bytes of a recording that identify it.
    /// 64 KiB: every format's header and its first records, so that a recording truncated or appended to later
    /// is still recognised (and a truncated one refused by its consumed count), while any other recording differs.
    public static let identifyingBytes = 1 << 16

    /// Where a run over a recording starts.
    public enum Resume: Sendable, Hashable {
        /// After the samples earlier runs consumed.
        case afterConsumed
        /// From the first sample, re-using what earlier runs consumed; the output must be labelled re-used.
        case fromStart
    }

    /// Opens (or creates) the journal of the recording at `recordingPath` in `stateDirectory`, and writes it at
    /// once, so that an unwritable state directory fails here, before anything is handed out.
    ///
    /// - Parameters:
    ///   - recordingPath: The recording; it must be a regular file (pipes and standard input are not journaled).
    ///   - configurationFingerprint: What determines the recording's samples and their offsets: the source
    ///     configuration, described the same way every run.
    ///   - stateDirectory: The directory for journals; created (mode 0700) when missing.
    ///   - resume: Whether to resume after the consumed samples or start from the beginning.
    /// - Returns: `nil` when `recordingPath` is not a regular file.
    /// - Throws: ``QRNGError/Code/invalidInput`` naming the journal when it is corrupt, belongs to another
    ///   recording or was made under another configuration; ``QRNGError/Code/systemCall`` when the state directory
    ///   cannot be written.
    ///   - minimumReserveSamples: The least each write records past what consumers were handed (64 Ki samples
    ///     by default: about 7 KB of output).
    public static func open(
        recordingPath: String, configurationFingerprint: String, stateDirectory: String, resume: Resume,
        minimumReserveSamples: UInt64 = 1 << 16
    ) throws(QRNGError) -> ConsumptionJournal? {
        guard let identity = try RecordingIdentity(path: recordingPath) else { return nil }
        try makeDirectory(stateDirectory)
        let path = stateDirectory + "/" + identity.prefixDigest + ".journal"
        // Two runs over one recording at once would both resume from the same offset: the second is refused.
        let lockPath = path + ".lock"
        let lock = Glibc.open(lockPath, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard lock >= 0 else {
            throw QRNGError(
                .systemCall, "cannot create the journal's lock; the state directory must be writable (--state-dir)",
                context: .init(file: lockPath, errno: errno))
        }
        guard flock(lock, LOCK_EX | LOCK_NB) == 0 else {
            close(lock)
            throw QRNGError(
                .invalidArgument,
                "another qrng process is reading \(recordingPath) now; two at once would hand out the same bits",
                context: .init(file: lockPath))
        }
        var keepLock = false
        defer { if !keepLock { close(lock) } }
        var consumed: UInt64 = 0
        if let existing = try JournalRecord.load(path: path) {
            guard existing.prefixDigest == identity.prefixDigest, existing.prefixBytes == identity.prefixBytes else {
                throw QRNGError(
                    .invalidInput,
                    "the journal belongs to another recording (\(existing.recordingPath)), not \(recordingPath)",
                    context: .init(file: path, field: "recording-prefix-sha256"))
            }
            guard existing.configurationFingerprint == configurationFingerprint else {
                throw QRNGError(
                    .invalidInput,
                    "the journal recorded \(existing.consumedSamples) samples of \(recordingPath) consumed under "
                        + "another source configuration; read this way, the recording would hand out bits from "
                        + "photons already used. Use the configuration of the journal, or --from-start to re-use "
                        + "the recording knowingly",
                    context: .init(file: path, field: "source-configuration-sha256"))
            }
            guard identity.size >= existing.recordingSize else {
                throw QRNGError(
                    .invalidInput,
                    "\(recordingPath) is \(identity.size) bytes, shorter than the \(existing.recordingSize) it had "
                        + "when \(existing.consumedSamples) of its samples were consumed: it was truncated or replaced. "
                        + "Move the journal away only if you know which of its samples were used",
                    context: .init(file: path, field: "recording-size"))
            }
            consumed = existing.consumedSamples
        }
        let journal = ConsumptionJournal(
            path: path, recordingPath: recordingPath, identity: identity,
            configurationFingerprint: configurationFingerprint, directory: stateDirectory, consumed: consumed,
            resume: resume, lock: lock, minimumReserveSamples: minimumReserveSamples)
        keepLock = true
        try journal.write(consumedSamples: consumed)
        return journal
    }

    private init(
        path: String, recordingPath: String, identity: RecordingIdentity, configurationFingerprint: String,
        directory: String, consumed: UInt64, resume: Resume, lock: Int32, minimumReserveSamples: UInt64
    ) {
        self.lock = lock
        self.minimumReserveSamples = minimumReserveSamples
        self.path = path
        self.recordingPath = recordingPath
        self.identity = identity
        self.configurationFingerprint = configurationFingerprint
        self.directory = directory
        self.resumePosition = resume == .afterConsumed ? consumed : 0
        self.reusesConsumedSamples = resume == .fromStart && consumed > 0
        self.recorded = Mutex(
            Progress(durable: consumed, handedOut: consumed, lastAsked: consumed, lastWrite: .now))
    }

    deinit {
        close(lock)
    }

    /// The sample offset consumers have been handed bits up to (at least what earlier runs consumed).
    public var consumedSamples: UInt64 { recorded.withLock { $0.handedOut } }

    /// The sample offset durably recorded: at least ``consumedSamples``, more while a stretch is reserved.
    public var durableSamples: UInt64 { recorded.withLock { $0.durable } }

    /// Durable writes made since the journal was opened (the first, at opening, included).
    public var writes: Int { writeCount.withLock { $0 } }
    private let writeCount = Mutex(0)

    /// Makes sure the journal durably records at least `consumedSamples`; returns once it does.
    ///
    /// The record only grows: a smaller offset than the recorded one (as when re-using a recording from the
    /// start) changes nothing. A write records a stretch further (see the type's description), so the next
    /// calls return at once. Concurrent callers are served one at a time, and a caller whose offset another
    /// caller's write already covers returns at once.
    public func record(consumedSamples: UInt64) throws(QRNGError) {
        try recorded.withLock { (current: inout Progress) throws(QRNGError) in
            if consumedSamples > current.durable {
                let now = ContinuousClock.now
                let elapsed = max(1e-6, Double((now - current.lastWrite) / .microseconds(1)) / 1e6)
                let rate = Double(consumedSamples - min(consumedSamples, current.lastAsked)) / elapsed
                let reserve = UInt64(min(Double(Self.maximumReserveSamples), max(Double(minimumReserveSamples), rate / 4)))
                let (ahead, overflow) = consumedSamples.addingReportingOverflow(reserve)
                let target = overflow ? UInt64.max : ahead
                try write(consumedSamples: target)
                current.durable = target
                current.lastAsked = consumedSamples
                current.lastWrite = now
            }
            current.handedOut = max(current.handedOut, consumedSamples)
        }
    }

    /// On a clean stop: records exactly what consumers were handed, giving back the reserved stretch, so that
    /// the next run loses nothing. Safe at any moment: nothing past ``consumedSamples`` was handed out.
    public func settle() throws(QRNGError) {
        try recorded.withLock { (current: inout Progress) throws(QRNGError) in
            guard current.durable > current.handedOut else { return }
            try write(consumedSamples: current.handedOut)
            current.durable = current.handedOut
        }
    }

    private func write(consumedSamples: UInt64) throws(QRNGError) {
        let record = JournalRecord(
            prefixDigest: identity.prefixDigest, prefixBytes: identity.prefixBytes, recordingSize: identity.size,
            recordingPath: recordingPath, configurationFingerprint: configurationFingerprint,
            consumedSamples: consumedSamples)
        try record.writeDurably(path: path, directory: directory)
        writeCount.withLock { $0 += 1 }
    }

    private static func makeDirectory(_ path: String) throws(QRNGError) {
        var status = stat()
        if stat(path, &status) == 0 {
            guard status.st_mode & S_IFMT == S_IFDIR else {
                throw QRNGError(.invalidArgument, "the state directory is not a directory", context: .init(file: path))
            }
            return
        }
        // Create the missing parents too, as `mkdir -p` does.
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o700) != 0 && errno != EEXIST {
                throw QRNGError(
                    .systemCall, "cannot create the state directory", context: .init(file: prefix, errno: errno))
            }
        }
    }
}

/// What identifies a recording: the SHA-256 of its first bytes, and its size when the journal was opened.
struct RecordingIdentity: Sendable {
    let prefixDigest: String
    let prefixBytes: Int
    let size: UInt64

    /// Reads the first ``ConsumptionJournal/identifyingBytes`` of `path`; `nil` when it is not a regular file.
    init?(path: String) throws(QRNGError) {
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw QRNGError(.systemCall, "cannot stat the recording", context: .init(file: path, errno: errno))
        }
        guard status.st_mode & S_IFMT == S_IFREG else { return nil }
        let file = try ReadableFile(path: path)
        var bytes = [UInt8](repeating: 0, count: ConsumptionJournal.identifyingBytes)
        let count = try file.read(into: &bytes)
        self.prefixDigest = hexString(SHA256.hash(Array(bytes[0..<count])))
        self.prefixBytes = count
        self.size = UInt64(status.st_size)
    }
}

/// One journal file's contents: `key: value` lines, the last a SHA-256 of the ones before it.
struct JournalRecord: Sendable, Hashable {
    static let magic = "qrng consumption journal v1"

    var prefixDigest: String
    var prefixBytes: Int
    var recordingSize: UInt64
    var recordingPath: String
    var configurationFingerprint: String
    var consumedSamples: UInt64

    var body: String {
        """
        \(Self.magic)
        recording-prefix-sha256: \(prefixDigest)
        recording-prefix-bytes: \(prefixBytes)
        recording-size: \(recordingSize)
        recording-path: \(recordingPath)
        source-configuration-sha256: \(configurationFingerprint)
        consumed-samples: \(consumedSamples)

        """
    }

    var text: String { body + "checksum: " + hexString(SHA256.hash(Array(body.utf8))) + "\n" }

    /// The record in `path`, or `nil` when there is no such file.
    static func load(path: String) throws(QRNGError) -> JournalRecord? {
        guard access(path, F_OK) == 0 else { return nil }
        let bytes: [UInt8]
        do {
            bytes = try ReadableFile(path: path).readAll(limit: 1 << 16)
        } catch where error.code == .invalidInput {
            throw QRNGError(.invalidInput, "the journal is too large to be one", context: .init(file: path))
        }
        return try parse(String(decoding: bytes, as: UTF8.self), path: path)
    }

    static func parse(_ text: String, path: String) throws(QRNGError) -> JournalRecord {
        func corrupt(_ field: String, _ why: String, at line: Int) -> QRNGError {
            QRNGError(
                .invalidInput, "the journal is corrupt (line \(line)): \(why); it was not written by qrng, or was "
                    + "damaged. Move it away only if you know which samples of the recording were used",
                context: .init(file: path, field: field))
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard lines.first == magic else { throw corrupt("header", "it does not start with '\(magic)'", at: 1) }
        var fields: [String: String] = [:]
        var checksumLine: Int?
        for (index, line) in lines.enumerated().dropFirst() where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { throw corrupt("line", "no 'key: value'", at: index + 1) }
            let key = String(line[..<colon])
            let value = String(line[line.index(after: colon)...]).drop(while: { $0 == " " })
            guard fields[key] == nil else { throw corrupt(key, "the field appears twice", at: index + 1) }
            fields[key] = String(value)
            if key == "checksum" { checksumLine = index }
        }
        guard let checksumLine, let checksum = fields["checksum"] else {
            throw corrupt("checksum", "the checksum line is missing (a truncated write?)", at: lines.count)
        }
        let body = lines[..<checksumLine].joined(separator: "\n") + "\n"
        guard hexString(SHA256.hash(Array(body.utf8))) == checksum else {
            throw corrupt("checksum", "the checksum does not match the contents", at: checksumLine + 1)
        }
        func field(_ key: String) throws(QRNGError) -> String {
            guard let value = fields[key] else { throw corrupt(key, "the field '\(key)' is missing", at: checksumLine) }
            return value
        }
        func number(_ key: String) throws(QRNGError) -> UInt64 {
            guard let value = UInt64(try field(key)) else {
                throw corrupt(key, "'\(key)' is not a non-negative integer", at: checksumLine)
            }
            return value
        }
        return JournalRecord(
            prefixDigest: try field("recording-prefix-sha256"), prefixBytes: Int(try number("recording-prefix-bytes")),
            recordingSize: try number("recording-size"), recordingPath: try field("recording-path"),
            configurationFingerprint: try field("source-configuration-sha256"),
            consumedSamples: try number("consumed-samples"))
    }

    /// Writes the record to a temporary file beside `path`, fsyncs it, renames it over `path` and fsyncs
    /// `directory`, so that `path` holds the old record or the new one, whole, whenever the machine stops.
    func writeDurably(path: String, directory: String) throws(QRNGError) {
        let temporary = path + ".new"
        let descriptor = Glibc.open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard descriptor >= 0 else {
            throw QRNGError(
                .systemCall, "cannot write the consumption journal; the state directory must be writable (--state-dir)",
                context: .init(file: temporary, errno: errno))
        }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { buffer in
            Result { () throws(QRNGError) in try writeAll(buffer, to: descriptor, path: temporary) }
        }
        if case .failure(let error) = written {
            close(descriptor)
            unlink(temporary)
            throw error
        }
        let synced = fsync(descriptor)
        let syncError = errno
        close(descriptor)
        guard synced == 0 else {
            unlink(temporary)
            throw QRNGError(.systemCall, "cannot fsync the journal", context: .init(file: temporary, errno: syncError))
        }
        guard rename(temporary, path) == 0 else {
            let renameError = errno
            unlink(temporary)
            throw QRNGError(.systemCall, "cannot replace the journal", context: .init(file: path, errno: renameError))
        }
        let directoryDescriptor = Glibc.open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directoryDescriptor >= 0 else {
            throw QRNGError(
                .systemCall, "cannot open the state directory to fsync it",
                context: .init(file: directory, errno: errno))
        }
        defer { close(directoryDescriptor) }
        guard fsync(directoryDescriptor) == 0 else {
            throw QRNGError(
                .systemCall, "cannot fsync the state directory", context: .init(file: directory, errno: errno))
        }
    }
}
