/// Reads fresh bits from a pool a few at a time, for consumers whose need is only known on the way (rejection
/// sampling, lazy Bernoulli draws).
///
/// It takes bits from the pool in batches of about the expected remaining need (waiting only for the bits the
/// current read needs) and zeroes whatever is left unused when it is released: those bits are never handed to
/// anyone.
final class PoolBitReader {
    private let pool: EntropyPool
    private var bits = BitBuffer()
    private var position = 0
    /// Bits the request is still expected to need, to size the next batch.
    private var expectedRemaining: Int

    init(pool: EntropyPool, expectedBits: Int) {
        self.pool = pool
        self.expectedRemaining = max(1, expectedBits)
    }

    deinit {
        bits.removeAll()
    }

    /// The next `width` bits (1...64), left-aligned, left in place.
    func peek(_ width: Int) throws(QRNGError) -> UInt64 {
        let available = bits.count - position
        if available < width { try refill(needing: width - available) }
        return bits.word(atBit: position, width: width)
    }

    /// Consumes `count` bits of those peeked.
    func advance(_ count: Int) {
        position += count
        expectedRemaining = max(1, expectedRemaining - count)
    }

    /// The next `width` bits (1...64), right-aligned.
    func read(_ width: Int) throws(QRNGError) -> UInt64 {
        let value = try peek(width) >> UInt64(64 - width)
        advance(width)
        return value
    }

    private func refill(needing needed: Int) throws(QRNGError) {
        let rest = bits.extracting(position..<bits.count)
        bits.removeAll(keepingCapacity: true)
        bits.append(contentsOf: rest)
        bits.append(contentsOf: try pool.take(atLeast: needed, atMost: max(needed, expectedRemaining - rest.count)))
        position = 0
    }
}
