import Dispatch
import Synchronization

/// Runs a ``Pipeline`` on a thread of its own and keeps an ``EntropyPool`` filled.
///
/// The producer fills the pool to capacity, then sleeps until consumers have drained it below its low
/// watermark, so memory stays bounded and the pipeline runs in long bursts. It closes the pool when it stops:
/// with the failure when the health tests fail permanently (the pool's remaining bits are then discarded too),
/// with ``QRNGError/Code/endOfInput`` when the source ends (consumers may drain what is left), and with
/// ``QRNGError/Code/poolClosed`` when ``stop()`` is called.
public final class EntropyProducer: Sendable {
    /// The pool this producer fills.
    public let pool: EntropyPool

    private let latestStatistics: Mutex<PipelineStatistics>
    private let finished = DispatchSemaphore(value: 0)

    /// Whether consumers waiting for bits are told of an intermittent health-test failure (with the failure as
    /// the error) rather than left waiting for the tests to recover.
    public let interruptsConsumersOnFailure: Bool
    /// Called on the producer thread for every health-test failure and monitor alarm, in order.
    private let failureHandler: (@Sendable (HealthFailure) -> Void)?

    /// Starts a producer thread for `pipeline`.
    ///
    /// - Parameters:
    ///   - pipeline: The pipeline to run.
    ///   - pool: The pool to fill.
    ///   - interruptsConsumersOnFailure: Whether waiting consumers get an error on an intermittent health-test
    ///     failure; by default they keep waiting while start-up testing re-runs. A permanent failure always
    ///     closes the pool.
    ///   - onFailure: Called on the producer thread with each health-test failure and monitor alarm, for logging.
    public init(
        pipeline: Pipeline, pool: EntropyPool, interruptsConsumersOnFailure: Bool = false,
        onFailure: (@Sendable (HealthFailure) -> Void)? = nil
    ) {
        self.pool = pool
        self.interruptsConsumersOnFailure = interruptsConsumersOnFailure
        self.failureHandler = onFailure
        self.latestStatistics = Mutex(pipeline.statistics)
        detachThread { [self, pipeline] in
            self.run(pipeline)
        }
    }

    /// The pipeline's counters, as of its latest step.
    public var statistics: PipelineStatistics { latestStatistics.withLock { $0 } }

    /// Stops producing and closes the pool; returns once the producer thread has finished.
    public func stop() {
        pool.close()
        waitUntilFinished()
    }

    /// Waits until the producer thread has finished.
    public func waitUntilFinished() {
        finished.wait()
        finished.signal()
    }

    private func run(_ initialPipeline: Pipeline) {
        var pipeline = initialPipeline
        var output = BitBuffer(minimumCapacity: 2 * pipeline.samplesPerStep)
        var reported = pipeline.failures.count
        func reportFailures() {
            guard let failureHandler else { return }
            for failure in pipeline.failures[reported...] { failureHandler(failure) }
            reported = pipeline.failures.count
        }
        defer {
            reportFailures()
            output.removeAll()
            latestStatistics.withLock { $0 = pipeline.statistics }
            finished.signal()
        }
        // A journaled pool needs to know how far into the recording each deposit reaches.
        pipeline.tracksSourceMarks = pool.journal != nil
        do {
            while true {
                if pool.availableBits >= pool.capacityBits { try pool.waitForRoom() }
                guard try pipeline.step(into: &output) else {
                    try pool.deposit(output, entropyPerBit: pipeline.outputEntropyPerBit, sourceMarks: pipeline.sourceMarks)
                    pool.close(reason: QRNGError(.endOfInput, "the entropy source ended"))
                    return
                }
                let failuresBefore = latestStatistics.withLock { $0.failureCount }
                latestStatistics.withLock { $0 = pipeline.statistics }
                reportFailures()
                if interruptsConsumersOnFailure, pipeline.health.failureCount > failuresBefore,
                    let failure = pipeline.failures.last(where: \.gating)
                {
                    pool.interruptWaiters(with: failure.error)
                }
                try pool.deposit(output, entropyPerBit: pipeline.outputEntropyPerBit, sourceMarks: pipeline.sourceMarks)
                output.removeAll(keepingCapacity: true)
            }
        } catch where error.code == .healthTestFailure {
            pool.close(reason: error, discardingRemainingBits: true)
        } catch {
            pool.close(reason: error)
        }
    }
}
