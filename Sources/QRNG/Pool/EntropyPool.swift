import Dispatch
import Synchronization

/// The buffered pool between the pipeline and its consumers: health-approved, extracted bits, each handed out
/// at most once.
///
/// A producer (see ``EntropyProducer``) deposits extracted bits; any number of consumers on any threads take
/// them out. Bits are taken in order, never copied to two consumers, and zeroed in the pool's storage as they
/// are taken. The pool holds at most ``capacityBits`` bits; a producer depositing into a full pool waits.
///
/// Consumers choose how to wait: ``read(into:)`` and ``take(bits:)-7kt75`` block until the bits are there,
/// ``tryRead(into:)`` and ``tryTake(bits:)`` return at once and report `.empty` (or `nil`) when the pool holds too
/// few bits. When the producer stops, fails a health test permanently or dies, it closes the pool: waiting
/// consumers wake up and get the reason as a ``QRNGError``, instead of hanging. Tasks use the `async` forms,
/// which suspend instead of blocking a thread and end with ``QRNGError/Code/cancelled`` when the task is
/// cancelled; ``interruptWaiters(with:)`` wakes every waiting consumer with an error without closing the pool.
///
/// The consumer methods in the extensions hand out what protocols need: bytes and words, BB84 basis choices (one
/// bit each, or about two for a biased choice), six-state choices and uniform integers without modulo bias, and
/// seeds for privacy amplification. ``statistics`` accounts for every bit (deposited, taken, discarded, and the
/// min-entropy credited), and ``provenance`` says where they came from; a simulated source is never quantum.
///
/// One `Mutex` owns the pool's state, but the copies happen outside it: a take *claims* its bits under the lock
/// and then copies them out, zeroing them in the storage, with the lock released; a deposit writes the same way.
/// The lock is held only for bookkeeping, so consumers on different cores copy in parallel and none waits behind
/// another's copy. Waiting threads are woken after the lock is released, so a woken thread never spins on a
/// lock held by the thread that woke it.
public final class EntropyPool: Sendable {
    /// Where the pool's bits come from.
    public let provenance: Provenance
    /// The most bits the pool holds.
    public let capacityBits: Int
    /// The level below which a waiting producer resumes.
    public let lowWatermarkBits: Int

    struct State: ~Copyable {
        var ring: BitRing
        var closedReason: QRNGError?
        /// Whether the pool was closed discarding its bits: a write still in progress is discarded on commit.
        var discarding = false
        var waiters: [Waiter] = []
        var statistics = PoolStatistics()
        /// Bumped by ``EntropyPool/interruptWaiters(with:)``; a waiter that sees it change gets `interruption`.
        var interruptions = 0
        var interruption: QRNGError?
        /// For a journaled recording: where each deposit ends in the ring, and the recording's sample offset
        /// before which every sample behind it lies; oldest first, from `sourceMarksFront` on.
        var sourceMarks: [(end: UInt64, samples: UInt64)] = []
        var sourceMarksFront = 0

        /// The sample offset a claim ending at `end` reaches into, and forgets the marks it has passed.
        mutating func sourcePosition(through end: UInt64) -> UInt64? {
            while sourceMarksFront < sourceMarks.count && sourceMarks[sourceMarksFront].end < end {
                sourceMarksFront += 1
            }
            if sourceMarksFront >= 1024 && sourceMarksFront * 2 >= sourceMarks.count {
                sourceMarks.removeFirst(sourceMarksFront)
                sourceMarksFront = 0
            }
            return sourceMarksFront < sourceMarks.count ? sourceMarks[sourceMarksFront].samples : nil
        }
    }

    /// The most bits one step of a deposit writes, so that consumers see a large deposit arrive in pieces.
    private static let depositStepBits = 1 << 19

    let state: Mutex<State>
    /// The ring's storage, for the copies done outside the lock.
    private let words: RingWords
    /// Where the consumption of a recorded source is made durable before its bits are handed out.
    public let journal: ConsumptionJournal?

    /// Creates an empty pool.
    ///
    /// - Parameters:
    ///   - provenance: Where its bits come from; reported to consumers.
    ///   - capacityBits: The most bits the pool holds, rounded up to a power of two words; 8 Mibit by default.
    ///   - lowWatermarkBits: The level below which a producer waiting in ``waitForRoom()`` resumes; half the
    ///     capacity by default.
    ///   - journal: For a recorded source, the journal that must durably record how far into the recording the
    ///     bits reach before any consumer gets them; deposits then carry their source position.
    public init(
        provenance: Provenance, capacityBits: Int = 1 << 23, lowWatermarkBits: Int? = nil,
        journal: ConsumptionJournal? = nil
    ) {
        self.journal = journal
        precondition(capacityBits >= 64, "a pool holds at least 64 bits")
        let ring = BitRing(minimumCapacityBits: capacityBits)
        self.provenance = provenance
        self.capacityBits = ring.capacityBits
        self.lowWatermarkBits = min(lowWatermarkBits ?? ring.capacityBits / 2, ring.capacityBits)
        self.words = ring.words
        self.state = Mutex(State(ring: ring))
    }

    /// The number of bits the pool holds now.
    public var availableBits: Int { state.withLock { $0.ring.count } }

    /// Counters of bits in and out.
    public var statistics: PoolStatistics { state.withLock { $0.statistics } }

    /// Whether the pool was closed, and why; `nil` while it is open.
    public var closedReason: QRNGError? { state.withLock { $0.closedReason } }

    // MARK: Producer side

    /// Appends `bits`, waiting while the pool is full.
    ///
    /// The bits are copied in steps of at most 512 Kibit, each outside the lock but for its first and last
    /// word, and become available to consumers step by step. One producer writes at a time; another waits.
    ///
    /// - Parameters:
    ///   - bits: The bits.
    ///   - entropyPerBit: The min-entropy each bit is credited with in ``PoolStatistics/entropyCredited``: 1 for
    ///     the output of a seeded extractor sized by the leftover hash lemma, less for a conditioner's output
    ///     that cannot claim full entropy.
    ///   - sourceMarks: For a journaled pool, how far into the recording the bits reach: each mark says that the
    ///     first ``SourceMark/bitCount`` bits of `bits` were computed from samples before its
    ///     ``SourceMark/sampleOffset`` (``Pipeline/sourceMarks``); in increasing order, the last covering all of
    ///     `bits`.
    /// - Throws: The pool's closing reason, if it is closed before all bits went in.
    public func deposit(
        _ bits: BitBuffer, entropyPerBit: Double = 1, sourceMarks: [SourceMark] = []
    ) throws(QRNGError) {
        precondition(
            journal == nil || bits.isEmpty || sourceMarks.last.map { $0.bitCount >= bits.count } == true,
            "a journaled pool needs source marks covering every bit deposited")
        var position = 0
        var nextMark = 0
        while position < bits.count {
            let outcome: Result<RingWrite, QRNGError>? = state.withLock { state in
                if let reason = state.closedReason { return .failure(reason) }
                guard Condition.writable.holds(state) else { return nil }
                let accepted = min(state.ring.freeBits, bits.count - position, Self.depositStepBits)
                return .success(state.ring.beginWrite(bits, range: position..<position + accepted))
            }
            switch outcome {
            case .success(let write):
                words.write(write, from: bits)
                position += changing { state in
                    let accepted = Int(state.ring.writeEnd - state.ring.tail)
                    state.ring.commit()
                    // Each mark is placed at the ring position of the last bit it covers, or at the end of what
                    // is committed so far with the first mark still ahead, which covers those bits too.
                    let committedEnd = position + accepted
                    while nextMark < sourceMarks.count && sourceMarks[nextMark].bitCount <= committedEnd {
                        let mark = sourceMarks[nextMark]
                        state.sourceMarks.append(
                            (state.ring.tail - UInt64(committedEnd - mark.bitCount), mark.sampleOffset))
                        nextMark += 1
                    }
                    if nextMark < sourceMarks.count {
                        state.sourceMarks.append((state.ring.tail, sourceMarks[nextMark].sampleOffset))
                    }
                    state.statistics.bitsDeposited += UInt64(accepted)
                    state.statistics.entropyCredited += Double(accepted) * entropyPerBit
                    if state.discarding {  // closed while this step was being written
                        state.statistics.bitsDiscarded += UInt64(state.ring.count)
                        state.ring.removeAll()
                    }
                    return accepted
                }
            case .failure(let reason): throw reason
            case nil: try wait(until: .writable)
            }
        }
    }

    /// How far into a journaled recording the first bits of a deposit reach.
    public struct SourceMark: Sendable, Hashable {
        /// The number of bits, from the start of the deposit, that the mark covers.
        public var bitCount: Int
        /// The recording's sample offset before which every sample behind those bits lies.
        public var sampleOffset: UInt64

        public init(bitCount: Int, sampleOffset: UInt64) {
            self.bitCount = bitCount
            self.sampleOffset = sampleOffset
        }
    }

    /// Waits until the pool's level falls below the low watermark, so that a producer refills in large steps.
    ///
    /// - Throws: The pool's closing reason, if it is closed.
    public func waitForRoom() throws(QRNGError) {
        try wait(until: .below(lowWatermarkBits))
    }

    /// Closes the pool: producers and waiting consumers are woken and get `reason`.
    ///
    /// - Parameters:
    ///   - reason: Why the pool closed, as consumers will see it; a plain "pool closed" error by default.
    ///   - discardingRemainingBits: Whether to zero and drop the bits still in the pool (after a permanent
    ///     health-test failure) rather than let consumers drain them first (at the end of a finite source).
    ///     Bits already handed to a consumer that is still copying them are that consumer's.
    public func close(reason: QRNGError? = nil, discardingRemainingBits: Bool = false) {
        changing(wakingAll: true) { state in
            guard state.closedReason == nil else { return }
            state.closedReason = reason ?? QRNGError(.poolClosed, "the pool was closed")
            if discardingRemainingBits {
                state.discarding = true
                state.statistics.bitsDiscarded += UInt64(state.ring.count)
                state.ring.removeAll()
            }
        }
    }

    /// Wakes every waiting consumer with `error` without closing the pool: after an intermittent health-test
    /// failure, for consumers that would rather hear of it than wait for the recovery. Bits already in the pool
    /// stay valid; later reads proceed normally.
    public func interruptWaiters(with error: QRNGError) {
        changing(wakingAll: true) { state in
            state.interruptions += 1
            state.interruption = error
        }
    }

    // MARK: Consumer side
    //
    // Every take claims its bits under the lock, then copies them out (zeroing them in the ring) outside it, so
    // that concurrent consumers copy in parallel and the lock is held only for the bookkeeping.

    /// Claims between `minimum` (at least 1) and `maximum` bits, as many as the pool holds, rounded down to a
    /// multiple of `granularity`; `nil` when it holds fewer than `minimum`.
    private func claim(
        minimum: Int, maximum: Int, granularity: Int = 1
    ) -> Result<RingClaim, QRNGError>? {
        changing { state in
            let available = min(state.ring.count, maximum)
            guard available >= minimum else {
                if let reason = state.closedReason { return .failure(reason) }
                return nil
            }
            var claim = state.ring.claim(available - available % granularity)
            claim.sourcePosition = state.sourcePosition(through: claim.end)
            state.statistics.bitsTaken += UInt64(claim.bitCount)
            return .success(claim)
        }
    }

    /// Makes the journal record how far into the recording a claim reaches, before its bits are copied out; if
    /// that fails the claim's bits are zeroed, never handed out.
    private func journal(_ claim: RingClaim) throws(QRNGError) {
        guard let journal else { return }
        // Deposits into a journaled pool always carry marks (deposit's precondition), so every claim has one.
        guard let position = claim.sourcePosition else { preconditionFailure("a journaled claim without a source mark") }
        do {
            try journal.record(consumedSamples: position)
        } catch {
            var scrap = BitBuffer()
            words.move(claim, into: &scrap)
            scrap.removeAll()
            release(claim)
            throw error
        }
    }

    /// Gives a claim's storage back once its bits have been copied out.
    private func release(_ claim: RingClaim) {
        guard claim.wordCount > 0 else { return }
        changing { $0.ring.release(claim) }
    }

    /// Copies a claim out as bytes and releases it.
    private func finish(_ claim: RingClaim, into destination: UnsafeMutableRawBufferPointer) throws(QRNGError) {
        try journal(claim)
        words.move(claim, into: destination)
        release(claim)
    }

    /// Copies a claim out as bits and releases it.
    private func finish(_ claim: RingClaim, into output: inout BitBuffer) throws(QRNGError) {
        try journal(claim)
        words.move(claim, into: &output)
        release(claim)
    }

    /// Fills `destination` with fresh random bytes, waiting for the pool to refill as often as needed.
    ///
    /// Large reads are served in pieces as the pool refills; every piece is this caller's alone.
    /// - Throws: The pool's closing reason, when it closes before `destination` is full.
    public func read(into destination: UnsafeMutableRawBufferPointer) throws(QRNGError) {
        var offset = 0
        while offset < destination.count {
            switch claim(minimum: 8, maximum: 8 * (destination.count - offset), granularity: 8) {
            case .success(let claim):
                let bytes = claim.bitCount / 8
                try finish(claim, into: UnsafeMutableRawBufferPointer(rebasing: destination[offset..<offset + bytes]))
                offset += bytes
            case .failure(let reason): throw reason
            case nil: try wait(until: .atLeast(8))
            }
        }
    }

    /// Fills `destination` with fresh random bytes if the pool holds enough, without waiting.
    ///
    /// - Returns: `.filled`, or `.empty` (and `destination` untouched) when the pool holds fewer bytes.
    /// - Throws: The pool's closing reason, when it is closed and holds too few bytes.
    public func tryRead(into destination: UnsafeMutableRawBufferPointer) throws(QRNGError) -> PoolReadStatus {
        guard !destination.isEmpty else { return .filled }
        switch claim(minimum: 8 * destination.count, maximum: 8 * destination.count) {
        case .success(let claim):
            try finish(claim, into: destination)
            return .filled
        case .failure(let reason): throw reason
        case nil: return .empty
        }
    }

    /// Waits until the pool holds at least a byte, then fills as much of `destination` as it holds whole bytes
    /// for, like `read(2)`.
    ///
    /// - Returns: The number of bytes written, at least 1 (unless `destination` is empty).
    /// - Throws: The pool's closing reason, when it is closed and holds less than a byte.
    public func readSome(into destination: UnsafeMutableRawBufferPointer) throws(QRNGError) -> Int {
        guard destination.count > 0 else { return 0 }
        while true {
            let count = try readAvailable(into: destination)
            if count > 0 { return count }
            try wait(until: .atLeast(8))
        }
    }

    /// Fills as much of `destination` as the pool holds whole bytes for, without waiting.
    ///
    /// - Returns: The number of bytes written, 0 when the pool holds less than a byte.
    /// - Throws: The pool's closing reason, when it is closed and holds less than a byte.
    public func readAvailable(into destination: UnsafeMutableRawBufferPointer) throws(QRNGError) -> Int {
        guard !destination.isEmpty else { return 0 }
        switch claim(minimum: 8, maximum: 8 * destination.count, granularity: 8) {
        case .success(let claim):
            let bytes = claim.bitCount / 8
            try finish(claim, into: UnsafeMutableRawBufferPointer(rebasing: destination[0..<bytes]))
            return bytes
        case .failure(let reason): throw reason
        case nil: return 0
        }
    }

    /// Takes `count` fresh bits, waiting for the pool to refill as often as needed.
    ///
    /// - Throws: The pool's closing reason, when it closes before `count` bits were taken.
    public func take(bits count: Int) throws(QRNGError) -> BitBuffer {
        precondition(count >= 0, "cannot take a negative number of bits")
        var result = BitBuffer(minimumCapacity: count)
        while result.count < count {
            switch claim(minimum: 1, maximum: count - result.count) {
            case .success(let claim): try finish(claim, into: &result)
            case .failure(let reason): throw reason
            case nil: try wait(until: .atLeast(1))
            }
        }
        return result
    }

    /// Takes `count` fresh bits, suspending the task (not blocking its thread) while the pool refills.
    ///
    /// - Throws: The pool's closing reason; ``QRNGError/Code/cancelled`` when the task is cancelled.
    public func take(bits count: Int) async throws(QRNGError) -> BitBuffer {
        precondition(count >= 0, "cannot take a negative number of bits")
        var result = BitBuffer(minimumCapacity: count)
        while result.count < count {
            switch claim(minimum: 1, maximum: count - result.count) {
            case .success(let claim): try finish(claim, into: &result)
            case .failure(let reason): throw reason
            case nil: try await waitAsync(until: .atLeast(1))
            }
        }
        return result
    }

    /// Takes between `minimum` and `maximum` fresh bits: waits until `minimum` are there, then takes as many as
    /// the pool holds up to `maximum`. For readers that want a batch but must not wait for more than they need.
    public func take(atLeast minimum: Int, atMost maximum: Int) throws(QRNGError) -> BitBuffer {
        precondition(minimum >= 0 && maximum >= minimum, "need 0 ≤ minimum ≤ maximum")
        var result = try take(bits: minimum)
        if maximum > minimum, case .success(let claim) = claim(minimum: 1, maximum: maximum - minimum) {
            try finish(claim, into: &result)
        }
        return result
    }

    /// Takes `count` fresh bits if the pool holds that many, without waiting.
    ///
    /// - Returns: The bits, or `nil` when the pool holds fewer than `count` ("empty").
    /// - Throws: The pool's closing reason, when it is closed and holds too few bits.
    public func tryTake(bits count: Int) throws(QRNGError) -> BitBuffer? {
        precondition(count >= 0, "cannot take a negative number of bits")
        guard count > 0 else { return BitBuffer() }
        switch claim(minimum: count, maximum: count) {
        case .success(let claim):
            var result = BitBuffer(minimumCapacity: count)
            try finish(claim, into: &result)
            return result
        case .failure(let reason): throw reason
        case nil: return nil
        }
    }

}

/// The outcome of a non-blocking read.
public enum PoolReadStatus: Sendable, Hashable {
    /// The destination was filled.
    case filled
    /// The pool held too few bits; nothing was taken.
    case empty
}

/// Counters of a pool's traffic: its accounting of bits in and out.
///
/// Every bit deposited is eventually taken, discarded or still held: `bitsDeposited = bitsTaken + bitsDiscarded +`
/// ``EntropyPool/availableBits``. A bit counts as taken when a consumer claims it, including bits a consumer then
/// drops unused (the rejected draws of ``EntropyPool/uniformIntegers(count:in:)``, the part of a read a FIFO reader
/// left behind), since they were handed out. Where the bits come from is ``EntropyPool/provenance``; the health of
/// the tests that approved them is the producer's (``EntropyProducer/statistics``).
public struct PoolStatistics: Sendable, Hashable, CustomStringConvertible {
    /// Bits the producer put in.
    public var bitsDeposited: UInt64 = 0
    /// Bits handed out to consumers.
    public var bitsTaken: UInt64 = 0
    /// Bits zeroed and dropped without being handed out: those left when a permanent health-test failure closed
    /// the pool.
    public var bitsDiscarded: UInt64 = 0
    /// Min-entropy credited to the deposited bits, in bits: one per bit from a seeded extractor sized by the
    /// leftover hash lemma, less from a conditioner that cannot claim full entropy.
    public var entropyCredited: Double = 0

    /// One line: bits in (and the entropy credited to them), out and discarded.
    public var description: String {
        let credited = (entropyCredited * 10).rounded() / 10
        return "\(bitsDeposited) bits in (\(credited) bits of entropy credited), \(bitsTaken) out, "
            + "\(bitsDiscarded) discarded"
    }

    /// Creates counters at zero.
    public init() {}
}
