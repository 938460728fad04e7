/// One detection event from a time tagger: when, in picoseconds, and on which input channel.
///
/// Readers deliver tags in the order of the file, with timestamps that never decrease (a reader treats a step
/// back as an error). Channel numbers follow each format's own mapping; README.md documents them, and for PTU
/// files channel 0 is the sync input and channels 1 and up are the detector inputs.
public struct TimeTag: Sendable, Hashable {
    /// The time of the event, in picoseconds from the start of the recording.
    public var picoseconds: UInt64
    /// The input channel.
    public var channel: UInt16

    public init(channel: UInt16, picoseconds: UInt64) {
        self.channel = channel
        self.picoseconds = picoseconds
    }
}

/// A set of channel numbers, with a constant-time membership test for the readers' inner loops.
public struct ChannelSet: Sendable, Hashable, ExpressibleByArrayLiteral {
    /// One bit per channel, 65,536 in all.
    private var words: [UInt64]

    /// The set of `channels`.
    public init(_ channels: some Sequence<UInt16>) {
        words = [UInt64](repeating: 0, count: 1024)
        for channel in channels { words[Int(channel >> 6)] |= 1 << UInt64(channel & 63) }
    }

    public init(arrayLiteral channels: UInt16...) {
        self.init(channels)
    }

    /// Whether `channel` is in the set.
    public func contains(_ channel: UInt16) -> Bool {
        words.withUnsafeBufferPointer { ($0[Int(channel >> 6)] >> UInt64(channel & 63)) & 1 == 1 }
    }

    /// The channels, in increasing order.
    public var channels: [UInt16] {
        (0...UInt16.max).filter { contains($0) }
    }
}

/// What every time-tag reader is configured with.
public struct TimeTagReadOptions: Sendable, Hashable {
    /// What to do with a malformed record.
    public var errorPolicy: ErrorPolicy
    /// The channels a tag may have; a tag on any other is an "unknown channel" error. `nil` accepts every channel
    /// the format itself allows.
    public var channels: ChannelSet?
    /// The size of the read window in bytes: the reader's memory use, whatever the size of the file.
    public var bufferBytes: Int

    public init(errorPolicy: ErrorPolicy = .stop, channels: ChannelSet? = nil, bufferBytes: Int = 1 << 18) {
        self.errorPolicy = errorPolicy
        self.channels = channels
        self.bufferBytes = bufferBytes
    }
}

/// A stream of time tags read from a file, a named pipe or standard input, in constant memory.
///
/// A reader fills the caller's buffer with as many tags as it can, never one tag per call. It reads its input
/// through a fixed window (``TimeTagReadOptions/bufferBytes``), so it can follow a pipe that never ends. On a
/// pipe it hands on what has arrived rather than wait for a full buffer.
///
/// Readers are reference types: a reader is one position in one stream, and every holder of it sees the same
/// position. They are `Sendable` (their state is behind a lock) so that a source built on one can move to the
/// producer thread.
///
/// Malformed input gives a ``QRNGError`` with code ``QRNGError/Code/invalidInput`` that names the file, the byte
/// offset and the field; ``TimeTagReadOptions/errorPolicy`` decides whether a bad record stops the reader or is
/// skipped and counted in ``skipped``. Tags delivered before an error are never lost: the reader returns them
/// first and throws on the next call.
public protocol TimeTagReader: AnyObject, Sendable {
    /// Where the tags come from.
    var provenance: Provenance { get }
    /// The path of the input (`-` for standard input), as error messages name it.
    var path: String { get }
    /// The instrument's timing resolution in picoseconds, when the format records it.
    var resolutionPicoseconds: Double? { get }
    /// The records skipped so far under ``ErrorPolicy/skip``.
    var skipped: SkippedRecords { get }

    /// Writes the next tags into `buffer`, from its start.
    ///
    /// - Returns: how many were written; 0 only at the end of the input (or for an empty buffer).
    func read(into buffer: UnsafeMutableBufferPointer<TimeTag>) throws(QRNGError) -> Int
}

extension TimeTagReader {
    /// Replaces the contents of `tags` with the next tags, at most `maximumCount` of them.
    ///
    /// - Returns: `false` at the end of the input, when no tag was read.
    public func read(into tags: inout [TimeTag], maximumCount: Int) throws(QRNGError) -> Bool {
        precondition(maximumCount > 0, "read at least one tag")
        if tags.count < maximumCount {
            let zero = TimeTag(channel: 0, picoseconds: 0)
            tags.append(contentsOf: repeatElement(zero, count: maximumCount - tags.count))
        }
        let outcome = tags.withUnsafeMutableBufferPointer { buffer in
            Result { () throws(QRNGError) in
                try read(into: UnsafeMutableBufferPointer(rebasing: buffer[0..<maximumCount]))
            }
        }
        let count: Int
        do {
            count = try outcome.get()
        } catch {
            tags.removeAll(keepingCapacity: true)
            throw error
        }
        tags.removeLast(tags.count - count)
        return count > 0
    }

    /// Reads every remaining tag. Meant for tests and small files: it holds them all in memory.
    public func readAll(chunk: Int = 1 << 14) throws(QRNGError) -> [TimeTag] {
        var result: [TimeTag] = []
        var tags: [TimeTag] = []
        while try read(into: &tags, maximumCount: chunk) { result += tags }
        return result
    }
}

/// The caller's tag buffer, lent to a reader's locked state for one call: it is written only during the call and
/// never kept, so it does not tie that state to the caller's isolation.
struct LentTags: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<TimeTag>
    init(_ buffer: UnsafeMutableBufferPointer<TimeTag>) { self.buffer = buffer }
}

/// A reader of a recorded time-tag format, opened on a path, an open file or bytes in memory.
///
/// Every recorded format opens the same way: the three initialisers below make the ``RecordedInput`` its
/// ``init(recording:options:)`` decodes, so a format declares only how to read its header and records.
public protocol RecordedTimeTagReader: TimeTagReader {
    /// Reads the header from `recording` (made by one of the initialisers of this protocol's extension) and
    /// prepares to read its records.
    init(recording: sending RecordedInput, options: TimeTagReadOptions) throws(QRNGError)

    /// The bytes of input to keep in memory at a time: the options' buffer size, or more if the format needs a
    /// larger piece in one go.
    static func windowBytes(_ options: TimeTagReadOptions) -> Int
}

/// The bytes a recorded format's reader decodes: a file, a pipe, standard input or bytes in memory, read
/// through a window of fixed size. Made only by ``RecordedTimeTagReader``'s initialisers.
public struct RecordedInput {
    let input: ByteInput
}

extension RecordedTimeTagReader {
    public static func windowBytes(_ options: TimeTagReadOptions) -> Int { options.bufferBytes }

    /// Opens `path` (`nil` or `-` for standard input) and reads the header.
    public init(path: String?, options: TimeTagReadOptions = TimeTagReadOptions()) throws(QRNGError) {
        let input = try ByteInput(path: path, capacity: Self.windowBytes(options))
        try self.init(recording: RecordedInput(input: input), options: options)
    }

    /// Reads from an open file and reads the header.
    public init(file: sending ReadableFile, options: TimeTagReadOptions = TimeTagReadOptions()) throws(QRNGError) {
        let input = ByteInput(file: file, capacity: Self.windowBytes(options))
        try self.init(recording: RecordedInput(input: input), options: options)
    }

    /// Reads from bytes in memory, handed over at most `pieceSize` at a time as a pipe would; for tests and
    /// fuzzing.
    public init(
        bytes: [UInt8], name: String = "memory", pieceSize: Int = .max,
        options: TimeTagReadOptions = TimeTagReadOptions()
    ) throws(QRNGError) {
        let input = ByteInput(bytes: bytes, name: name, pieceSize: pieceSize, capacity: Self.windowBytes(options))
        try self.init(recording: RecordedInput(input: input), options: options)
    }
}
