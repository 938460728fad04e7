import QRNG

/// The bytes of one key, in memory of their own that is zeroed when the last reference goes: on delivery, on
/// expiry and at shutdown alike, with no copy left behind by an array's copy-on-write.
final class KeyMaterial: @unchecked Sendable {
    // Written once, in `init`, and only read afterwards: safe to share between threads.
    private let storage: UnsafeMutableRawBufferPointer

    /// `count` bytes written by `fill`.
    init(count: Int, _ fill: (UnsafeMutableRawBufferPointer) -> Void) {
        storage = .allocate(byteCount: count, alignment: 16)
        storage.initializeMemory(as: UInt8.self, repeating: 0)
        fill(storage)
    }

    /// A copy of `bytes`.
    convenience init(copying bytes: UnsafeRawBufferPointer) {
        self.init(count: bytes.count) { $0.copyMemory(from: bytes) }
    }

    var count: Int { storage.count }

    func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try body(UnsafeRawBufferPointer(storage))
    }

    deinit {
        secureZero(storage)
        storage.deallocate()
    }
}
