/// A `RandomNumberGenerator` that draws from an ``EntropyPool``, so the standard library's random APIs
/// (`Int.random(in:using:)`, `shuffled(using:)`, …) use qrng's bits.
///
/// `RandomNumberGenerator.next()` cannot throw, so when the pool closes (a permanent health-test failure, a
/// stopped producer) this generator stops the program rather than return bits that are not random. Code that
/// must recover from such failures uses the pool's throwing methods instead.
public struct PoolRandomNumberGenerator: RandomNumberGenerator, Sendable {
    /// The pool drawn from.
    public let pool: EntropyPool

    /// Creates a generator drawing from `pool`. Copies of the generator share the pool, never its bits.
    public init(pool: EntropyPool) {
        self.pool = pool
    }

    /// 64 fresh bits from the pool; waits for the pool to refill when it is empty.
    public mutating func next() -> UInt64 {
        do {
            return try pool.take(bits: 64).words[0]
        } catch {
            fatalError("qrng: no random bits: \(error)")
        }
    }
}
