#if canImport(Glibc)
import Glibc
#endif

/// A file, pipe or standard input opened for reading, read in caller-sized pieces.
///
/// Readers stream: nothing here loads a whole file. The descriptor is closed when the value is released.
public final class ReadableFile {
    /// The path, or `-` for standard input; used in error messages.
    public let path: String
    /// Bytes read so far: the offset of the next byte.
    public private(set) var offset: UInt64 = 0
    private let descriptor: Int32
    private let ownsDescriptor: Bool

    /// Opens `path` for reading; `nil` or `-` is standard input.
    public init(path: String?) throws(QRNGError) {
        guard let path, path != "-" else {
            self.path = "-"
            self.descriptor = STDIN_FILENO
            self.ownsDescriptor = false
            return
        }
        let opened = open(path, O_RDONLY | O_CLOEXEC)
        guard opened >= 0 else {
            throw QRNGError(.systemCall, "cannot open for reading", context: .init(file: path, errno: errno))
        }
        self.path = path
        self.descriptor = opened
        self.ownsDescriptor = true
    }

    deinit {
        if ownsDescriptor { _ = close(descriptor) }
    }

    /// Reads up to `buffer.count` bytes; fewer only at the end of the input. Returns the count, 0 at the end.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(QRNGError) -> Int {
        var filled = 0
        while filled < buffer.count {
            let count = try retryingSyscall("read", path: path) {
                Glibc.read(descriptor, buffer.baseAddress! + filled, buffer.count - filled)
            }
            if count == 0 { break }
            filled += count
        }
        offset += UInt64(filled)
        return filled
    }

    /// Reads what one `read(2)` gives, at most `buffer.count` bytes; returns the count, 0 only at the end.
    ///
    /// On a pipe or terminal this returns what is there now and waits only when nothing is, so that a streaming
    /// reader can hand on the records it has instead of waiting for a whole buffer.
    public func readSome(into buffer: UnsafeMutableRawBufferPointer) throws(QRNGError) -> Int {
        guard buffer.count > 0 else { return 0 }
        let count = try retryingSyscall("read", path: path) {
            Glibc.read(descriptor, buffer.baseAddress!, buffer.count)
        }
        offset += UInt64(count)
        return count
    }

    /// Reads up to `array.count` bytes into `array`; returns the count, 0 at the end.
    public func read(into array: inout [UInt8]) throws(QRNGError) -> Int {
        // `withUnsafeMutableBytes` rethrows untyped errors, so the typed error travels in a `Result`.
        let outcome = array.withUnsafeMutableBytes { buffer in Result { () throws(QRNGError) in try read(into: buffer) } }
        return try outcome.get()
    }

    /// Reads the whole rest of the input; for small files only, such as seeds.
    public func readAll(limit: Int = 1 << 28) throws(QRNGError) -> [UInt8] {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = try read(into: &chunk)
            result += chunk[0..<count]
            if count < chunk.count { return result }
            if result.count > limit {
                throw QRNGError(.invalidInput, "larger than \(limit) bytes", context: .init(file: path))
            }
        }
    }
}
