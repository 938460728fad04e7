/// A seed for a 2-universal hash family, drawn once from the pool, zeroed when released.
///
/// A privacy-amplification step needs a fresh uniform seed per use: a Toeplitz hash of an n-bit key to m bits
/// needs n + m − 1 bits. The seed's storage is overwritten with zeros when the last reference to it goes away,
/// so the bits do not linger after use.
public final class HashSeed: @unchecked Sendable {
    // Sendable by construction: `storage` is written once in `init`, only read afterwards, and freed in `deinit`.
    /// The seed's length in bits.
    public let bitCount: Int
    private let storage: UnsafeMutableBufferPointer<UInt64>

    init(_ bits: BitBuffer) {
        self.bitCount = bits.count
        self.storage = .allocate(capacity: max(bits.words.count, 1))
        storage.initialize(repeating: 0)
        _ = storage.initialize(from: bits.words)
    }

    deinit {
        secureZero(UnsafeMutableRawBufferPointer(storage))
        storage.deallocate()
    }

    /// The seed's bits, for as long as `body` runs; do not keep copies longer than needed.
    public func withBits<Result>(_ body: (BitBuffer) throws -> Result) rethrows -> Result {
        var bits = BitBuffer(words: Array(storage), count: bitCount)
        defer { bits.removeAll() }
        return try body(bits)
    }

    /// The seed packed MSB-first into bytes, for a hash implementation that takes bytes.
    public func packedBytes() -> [UInt8] { withBits { $0.packedBytes() } }
}

extension EntropyPool {
    /// Draws a seed of `bits` fresh bits.
    ///
    /// - Throws: ``QRNGError/Code/invalidArgument`` when `bits` is not positive; the pool's closing reason.
    public func hashSeed(bits: Int) throws(QRNGError) -> HashSeed {
        guard bits > 0 else { throw .invalidArgument("seed bits", "must be positive, got \(bits)") }
        var drawn = try take(bits: bits)
        defer { drawn.removeAll() }
        return HashSeed(drawn)
    }

    /// Draws the n + m − 1 bits of a Toeplitz seed for hashing an n-bit key to m bits.
    ///
    /// - Throws: ``QRNGError/Code/invalidArgument`` unless 1 ≤ m ≤ n; the pool's closing reason.
    public func toeplitzSeed(inputBits n: Int, outputBits m: Int) throws(QRNGError) -> HashSeed {
        guard n >= 1, m >= 1, m <= n else {
            throw .invalidArgument("Toeplitz size", "needs 1 ≤ m ≤ n, got n = \(n), m = \(m)")
        }
        return try hashSeed(bits: n + m - 1)
    }
}
