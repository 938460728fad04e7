import Synchronization

/// The header of qrng's packed click format: per-pulse detector outcomes, 2 bits per pulse, after a 32-byte header.
///
/// | Offset | Size | Field | Value |
/// |---|---|---|---|
/// | 0 | 8 | magic | `QRNGCLIK` (ASCII) |
/// | 8 | 2 | version | 1 |
/// | 10 | 2 | header size | 32 |
/// | 12 | 2 | bits per pulse | 2 |
/// | 14 | 2 | reserved | 0 |
/// | 16 | 8 | pulse count | the number of pulses, or `0xFFFF_FFFF_FFFF_FFFF` when unknown (a stream) |
/// | 24 | 8 | pulse period | in picoseconds; 0 when unknown |
///
/// Integers are little-endian. Pulse *i* is in byte 32 + ⌊*i*/4⌋, most significant pair first: bits 7–6 hold
/// pulse 4*j*, bits 5–4 pulse 4*j*+1, and so on. Each pair is the ``ClickOutcome`` raw value: 0 none, 1 D0 only,
/// 2 D1 only, 3 both (the high bit is D1, the low bit D0). With a known count the unused pairs of the last byte are
/// zero and nothing follows; with an unknown count every pair of every byte is a pulse (a writer that could not
/// record the count pads the last byte with up to three empty pulses).
public struct PackedClickHeader: Sendable, Hashable {
    /// The eight bytes every file starts with.
    public static let magic: [UInt8] = Array("QRNGCLIK".utf8)
    /// The format version this library reads and writes.
    public static let version: UInt16 = 1
    /// The size of the header in bytes.
    public static let size = 32
    static let unknownCount = UInt64.max

    /// The number of pulses, or `nil` when unknown.
    public var pulseCount: UInt64?
    /// The pulse period in picoseconds, or 0 when unknown.
    public var pulsePeriodPicoseconds: UInt64

    public init(pulseCount: UInt64? = nil, pulsePeriodPicoseconds: UInt64 = 0) {
        self.pulseCount = pulseCount
        self.pulsePeriodPicoseconds = pulsePeriodPicoseconds
    }

    /// The 32 header bytes.
    public var encoded: [UInt8] {
        var bytes = Self.magic
        bytes.appendLittleEndian(Self.version)
        bytes.appendLittleEndian(UInt16(Self.size))
        bytes.appendLittleEndian(UInt16(2))
        bytes.appendLittleEndian(UInt16(0))
        bytes.appendLittleEndian(pulseCount ?? Self.unknownCount)
        bytes.appendLittleEndian(pulsePeriodPicoseconds)
        return bytes
    }
}

/// Reads qrng's packed click format (see ``PackedClickHeader``) as a ``ClickSource``, in constant memory.
///
/// The header is read and checked when the reader is created. At the end, a count short of the header's, padding
/// pairs that are not zero and data after the last pulse are errors under ``ErrorPolicy/stop``, and counted in
/// ``skipped`` under ``ErrorPolicy/skip``.
public final class PackedClickReader: ClickSource {
    public let path: String
    public let provenance: Provenance
    /// The file's header.
    public let header: PackedClickHeader
    private let state: Mutex<State>

    /// Opens `path` (`nil` or `-` for standard input) and reads the header.
    public convenience init(path: String?, errorPolicy: ErrorPolicy = .stop, bufferBytes: Int = 1 << 18)
        throws(QRNGError)
    {
        try self.init(input: ByteInput(path: path, capacity: bufferBytes), errorPolicy: errorPolicy)
    }

    /// Reads from an open file and reads the header.
    public convenience init(file: sending ReadableFile, errorPolicy: ErrorPolicy = .stop, bufferBytes: Int = 1 << 18)
        throws(QRNGError)
    {
        try self.init(input: ByteInput(file: file, capacity: bufferBytes), errorPolicy: errorPolicy)
    }

    /// Reads from bytes in memory, handed over at most `pieceSize` at a time as a pipe would; for tests and
    /// fuzzing.
    public convenience init(
        bytes: [UInt8], name: String = "memory", pieceSize: Int = .max, errorPolicy: ErrorPolicy = .stop,
        bufferBytes: Int = 1 << 18
    ) throws(QRNGError) {
        let input = ByteInput(bytes: bytes, name: name, pieceSize: pieceSize, capacity: bufferBytes)
        try self.init(input: input, errorPolicy: errorPolicy)
    }

    init(input: sending ByteInput, errorPolicy: ErrorPolicy) throws(QRNGError) {
        path = input.name
        provenance = .recording(input.name)
        let header = try Self.readHeader(input)
        self.header = header
        state = Mutex(State(input: input, header: header, policy: errorPolicy))
    }

    /// The defects skipped so far under ``ErrorPolicy/skip``.
    public var skipped: SkippedRecords { state.withLock { $0.errors.skipped } }

    public func nextPulses(_ pulses: Int, into buffer: inout ClickBuffer) throws(QRNGError) -> Bool {
        precondition(pulses >= 0 && pulses <= Int(UInt32.max), "a click buffer covers at most 2³² pulses")
        return try state.withLock { state throws(QRNGError) in try state.next(pulses, into: &buffer) }
    }

    private static func readHeader(_ input: ByteInput) throws(QRNGError) -> PackedClickHeader {
        let file = input.name
        let bytes = try input.readQRNGHeaderPrelude(
            magic: PackedClickHeader.magic, kind: "packed click", version: PackedClickHeader.version,
            size: PackedClickHeader.size)
        let bits = bytes.littleEndian(UInt16.self, at: 12)
        guard bits == 2 else {
            throw .input("\(bits) bits per pulse out of range (version 1 has 2)",
                file: file, offset: 12, field: "bits per pulse")
        }
        let reserved = bytes.littleEndian(UInt16.self, at: 14)
        guard reserved == 0 else {
            throw .input("reserved field is \(reserved), must be 0", file: file, offset: 14, field: "reserved")
        }
        let count = bytes.littleEndian(UInt64.self, at: 16)
        let header = PackedClickHeader(
            pulseCount: count == PackedClickHeader.unknownCount ? nil : count,
            pulsePeriodPicoseconds: bytes.littleEndian(UInt64.self, at: 24))
        input.consume(PackedClickHeader.size)
        return header
    }

    private struct State {
        let input: ByteInput
        let header: PackedClickHeader
        var errors: RecordErrors
        /// Pulses handed out so far.
        var pulse: UInt64 = 0
        /// Pairs of the front byte already handed out (0 to 3).
        var phase = 0
        var finished = false

        init(input: ByteInput, header: PackedClickHeader, policy: ErrorPolicy) {
            self.input = input
            self.header = header
            self.errors = RecordErrors(policy: policy)
        }

        mutating func next(_ pulses: Int, into buffer: inout ClickBuffer) throws(QRNGError) -> Bool {
            try errors.check()
            buffer.firstPulse = pulse
            buffer.pulseCount = 0
            buffer.events.removeAll(keepingCapacity: true)
            var done = 0
            while done < pulses && !finished {
                var wanted = pulses - done
                if let count = header.pulseCount {
                    if pulse == count {
                        guard try finish() else { break }
                        continue
                    }
                    wanted = Int(min(UInt64(wanted), count - pulse))
                }
                if input.availableCount == 0 {
                    if try !input.refill() {
                        guard try finish() else { break }
                    }
                    continue
                }
                let decoded = decode(wanted, offset: done, into: &buffer.events)
                done += decoded
                pulse += UInt64(decoded)
            }
            buffer.pulseCount = done
            if done == 0 { try errors.check() }
            return done > 0
        }

        /// Decodes up to `wanted` pulses from the bytes available, appending their clicks.
        private mutating func decode(_ wanted: Int, offset: Int, into events: inout [ClickEvent]) -> Int {
            let bytes = input.bytes
            var done = 0
            var index = 0
            var phase = self.phase
            while done < wanted && index < bytes.count {
                // Eight bytes of no clicks at a time: most pulses of a QRNG have none.
                if phase == 0 && wanted - done >= 32 && bytes.count - index >= 8
                    && bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self) == 0
                {
                    index += 8
                    done += 32
                    continue
                }
                let value = (bytes[index] >> UInt8(6 - 2 * phase)) & 3
                if value != 0 {
                    let outcome = ClickOutcome(rawValue: value)!
                    events.append(ClickEvent(pulseOffset: UInt32(offset + done), outcome: outcome))
                }
                done += 1
                phase += 1
                if phase == 4 {
                    phase = 0
                    index += 1
                }
            }
            input.consume(index)
            self.phase = phase
            return done
        }

        /// Handles the end: a count short of the header's, padding that is not zero, data after the last pulse.
        ///
        /// - Returns: whether to go on (a defect was skipped); `finished` is set either way.
        private mutating func finish() throws(QRNGError) -> Bool {
            finished = true
            guard let count = header.pulseCount else { return true }
            if pulse < count {
                return errors.report(.input("the input ends after \(pulse) of the \(count) pulses the header declares",
                    file: input.name, offset: input.offset, field: "pulse count"))
            }
            if phase != 0 {
                // The rest of the last byte is padding; it was read with the last pulses.
                let padding = input.bytes[0] & UInt8((1 << (8 - 2 * phase)) - 1)
                let offset = input.offset
                input.consume(1)
                phase = 0
                if padding != 0 {
                    guard errors.report(.input("padding after the last pulse is not zero",
                        file: input.name, offset: offset, field: "padding"))
                    else { return false }
                }
            }
            if try !input.isAtEnd() {
                return errors.report(.input("data after the last of the \(count) pulses the header declares",
                    file: input.name, offset: input.offset, field: "pulse count"))
            }
            return true
        }
    }
}

/// Writes qrng's packed click format (see ``PackedClickHeader``).
///
/// When the pulse count is not given up front and the sink can seek, ``finish()`` fills it in; on a pipe it stays
/// "unknown" and the last byte is padded with empty pulses.
public final class PackedClickWriter {
    /// The header as written.
    public let header: PackedClickHeader
    private let sink: ByteSink
    private var pending: [UInt8] = []
    /// The byte being filled and how many pulses it holds.
    private var partial: UInt8 = 0
    private var partialCount = 0
    private var written: UInt64 = 0
    private static let flushSize = 1 << 16

    /// Writes the header.
    ///
    /// - Parameters:
    ///   - sink: Where the bytes go.
    ///   - pulseCount: The number of pulses that will be written, if known.
    ///   - pulsePeriodPicoseconds: The pulse period, or 0 when unknown.
    public init(sink: ByteSink, pulseCount: UInt64? = nil, pulsePeriodPicoseconds: UInt64 = 0) throws(QRNGError) {
        header = PackedClickHeader(pulseCount: pulseCount, pulsePeriodPicoseconds: pulsePeriodPicoseconds)
        self.sink = sink
        try sink.write(header.encoded)
    }

    /// Appends one outcome per pulse.
    public func write(_ outcomes: some Sequence<ClickOutcome>) throws(QRNGError) {
        for outcome in outcomes {
            partial |= outcome.rawValue << UInt8(6 - 2 * partialCount)
            partialCount += 1
            if partialCount == 4 { try completeByte() }
        }
    }

    /// Appends the pulses of `buffer`, empty ones included.
    public func write(_ buffer: ClickBuffer) throws(QRNGError) {
        var next = 0
        for event in buffer.events {
            try writeEmpty(Int(event.pulseOffset) - next)
            try write(CollectionOfOne(event.outcome))
            next = Int(event.pulseOffset) + 1
        }
        try writeEmpty(buffer.pulseCount - next)
    }

    /// Pads the last byte, writes what is buffered, and settles the pulse count: checks it against a declared
    /// count, or fills it in when the sink can seek.
    public func finish() throws(QRNGError) {
        let total = written + UInt64(partialCount)
        if partialCount > 0 {
            pending.append(partial)
            partial = 0
            partialCount = 0
        }
        try flush()
        if let declared = header.pulseCount {
            guard declared == total else {
                throw .invalidArgument("pulse count", "declared \(declared) pulses but \(total) were written")
            }
        } else if sink.isSeekable {
            var count: [UInt8] = []
            count.appendLittleEndian(total)
            let outcome = count.withUnsafeBytes { bytes in
                Result { () throws(QRNGError) in try sink.overwrite(at: 16, with: bytes) }
            }
            try outcome.get()
        }
        written = total
    }

    private func writeEmpty(_ count: Int) throws(QRNGError) {
        var remaining = count
        while remaining > 0 && partialCount != 0 {
            try write(CollectionOfOne(ClickOutcome.none))
            remaining -= 1
        }
        if remaining >= 4 {
            pending.append(contentsOf: repeatElement(0, count: remaining / 4))
            written += UInt64(remaining / 4 * 4)
            remaining %= 4
            if pending.count >= Self.flushSize { try flush() }
        }
        while remaining > 0 {
            try write(CollectionOfOne(ClickOutcome.none))
            remaining -= 1
        }
    }

    private func completeByte() throws(QRNGError) {
        pending.append(partial)
        written += 4
        partial = 0
        partialCount = 0
        if pending.count >= Self.flushSize { try flush() }
    }

    private func flush() throws(QRNGError) {
        guard !pending.isEmpty else { return }
        try sink.write(pending)
        pending.removeAll(keepingCapacity: true)
    }
}
