#if canImport(Glibc)
import Glibc
#endif

/// Somewhere the format writers put their bytes: a file, standard output, a pipe, or memory.
///
/// Writers hand over whole chunks. A sink that can seek (a regular file, memory) also lets a writer go back and
/// fill in a header field it only knows at the end, such as a record count.
public protocol ByteSink: AnyObject {
    /// Appends `bytes`.
    func write(_ bytes: UnsafeRawBufferPointer) throws(QRNGError)
    /// Whether ``overwrite(at:with:)`` works.
    var isSeekable: Bool { get }
    /// Replaces bytes already written, starting at `offset`; only when ``isSeekable``.
    func overwrite(at offset: UInt64, with bytes: UnsafeRawBufferPointer) throws(QRNGError)
}

extension ByteSink {
    /// Appends `bytes`.
    public func write(_ bytes: [UInt8]) throws(QRNGError) {
        let outcome = bytes.withUnsafeBytes { buffer in Result { () throws(QRNGError) in try write(buffer) } }
        try outcome.get()
    }
}

/// A sink that keeps everything in memory: for tests, and for building small files.
public final class MemorySink: ByteSink {
    /// Everything written so far.
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public var isSeekable: Bool { true }

    public func write(_ bytes: UnsafeRawBufferPointer) throws(QRNGError) {
        self.bytes.append(contentsOf: bytes)
    }

    public func overwrite(at offset: UInt64, with bytes: UnsafeRawBufferPointer) throws(QRNGError) {
        precondition(offset <= UInt64(self.bytes.count - bytes.count), "overwrite past the end of what was written")
        let start = Int(offset)
        self.bytes.replaceSubrange(start..<start + bytes.count, with: bytes)
    }
}

/// A file, standard output or a named pipe opened for writing.
///
/// A path is created or truncated (mode 0644); `nil` or `-` is standard output. The descriptor is closed when the
/// value is released.
public final class WritableFile: ByteSink {
    /// The path, or `-` for standard output; used in error messages.
    public let path: String
    public let isSeekable: Bool
    private let descriptor: Int32
    private let ownsDescriptor: Bool

    /// Opens `path` for writing; `nil` or `-` is standard output.
    public init(path: String?) throws(QRNGError) {
        if let path, path != "-" {
            let opened = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard opened >= 0 else {
                throw QRNGError(.systemCall, "cannot open for writing", context: .init(file: path, errno: errno))
            }
            self.path = path
            self.descriptor = opened
            self.ownsDescriptor = true
        } else {
            self.path = "-"
            self.descriptor = STDOUT_FILENO
            self.ownsDescriptor = false
        }
        // A pipe or terminal cannot seek; lseek says so with ESPIPE.
        self.isSeekable = lseek(descriptor, 0, SEEK_CUR) >= 0
    }

    deinit {
        if ownsDescriptor { _ = close(descriptor) }
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws(QRNGError) {
        try writeAll(bytes, to: descriptor, path: path)
    }

    public func overwrite(at offset: UInt64, with bytes: UnsafeRawBufferPointer) throws(QRNGError) {
        precondition(isSeekable, "overwrite on a sink that cannot seek")
        var done = 0
        while done < bytes.count {
            let written = try retryingSyscall("pwrite", path: path) {
                pwrite(descriptor, bytes.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done))
            }
            done += written
        }
    }
}
