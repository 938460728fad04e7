#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The C library's text for an error number.
func systemErrorMessage(_ number: Int32) -> String {
    String(cString: strerror(number))
}

/// Runs a system call that returns -1 and sets `errno` on failure, retrying on `EINTR`.
///
/// `errno` is read right after the call, before anything else can overwrite it. `EBADF` and `EFAULT` mean qrng
/// passed a bad descriptor or pointer, a bug rather than a condition to handle, so they trap.
@discardableResult
func retryingSyscall<Result: BinaryInteger>(
    _ name: String, path: String? = nil, _ call: () -> Result
) throws(QRNGError) -> Result {
    while true {
        let result = call()
        if result != -1 { return result }
        let number = errno
        switch number {
        case EINTR: continue
        case EBADF, EFAULT: preconditionFailure("\(name) was given a bad descriptor or address (errno \(number))")
        default:
            throw QRNGError(.systemCall, "\(name) failed", context: .init(file: path, errno: number))
        }
    }
}

/// Writes all of `bytes` to `descriptor`, continuing after short writes and `EINTR`.
public func writeAll(_ bytes: UnsafeRawBufferPointer, to descriptor: Int32, path: String? = nil) throws(QRNGError) {
    var offset = 0
    while offset < bytes.count {
        let written = try retryingSyscall("write", path: path) {
            write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
        }
        offset += written
    }
}
