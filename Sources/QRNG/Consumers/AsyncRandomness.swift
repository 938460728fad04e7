extension EntropyPool {
    /// Returns `count` fresh random bytes, suspending the task while the pool refills.
    ///
    /// - Throws: The pool's closing reason; ``QRNGError/Code/cancelled`` when the task is cancelled.
    public func randomBytes(count: Int) async throws(QRNGError) -> [UInt8] {
        guard count >= 0 else { throw .invalidArgument("byte count", "must not be negative, got \(count)") }
        var bits = try await take(bits: 8 * count)
        defer { bits.removeAll() }
        return bits.packedBytes()
    }

    /// An asynchronous sequence of fresh random chunks of `size` bytes.
    ///
    /// The sequence ends when the pool is closed normally (``QRNGError/Code/poolClosed``) and throws any other
    /// closing reason, such as a permanent health-test failure.
    public func chunks(ofSize size: Int) -> RandomChunks {
        precondition(size > 0, "a chunk holds at least one byte")
        return RandomChunks(pool: self, size: size)
    }
}

/// Fresh random chunks from an ``EntropyPool``, as an `AsyncSequence`.
public struct RandomChunks: AsyncSequence, Sendable {
    public typealias Element = [UInt8]

    let pool: EntropyPool
    let size: Int

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(pool: pool, size: size)
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let pool: EntropyPool
        let size: Int

        public mutating func next() async throws -> [UInt8]? {
            do {
                return try await pool.randomBytes(count: size)
            } catch where error.code == .poolClosed {
                return nil
            }
        }
    }
}
