import Synchronization

/// Reads time tags from text: one `channel,timestamp_ps` line per tag.
///
/// What is accepted:
/// - Lines end with LF or CRLF; the last line may lack its line end.
/// - Each tag line is two unsigned decimal integers separated by one comma: the channel (0 to 65535) and the
///   timestamp in picoseconds (0 to 2⁶⁴ − 1). Spaces and tabs around either field are allowed; signs, decimal
///   points, exponents and further fields are not.
/// - Blank lines and lines whose first non-blank character is `#` are skipped.
/// - The first line that is neither may be the header `channel,timestamp_ps` (any letter case).
/// - A line may hold at most 1024 bytes, so that the reader's memory stays bounded.
///
/// Errors name the byte offset of the field at fault: "channel", "timestamp_ps", or "line" for a line of the
/// wrong shape.
public final class CSVTimeTagReader: RecordedTimeTagReader {
    public let path: String
    public let provenance: Provenance
    private let state: Mutex<State>

    /// The longest line accepted, in bytes, line end included.
    public static let maximumLineLength = 1024

    public convenience init(recording: sending RecordedInput, options: TimeTagReadOptions) {
        self.init(input: recording.input, options: options)
    }

    init(input: sending ByteInput, options: TimeTagReadOptions) {
        path = input.name
        provenance = .recording(input.name)
        state = Mutex(State(input: input, options: options))
    }

    /// The window must hold a whole line.
    public static func windowBytes(_ options: TimeTagReadOptions) -> Int {
        max(options.bufferBytes, maximumLineLength)
    }

    public var resolutionPicoseconds: Double? { nil }

    public var skipped: SkippedRecords { state.withLock { $0.errors.skipped } }

    public func read(into buffer: UnsafeMutableBufferPointer<TimeTag>) throws(QRNGError) -> Int {
        let lent = LentTags(buffer)
        return try state.withLock { state throws(QRNGError) in try state.read(into: lent.buffer) }
    }

    private struct State {
        let input: ByteInput
        let filter: ChannelSet?
        var errors: RecordErrors
        var lastTimestamp: UInt64 = 0
        /// Whether a tag line or the header was seen (after which a header is an error).
        var pastHeader = false
        /// Set after an over-long line was skipped, until its line end.
        var discardingLine = false
        var finished = false

        init(input: ByteInput, options: TimeTagReadOptions) {
            self.input = input
            self.filter = options.channels
            self.errors = RecordErrors(policy: options.errorPolicy)
        }

        mutating func read(into buffer: UnsafeMutableBufferPointer<TimeTag>) throws(QRNGError) -> Int {
            try errors.check()
            var produced = 0
            lines: while produced < buffer.count && !finished {
                let bytes = input.bytes
                guard let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) else {
                    if discardingLine {
                        input.consume(bytes.count)
                    } else if bytes.count >= CSVTimeTagReader.maximumLineLength {
                        let error = QRNGError.input(
                            "line longer than \(CSVTimeTagReader.maximumLineLength) bytes",
                            file: input.name, offset: input.offset, field: "line")
                        guard errors.report(error) else { break lines }
                        input.consume(bytes.count)
                        discardingLine = true
                        continue
                    }
                    if produced > 0 && !input.reachedEnd { break }  // hand on what we have
                    if try !input.refill() {
                        finished = true
                        // The last line may lack its line end.
                        if !discardingLine && input.availableCount > 0 {
                            let count = input.availableCount
                            guard parse(line: input.bytes, into: buffer, at: &produced) else { break lines }
                            input.consume(count)
                        }
                    }
                    continue
                }
                if discardingLine {
                    input.consume(newline + 1)
                    discardingLine = false
                    continue
                }
                if newline >= CSVTimeTagReader.maximumLineLength {
                    let error = QRNGError.input(
                        "line longer than \(CSVTimeTagReader.maximumLineLength) bytes",
                        file: input.name, offset: input.offset, field: "line")
                    guard errors.report(error) else { break lines }
                    input.consume(newline + 1)
                    continue
                }
                guard parse(line: UnsafeRawBufferPointer(rebasing: bytes[0..<newline]), into: buffer, at: &produced)
                else { break }
                input.consume(newline + 1)
            }
            if produced == 0 { try errors.check() }
            return produced
        }

        /// Parses one line (without its LF) at the front of the input, writing a tag if it is one.
        ///
        /// - Returns: `false` when the line is bad and the policy stops the reader (the line is left unconsumed).
        private mutating func parse(
            line: UnsafeRawBufferPointer, into buffer: UnsafeMutableBufferPointer<TimeTag>, at produced: inout Int
        ) -> Bool {
            var end = line.count
            if end > 0 && line[end - 1] == UInt8(ascii: "\r") { end -= 1 }
            let start = line[0..<end].firstIndex { !Self.isBlank($0) } ?? end
            if start == end || line[start] == UInt8(ascii: "#") { return true }
            guard let comma = line[start..<end].firstIndex(of: UInt8(ascii: ",")) else {
                return errors.report(.input("expected \"channel,timestamp_ps\"", file: input.name,
                    offset: input.offset + UInt64(start), field: "line"))
            }
            let first = line[start..<comma]
            let second = line[(comma + 1)..<end]
            if !pastHeader, let letter = first.first, Self.isLetter(letter) {
                pastHeader = true
                guard Self.equalsIgnoringCase(first, "channel"), Self.equalsIgnoringCase(second, "timestamp_ps") else {
                    return errors.report(.input("the header line must be \"channel,timestamp_ps\"",
                        file: input.name, offset: input.offset + UInt64(start), field: "header"))
                }
                return true
            }
            pastHeader = true
            let channelOffset = input.offset + UInt64(start)
            let timeOffset = input.offset + UInt64(comma + 1)
            guard let channel = Self.number(first), channel <= UInt64(UInt16.max) else {
                return errors.report(.input("channel is not an integer from 0 to 65535",
                    file: input.name, offset: channelOffset, field: "channel"))
            }
            guard let time = Self.number(second) else {
                let hasComma = second.contains(UInt8(ascii: ","))
                return errors.report(.input(
                    hasComma ? "more than two fields" : "timestamp is not an integer from 0 to 2^64 - 1",
                    file: input.name, offset: timeOffset, field: hasComma ? "line" : "timestamp_ps"))
            }
            guard filter?.contains(UInt16(channel)) ?? true else {
                return errors.report(.input("unknown channel \(channel): not among the channels accepted",
                    file: input.name, offset: channelOffset, field: "channel"))
            }
            guard time >= lastTimestamp else {
                return errors.report(.input("timestamp \(time) ps goes backwards (previous \(lastTimestamp) ps)",
                    file: input.name, offset: timeOffset, field: "timestamp_ps"))
            }
            buffer[produced] = TimeTag(channel: UInt16(channel), picoseconds: time)
            produced += 1
            lastTimestamp = time
            return true
        }

        private static func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }

        private static func isLetter(_ byte: UInt8) -> Bool { (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A }

        /// An unsigned decimal integer with optional blanks around it, or `nil`.
        private static func number(_ field: Slice<UnsafeRawBufferPointer>) -> UInt64? {
            guard let first = field.firstIndex(where: { !isBlank($0) }) else { return nil }
            let last = field.lastIndex(where: { !isBlank($0) })!
            var value: UInt64 = 0
            for byte in field[first...last] {
                guard byte >= 0x30 && byte <= 0x39 else { return nil }
                let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times10.addingReportingOverflow(UInt64(byte - 0x30))
                if overflow1 || overflow2 { return nil }
                value = sum
            }
            return value
        }

        private static func equalsIgnoringCase(_ field: Slice<UnsafeRawBufferPointer>, _ word: String) -> Bool {
            let trimmed = field.drop { isBlank($0) }.reversed().drop { isBlank($0) }.reversed()
            return trimmed.count == word.utf8.count
                && zip(trimmed, word.utf8).allSatisfy { (isLetter($0) ? $0 | 0x20 : $0) == $1 }
        }
    }
}

/// Writes time tags as text: the header line `channel,timestamp_ps`, then one `channel,timestamp_ps` line per tag,
/// each ending with LF.
public final class CSVTimeTagWriter {
    private let sink: ByteSink
    private var pending: [UInt8] = []
    private var lastTimestamp: UInt64 = 0
    private let allowsBackwards: Bool
    private static let flushSize = 1 << 16

    /// Writes the header line.
    ///
    /// - Parameters:
    ///   - sink: Where the text goes.
    ///   - allowsTimestampsGoingBackwards: Write decreasing timestamps as given (to simulate a faulty time
    ///     tagger) instead of refusing them; readers then report them as bad records.
    public init(sink: ByteSink, allowsTimestampsGoingBackwards: Bool = false) throws(QRNGError) {
        self.sink = sink
        self.allowsBackwards = allowsTimestampsGoingBackwards
        try sink.write(Array("channel,timestamp_ps\n".utf8))
    }

    /// Appends `tags`; timestamps must not decrease.
    public func write(_ tags: some Sequence<TimeTag>) throws(QRNGError) {
        for tag in tags {
            guard tag.picoseconds >= lastTimestamp || allowsBackwards else {
                throw .invalidArgument("timestamp", "\(tag.picoseconds) ps is before the previous \(lastTimestamp) ps")
            }
            pending += "\(tag.channel),\(tag.picoseconds)\n".utf8
            lastTimestamp = tag.picoseconds
            if pending.count >= Self.flushSize { try flush() }
        }
    }

    /// Writes what is buffered.
    public func finish() throws(QRNGError) { try flush() }

    private func flush() throws(QRNGError) {
        guard !pending.isEmpty else { return }
        try sink.write(pending)
        pending.removeAll(keepingCapacity: true)
    }
}
