/// The bytes a format reader parses: a fixed-size window onto a file, pipe or standard input, or onto bytes in
/// memory, refilled as the reader consumes it. Memory use is the window, whatever the length of the input.
///
/// Readers parse straight out of ``bytes`` and ``consume(_:)`` what they have parsed; ``offset`` is then the file
/// offset of the first unparsed byte, which is what error messages report.
final class ByteInput {
    /// Where the bytes come from.
    enum Source {
        case file(ReadableFile)
        /// Bytes in memory, handed out at most `chunk` at a time, as a pipe would (tests and fuzzing use a small
        /// chunk to exercise every split of a record).
        case memory([UInt8], chunk: Int)
    }

    /// The file's path, or a name for bytes in memory; used in error messages.
    let name: String
    private var source: Source
    private var memoryPosition = 0
    private let storage: UnsafeMutableRawBufferPointer
    private var start = 0
    private var end = 0
    /// The file offset of the first unconsumed byte.
    private(set) var offset: UInt64 = 0
    /// Whether the source has reported its end.
    private(set) var reachedEnd = false

    /// The smallest window: the largest fixed-size structure a reader needs in one piece is a 48-byte PTU tag.
    static let minimumCapacity = 64

    init(_ source: Source, name: String, capacity: Int) {
        self.source = source
        self.name = name
        self.storage = .allocate(byteCount: max(capacity, Self.minimumCapacity), alignment: 16)
    }

    /// Opens `path` (`nil` or `-` for standard input): what every reader's `init(path:)` reads.
    convenience init(path: String?, capacity: Int) throws(QRNGError) {
        try self.init(file: ReadableFile(path: path), capacity: capacity)
    }

    /// An open file, named by its path.
    convenience init(file: sending ReadableFile, capacity: Int) {
        let name = file.path
        self.init(.file(file), name: name, capacity: capacity)
    }

    /// Bytes in memory, handed over at most `pieceSize` at a time as a pipe would; for tests and fuzzing.
    convenience init(bytes: [UInt8], name: String, pieceSize: Int, capacity: Int) {
        precondition(pieceSize > 0, "pieces of at least one byte")
        self.init(.memory(bytes, chunk: pieceSize), name: name, capacity: capacity)
    }

    deinit { storage.deallocate() }

    /// Bytes read and not yet consumed.
    var availableCount: Int { end - start }

    /// The unconsumed bytes; valid until the next ``refill()``.
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: storage[start..<end]) }

    /// Marks the first `count` available bytes as parsed.
    func consume(_ count: Int) {
        precondition(count >= 0 && count <= availableCount, "consumed more than is available")
        start += count
        offset += UInt64(count)
    }

    /// Moves the unconsumed bytes to the front of the window and reads more after them.
    ///
    /// - Returns: `false` at the end of the input, when nothing more came.
    func refill() throws(QRNGError) -> Bool {
        if reachedEnd { return false }
        if start > 0 {
            let count = availableCount
            if count > 0 { storage.baseAddress!.copyMemory(from: storage.baseAddress! + start, byteCount: count) }
            start = 0
            end = count
        }
        precondition(end < storage.count, "refill with a full window")
        let free = UnsafeMutableRawBufferPointer(rebasing: storage[end...])
        let count: Int
        switch source {
        case .file(let file):
            count = try file.readSome(into: free)
        case .memory(let data, let chunk):
            count = min(free.count, chunk, data.count - memoryPosition)
            if count > 0 {
                data.withUnsafeBytes { all in
                    free.baseAddress!.copyMemory(from: all.baseAddress! + memoryPosition, byteCount: count)
                }
            }
            memoryPosition += count
        }
        if count == 0 {
            reachedEnd = true
            return false
        }
        end += count
        return true
    }

    /// Reads until at least `count` bytes are available (`count` at most the window's size).
    ///
    /// - Returns: `false` when the input ended first; what there was is still available.
    func require(_ count: Int) throws(QRNGError) -> Bool {
        precondition(count <= storage.count, "asked for more than the window holds")
        while availableCount < count {
            if try !refill() { return false }
        }
        return true
    }

    /// Reads and drops `count` bytes, without holding more than the window.
    ///
    /// - Returns: how many were dropped: fewer than `count` only at the end of the input.
    func skip(_ count: UInt64) throws(QRNGError) -> UInt64 {
        var remaining = count
        while remaining > 0 {
            if availableCount == 0, try !refill() { break }
            let step = Int(min(UInt64(availableCount), remaining))
            consume(step)
            remaining -= UInt64(step)
        }
        return count - remaining
    }

    /// Whether there is no byte left at all, reading to find out if need be.
    func isAtEnd() throws(QRNGError) -> Bool {
        if availableCount > 0 { return false }
        return try !refill()
    }
}

extension ByteInput {
    /// Reads and checks the prelude qrng's own formats share: an 8-byte ASCII magic, the version (UInt16 at 8)
    /// and the header size (UInt16 at 10), little-endian; returns the header's bytes for the format to read the
    /// rest of it.
    ///
    /// - Parameters:
    ///   - magic: The expected magic.
    ///   - kind: What the file is, for "not a qrng KIND file".
    ///   - version: The version this reader knows.
    ///   - size: The header size of that version.
    func readQRNGHeaderPrelude(magic: [UInt8], kind: String, version: UInt16, size: Int) throws(QRNGError)
        -> UnsafeRawBufferPointer
    {
        guard try require(size) else {
            throw .input(
                "the input ends after \(availableCount) of the \(size) header bytes",
                file: name, offset: UInt64(availableCount), field: "header")
        }
        let header = bytes
        guard header.prefix(8).elementsEqual(magic) else {
            throw .input(
                "wrong magic: not a qrng \(kind) file (expected \"\(String(decoding: magic, as: UTF8.self))\")",
                file: name, offset: 0, field: "magic")
        }
        let found = header.littleEndian(UInt16.self, at: 8)
        guard found == version else {
            throw .input("unsupported version \(found) (this reader knows version \(version))",
                file: name, offset: 8, field: "version")
        }
        let headerSize = header.littleEndian(UInt16.self, at: 10)
        guard headerSize == size else {
            throw .input("header size \(headerSize) out of range (version \(version) has \(size))",
                file: name, offset: 10, field: "header size")
        }
        return header
    }
}
