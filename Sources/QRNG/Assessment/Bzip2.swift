#if canImport(Glibc)
import Glibc
#endif

/// The length of data compressed by bzip2, for the compression statistic of the permutation tests (§5.1.11).
///
/// The standard names bzip2, and the reference tool calls libbz2 at block size 5 (`BZ2_bzBuffToBuffCompress(…,
/// 5, 0, 0)`). qrng has no bzip2 of its own and its package declares no libbz2 target, so the system's libbz2 is
/// loaded at run time with `dlopen`; where it is missing the statistic is not computed and the report says so.
/// (A `systemLibrary` target for libbz2, like the one for OpenSSL, would make this a link-time dependency.)
enum Bzip2 {
    private typealias Compress = @convention(c) (
        UnsafeMutablePointer<CChar>?, UnsafeMutablePointer<UInt32>?, UnsafeMutablePointer<CChar>?, UInt32, Int32,
        Int32, Int32
    ) -> Int32

    /// Whether libbz2 could be loaded.
    static var isAvailable: Bool { function() != nil }

    private static func function() -> Compress? {
        for name in ["libbz2.so.1.0", "libbz2.so.1", "libbz2.so"] {
            if let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL),
                let symbol = dlsym(handle, "BZ2_bzBuffToBuffCompress")
            {
                return unsafeBitCast(symbol, to: Compress.self)
            }
        }
        return nil
    }

    /// The compressed size of `data` at block size `blockSize100k` (5 unless given), or nil when libbz2 is
    /// unavailable or fails.
    static func compressedLength(_ data: UnsafeMutableBufferPointer<UInt8>, blockSize100k: Int32 = 5) -> Int? {
        guard let compress = function() else { return nil }
        var capacity = UInt32((1.01 * Double(data.count)).rounded(.up)) + 600
        var destination = [CChar](repeating: 0, count: Int(capacity))
        // libbz2 rejects a null source even when it is empty.
        var placeholder: [CChar] = [0]
        let result = destination.withUnsafeMutableBufferPointer { destination in
            placeholder.withUnsafeMutableBufferPointer { placeholder in
                data.withMemoryRebound(to: CChar.self) { source in
                    compress(
                        destination.baseAddress, &capacity, source.baseAddress ?? placeholder.baseAddress,
                        UInt32(source.count), blockSize100k, 0, 0)
                }
            }
        }
        return result == 0 ? Int(capacity) : 0
    }
}
