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
///
/// Each chunk is drawn when the iterator asks for it, so a consumer that stops iterating takes nothing more.
public struct RandomChunks: AsyncSequence, Sendable {
    /// A chunk of fresh random bytes.
    public typealias Element = [UInt8]

    let pool: EntropyPool
    let size: Int

    /// Returns an iterator that draws one chunk per call to `next()`.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(pool: pool, size: size)
    }

    /// Draws the chunks, suspending while the pool refills.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let pool: EntropyPool
        let size: Int

        /// The next chunk; `nil` once the pool is closed normally.
        ///
        /// - Throws: Any other closing reason (a permanent health-test failure, the end of the source) as a
        ///   ``QRNGError``; ``QRNGError/Code/cancelled`` when the task is cancelled.
        public mutating func next() async throws -> [UInt8]? {
            do {
                return try await pool.randomBytes(count: size)
            } catch where error.code == .poolClosed {
                return nil
            }
        }
    }
}
