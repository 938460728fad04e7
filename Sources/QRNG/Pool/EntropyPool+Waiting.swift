import Dispatch
import Synchronization

// How the pool's consumers and producer wait for it to change, and how a change wakes only the waiters it can
// satisfy.
extension EntropyPool {
    /// What a waiter waits for.
    ///
    /// Knowing it, a change wakes only the waiters it can satisfy: a consumer's take does not wake the other
    /// consumers, nor a producer waiting for the low watermark until the level is below it.
    enum Condition: Sendable {
        /// At least this many bits ready to hand out.
        case atLeast(Int)
        /// Fewer than this many bits ready to hand out.
        case below(Int)
        /// Room for a write, and no other write in progress.
        case writable

        func holds(_ state: borrowing State) -> Bool {
            switch self {
            case .atLeast(let bits): state.ring.count >= bits
            case .below(let bits): state.ring.count < bits
            case .writable: !state.ring.isWriting && state.ring.freeBits > 0
            }
        }
    }

    /// Someone waiting for the pool to change: a blocked thread or a suspended task.
    struct Waiter: Sendable {
        enum Wakeable: Sendable {
            case thread(DispatchSemaphore)
            case task(CheckedContinuation<Void, Never>)
        }

        let condition: Condition
        let wakeable: Wakeable

        func wake() {
            switch wakeable {
            case .thread(let semaphore): semaphore.signal()
            case .task(let continuation): continuation.resume()
            }
        }
    }


    /// Blocks until `condition` holds or the pool closes; re-checks whenever a change may have satisfied it.
    ///
    /// A waiter registers a semaphore under the lock and sleeps on it outside; a change that satisfies its
    /// condition (or closes the pool, or interrupts waiters) signals it. A change between registering and
    /// sleeping leaves the semaphore signalled, so no wake-up is lost.
    func wait(until condition: Condition) throws(QRNGError) {
        let interruptionsBefore = state.withLock { $0.interruptions }
        while true {
            let semaphore = DispatchSemaphore(value: 0)
            let outcome: Result<Void, QRNGError>? = state.withLock { state in
                if let error = Self.readiness(state, condition, interruptionsBefore) { return error }
                state.waiters.append(Waiter(condition: condition, wakeable: .thread(semaphore)))
                return nil
            }
            switch outcome {
            case .success: return
            case .failure(let reason): throw reason
            case nil: semaphore.wait()
            }
        }
    }

    /// Waits until the pool holds at least `bits` bits, or is closed or interrupted, or `timeout` has passed; for
    /// a consumer that must also look elsewhere now and then (a server watching for a stop), instead of polling.
    ///
    /// - Returns: `false` when the timeout passed first.
    public func waitForBits(atLeast bits: Int, timeout: Duration) -> Bool {
        let interruptionsBefore = state.withLock { $0.interruptions }
        let semaphore = DispatchSemaphore(value: 0)
        let ready = state.withLock { state in
            if Self.readiness(state, .atLeast(bits), interruptionsBefore) != nil { return true }
            state.waiters.append(Waiter(condition: .atLeast(bits), wakeable: .thread(semaphore)))
            return false
        }
        if ready { return true }
        let nanoseconds = timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000
        // A waiter left behind by a timeout is signalled later with nobody waiting on it, which is harmless.
        return semaphore.wait(timeout: .now() + .nanoseconds(Int(nanoseconds))) == .success
    }

    /// The same wait for a task: it suspends instead of blocking its thread.
    func waitAsync(until condition: Condition) async throws(QRNGError) {
        let interruptionsBefore = state.withLock { $0.interruptions }
        while true {
            if Task.isCancelled { throw QRNGError(.cancelled, "the task waiting for random bits was cancelled") }
            var outcome: Result<Void, QRNGError>?
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let result: Result<Void, QRNGError>? = state.withLock { state in
                    if let ready = Self.readiness(state, condition, interruptionsBefore) { return ready }
                    state.waiters.append(Waiter(condition: condition, wakeable: .task(continuation)))
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
    static func readiness(
        _ state: borrowing State, _ condition: Condition, _ interruptionsBefore: Int
    ) -> Result<Void, QRNGError>? {
        if condition.holds(state) { return .success(()) }
        if let reason = state.closedReason { return .failure(reason) }
        if state.interruptions != interruptionsBefore, let interruption = state.interruption {
            return .failure(interruption)
        }
        return nil
    }

    /// Changes the state under the lock, then wakes the waiters whose condition the change satisfied (all of them
    /// with `wakingAll`) once the lock is released.
    ///
    /// Waking them under the lock would let a woken thread on the same CPU preempt the waker while it still holds
    /// the lock, only to spin on it.
    func changing<Result: Sendable>(
        wakingAll: Bool = false, _ body: (inout State) -> Result
    ) -> Result {
        let (result, woken) = state.withLock { state -> (Result, [Waiter]) in
            let result = body(&state)
            guard !state.waiters.isEmpty else { return (result, []) }
            var woken: [Waiter] = []
            var kept: [Waiter] = []
            for waiter in state.waiters {
                if wakingAll || waiter.condition.holds(state) { woken.append(waiter) } else { kept.append(waiter) }
            }
            state.waiters = kept
            return (result, woken)
        }
        for waiter in woken { waiter.wake() }
        return result
    }
}
