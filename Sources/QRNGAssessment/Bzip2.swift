#if canImport(Glibc)
import Glibc
#endif
import QRNG

/// libbz2 itself, loaded at run time: the oracle `Bzip2Length` is tested against and the baseline `qrng bench`
/// times it against.
///
/// The permutation tests never call it: the reference tool's compression statistic (libbz2's
/// `BZ2_bzBuffToBuffCompress(…, 5, 0, 0)`) is computed by `Bzip2Length`, bit-exact and several times faster. So
/// the package declares no libbz2 target, and where the system has no libbz2 only the tests and the benchmark
/// that compare against it are skipped.
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
        // BZ_OK is 0; anything else (a full destination, an out-of-memory) is a failure, not a size.
        return result == 0 ? Int(capacity) : nil
    }
}
