import Dispatch
import Synchronization

/// The buffered pool between the pipeline and its consumers: health-approved, extracted bits, each handed out
/// at most once.
///
/// A producer (see ``EntropyProducer``) deposits extracted bits; any number of consumers on any threads take
/// them out. Bits are taken in order, never copied to two consumers, and zeroed in the pool's storage as they
/// are taken. The pool holds at most ``capacityBits`` bits; a producer depositing into a full pool waits.
///
/// Consumers choose how to wait: ``read(into:)`` and ``take(bits:)`` block until the bits are there,
/// ``tryRead(into:)`` and ``tryTake(bits:)`` return at once and report `.empty` (or `nil`) when the pool holds too
/// few bits. When the producer stops, fails a health test permanently or dies, it closes the pool: waiting
/// consumers wake up and get the reason as a ``QRNGError``, instead of hanging.
public final class EntropyPool: Sendable {
    /// Where the pool's bits come from.
    public let provenance: Provenance
    /// The most bits the pool holds.
    public let capacityBits: Int
    /// The level below which a waiting producer resumes.
    public let lowWatermarkBits: Int

    private struct State: ~Copyable {
        var ring: BitRing
        var closedReason: QRNGError?
        var waiters: [Waiter] = []
        var statistics = PoolStatistics()
        /// Bumped by ``EntropyPool/interruptWaiters(with:)``; a waiter that sees it change gets `interruption`.
        var interruptions = 0
        var interruption: QRNGError?
    }

    /// Someone waiting for the pool to change: a blocked thread or a suspended task.
    private enum Waiter {
        case thread(DispatchSemaphore)
        case task(CheckedContinuation<Void, Never>)

        func wake() {
            switch self {
            case .thread(let semaphore): semaphore.signal()
            case .task(let continuation): continuation.resume()
            }
        }
    }

    private let state: Mutex<State>

    /// Creates an empty pool.
    ///
    /// - Parameters:
    ///   - provenance: Where its bits come from; reported to consumers.
    ///   - capacityBits: The most bits the pool holds, rounded up to a power of two words; 8 Mibit by default.
    ///   - lowWatermarkBits: The level below which a producer waiting in ``waitForRoom()`` resumes; half the
    ///     capacity by default.
    public init(provenance: Provenance, capacityBits: Int = 1 << 23, lowWatermarkBits: Int? = nil) {
        precondition(capacityBits >= 64, "a pool holds at least 64 bits")
        let ring = BitRing(minimumCapacityBits: capacityBits)
        self.provenance = provenance
        self.capacityBits = ring.capacityBits
        self.lowWatermarkBits = min(lowWatermarkBits ?? ring.capacityBits / 2, ring.capacityBits)
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
    /// - Parameters:
    ///   - bits: The bits.
    ///   - entropyPerBit: The min-entropy each bit is credited with in ``PoolStatistics/entropyCredited``: 1 for
    ///     the output of a seeded extractor sized by the leftover hash lemma, less for a conditioner's output
    ///     that cannot claim full entropy.
    /// - Throws: The pool's closing reason, if it is closed before all bits went in.
    public func deposit(_ bits: BitBuffer, entropyPerBit: Double = 1) throws(QRNGError) {
        var position = 0
        while position < bits.count {
            let outcome: Result<Int, QRNGError>? = state.withLock { state in
                if let reason = state.closedReason { return .failure(reason) }
                let accepted = min(state.ring.freeBits, bits.count - position)
                guard accepted > 0 else { return nil }
                state.ring.write(bits, range: position..<position + accepted)
                state.statistics.bitsDeposited += UInt64(accepted)
                state.statistics.entropyCredited += Double(accepted) * entropyPerBit
                Self.wakeAll(&state)
                return .success(accepted)
            }
            switch outcome {
            case .success(let accepted): position += accepted
            case .failure(let reason): throw reason
            case nil: try wait { $0.ring.freeBits > 0 }
            }
        }
    }

    /// Waits until the pool's level falls below the low watermark, so that a producer refills in large steps.
    ///
    /// - Throws: The pool's closing reason, if it is closed.
    public func waitForRoom() throws(QRNGError) {
        let lowWatermark = lowWatermarkBits
        try wait { $0.ring.count < lowWatermark }
    }

    /// Closes the pool: producers and waiting consumers are woken and get `reason`.
    ///
    /// - Parameters:
    ///   - reason: Why the pool closed, as consumers will see it; a plain "pool closed" error by default.
    ///   - discardingRemainingBits: Whether to zero and drop the bits still in the pool (after a permanent
    ///     health-test failure) rather than let consumers drain them first (at the end of a finite source).
    public func close(reason: QRNGError? = nil, discardingRemainingBits: Bool = false) {
        state.withLock { state in
            guard state.closedReason == nil else { return }
            state.closedReason = reason ?? QRNGError(.poolClosed, "the pool was closed")
            if discardingRemainingBits {
                state.statistics.bitsDiscarded += UInt64(state.ring.count)
                state.ring.removeAll()
            }
            Self.wakeAll(&state)
        }
    }

    /// Wakes every waiting consumer with `error` without closing the pool: after an intermittent health-test
    /// failure, for consumers that would rather hear of it than wait for the recovery. Bits already in the pool
    /// stay valid; later reads proceed normally.
    public func interruptWaiters(with error: QRNGError) {
        state.withLock { state in
            state.interruptions += 1
            state.interruption = error
            Self.wakeAll(&state)
        }
    }

    // MARK: Consumer side

    /// Fills `destination` with fresh random bytes, waiting for the pool to refill as often as needed.
    ///
    /// Large reads are served in pieces as the pool refills; every piece is this caller's alone.
    /// - Throws: The pool's closing reason, when it closes before `destination` is full.
    public func read(into destination: UnsafeMutableRawBufferPointer) throws(QRNGError) {
        let target = LentBuffer(destination)
        var offset = 0
        while offset < destination.count {
            let outcome: Result<Int, QRNGError>? = state.withLock { state in
                let bytes = min(state.ring.count / 8, target.buffer.count - offset)
                if bytes == 0 {
                    if let reason = state.closedReason { return .failure(reason) }
                    return nil
                }
                state.ring.take(into: UnsafeMutableRawBufferPointer(rebasing: target.buffer[offset..<offset + bytes]))
                state.statistics.bitsTaken += UInt64(bytes * 8)
                Self.wakeAll(&state)
                return .success(bytes)
            }
            switch outcome {
            case .success(let bytes): offset += bytes
            case .failure(let reason): throw reason
            case nil: try wait { $0.ring.count >= 8 }
            }
        }
    }

    /// Fills `destination` with fresh random bytes if the pool holds enough, without waiting.
    ///
    /// - Returns: `.filled`, or `.empty` (and `destination` untouched) when the pool holds fewer bytes.
    /// - Throws: The pool's closing reason, when it is closed and holds too few bytes.
    public func tryRead(into destination: UnsafeMutableRawBufferPointer) throws(QRNGError) -> PoolReadStatus {
        let target = LentBuffer(destination)
        return try state.withLock { (state) throws(QRNGError) -> PoolReadStatus in
            guard state.ring.count >= target.buffer.count * 8 else {
                if let reason = state.closedReason { throw reason }
                return .empty
            }
            state.ring.take(into: target.buffer)
            state.statistics.bitsTaken += UInt64(destination.count * 8)
            Self.wakeAll(&state)
            return .filled
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
            try wait { $0.ring.count >= 8 }
        }
    }

    /// Fills as much of `destination` as the pool holds whole bytes for, without waiting.
    ///
    /// - Returns: The number of bytes written, 0 when the pool holds less than a byte.
    /// - Throws: The pool's closing reason, when it is closed and holds less than a byte.
    public func readAvailable(into destination: UnsafeMutableRawBufferPointer) throws(QRNGError) -> Int {
        let target = LentBuffer(destination)
        return try state.withLock { (state) throws(QRNGError) -> Int in
            let bytes = min(state.ring.count / 8, target.buffer.count)
            guard bytes > 0 else {
                if let reason = state.closedReason { throw reason }
                return 0
            }
            state.ring.take(into: UnsafeMutableRawBufferPointer(rebasing: target.buffer[0..<bytes]))
            state.statistics.bitsTaken += UInt64(bytes * 8)
            Self.wakeAll(&state)
            return bytes
        }
    }

    /// Takes `count` fresh bits, waiting for the pool to refill as often as needed.
    ///
    /// - Throws: The pool's closing reason, when it closes before `count` bits were taken.
    public func take(bits count: Int) throws(QRNGError) -> BitBuffer {
        precondition(count >= 0, "cannot take a negative number of bits")
        var result = BitBuffer(minimumCapacity: count)
        while result.count < count {
            let outcome: Result<Int, QRNGError>? = state.withLock { state in
                let taking = min(state.ring.count, count - result.count)
                if taking == 0 {
                    if let reason = state.closedReason { return .failure(reason) }
                    return nil
                }
                state.ring.take(taking, into: &result)
                state.statistics.bitsTaken += UInt64(taking)
                Self.wakeAll(&state)
                return .success(taking)
            }
            switch outcome {
            case .success: continue
            case .failure(let reason): throw reason
            case nil: try wait { $0.ring.count > 0 }
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
            let outcome: Result<Int, QRNGError>? = state.withLock { state in
                let taking = min(state.ring.count, count - result.count)
                if taking == 0 {
                    if let reason = state.closedReason { return .failure(reason) }
                    return nil
                }
                state.ring.take(taking, into: &result)
                state.statistics.bitsTaken += UInt64(taking)
                Self.wakeAll(&state)
                return .success(taking)
            }
            switch outcome {
            case .success: continue
            case .failure(let reason): throw reason
            case nil: try await waitAsync { $0.ring.count > 0 }
            }
        }
        return result
    }

    /// Takes between `minimum` and `maximum` fresh bits: waits until `minimum` are there, then takes as many as
    /// the pool holds up to `maximum`. For readers that want a batch but must not wait for more than they need.
    public func take(atLeast minimum: Int, atMost maximum: Int) throws(QRNGError) -> BitBuffer {
        precondition(minimum >= 0 && maximum >= minimum, "need 0 ≤ minimum ≤ maximum")
        var result = try take(bits: minimum)
        let extra = state.withLock { state -> BitBuffer in
            let taking = min(state.ring.count, maximum - minimum)
            var bits = BitBuffer(minimumCapacity: taking)
            state.ring.take(taking, into: &bits)
            state.statistics.bitsTaken += UInt64(taking)
            if taking > 0 { Self.wakeAll(&state) }
            return bits
        }
        result.append(contentsOf: extra)
        return result
    }

    /// Takes `count` fresh bits if the pool holds that many, without waiting.
    ///
    /// - Returns: The bits, or `nil` when the pool holds fewer than `count` ("empty").
    /// - Throws: The pool's closing reason, when it is closed and holds too few bits.
    public func tryTake(bits count: Int) throws(QRNGError) -> BitBuffer? {
        precondition(count >= 0, "cannot take a negative number of bits")
        return try state.withLock { (state) throws(QRNGError) -> BitBuffer? in
            guard state.ring.count >= count else {
                if let reason = state.closedReason { throw reason }
                return nil
            }
            var result = BitBuffer(minimumCapacity: count)
            state.ring.take(count, into: &result)
            state.statistics.bitsTaken += UInt64(count)
            Self.wakeAll(&state)
            return result
        }
    }

    // MARK: Waiting

    /// Blocks until `isReady` holds or the pool closes; re-checks after every change to the pool.
    ///
    /// A waiter registers a semaphore under the lock and sleeps on it outside; every change signals all
    /// registered waiters. A change between registering and sleeping leaves the semaphore signalled, so no
    /// wake-up is lost.
    private func wait(until isReady: @Sendable (borrowing State) -> Bool) throws(QRNGError) {
        let interruptionsBefore = state.withLock { $0.interruptions }
        while true {
            let semaphore = DispatchSemaphore(value: 0)
            let outcome: Result<Void, QRNGError>? = state.withLock { state in
                if let error = Self.readiness(state, isReady, interruptionsBefore) { return error }
                state.waiters.append(.thread(semaphore))
                return nil
            }
            switch outcome {
            case .success: return
            case .failure(let reason): throw reason
            case nil: semaphore.wait()
            }
        }
    }

    /// The same wait for a task: it suspends instead of blocking its thread.
    private func waitAsync(until isReady: @escaping @Sendable (borrowing State) -> Bool) async throws(QRNGError) {
        let interruptionsBefore = state.withLock { $0.interruptions }
        while true {
            if Task.isCancelled { throw QRNGError(.cancelled, "the task waiting for random bits was cancelled") }
            var outcome: Result<Void, QRNGError>?
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let result: Result<Void, QRNGError>? = state.withLock { state in
                    if let ready = Self.readiness(state, isReady, interruptionsBefore) { return ready }
                    state.waiters.append(.task(continuation))
                    return nil
                }
                if let result {
                    outcome = result
                    continuation.resume()
                }
            }
            switch outcome {
            case .success: return
            case .failure(let reason): throw reason
            case nil: continue
            }
        }
    }

    /// `.success` when ready; the closing reason, or an interruption since the wait began, as `.failure`.
    private static func readiness(
        _ state: borrowing State, _ isReady: @Sendable (borrowing State) -> Bool, _ interruptionsBefore: Int
    ) -> Result<Void, QRNGError>? {
        if isReady(state) { return .success(()) }
        if let reason = state.closedReason { return .failure(reason) }
        if state.interruptions != interruptionsBefore, let interruption = state.interruption {
            return .failure(interruption)
        }
        return nil
    }

    private static func wakeAll(_ state: inout State) {
        for waiter in state.waiters { waiter.wake() }
        state.waiters.removeAll(keepingCapacity: true)
    }
}

/// A caller's buffer lent to the pool's lock for the duration of one copy.
///
/// Raw pointers are not `Sendable`, so the compiler cannot see that the lock never keeps the buffer: the ring
/// only copies bits into it before the lock is released, while the caller waits.
private struct LentBuffer: @unchecked Sendable {
    let buffer: UnsafeMutableRawBufferPointer
    init(_ buffer: UnsafeMutableRawBufferPointer) { self.buffer = buffer }
}

/// The outcome of a non-blocking read.
public enum PoolReadStatus: Sendable, Hashable {
    /// The destination was filled.
    case filled
    /// The pool held too few bits; nothing was taken.
    case empty
}

/// Counters of a pool's traffic.
public struct PoolStatistics: Sendable, Hashable {
    /// Bits the producer put in.
    public var bitsDeposited: UInt64 = 0
    /// Bits handed out to consumers.
    public var bitsTaken: UInt64 = 0
    /// Bits zeroed and dropped without being handed out.
    public var bitsDiscarded: UInt64 = 0
    /// Min-entropy credited to the deposited bits, in bits.
    public var entropyCredited: Double = 0

    public init() {}
}
