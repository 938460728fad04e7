#if canImport(Glibc)
import Glibc
#endif

/// Serves a pool's bytes through a named pipe, the way /dev/hwrng serves a hardware generator: any process that
/// reads the FIFO gets fresh, health-tested random bytes.
///
/// The server writes through the one descriptor ``NamedPipe`` opened (read-write), so the pipe exists whether or
/// not a reader is attached, and the kernel's pipe buffer is the queue: bytes written into it are handed out, to
/// whichever reader reads them first, and a reader that leaves after 10 bytes leaves the rest for the next one.
/// Nothing is dropped when readers come and go. The server takes from the pool only as many bytes as the pipe
/// has room for at that moment (up to ``Configuration/chunkBytes``), and writes them at once: bits wait in the
/// pool, not in the server. While the health tests are not passing (an intermittent failure re-runs start-up
/// testing) nothing is written. A permanent failure, or the end of the source, closes the pool and ends
/// ``run(until:log:)`` with that error, after the bytes already taken have been written.
public final class FIFOServer {
    /// How the server behaves.
    public struct Configuration: Sendable {
        /// The most bytes taken from the pool and written per write; fewer when the pipe has less room.
        public var chunkBytes: Int
        /// Seconds between status lines; `nil` for none. A status line gives the bytes served, the reader
        /// sessions, the rate, the pool's accounting (``PoolStatistics``) and the health state.
        public var statsInterval: Double?
        /// Pipe buffer size to ask the kernel for (F_SETPIPE_SZ); larger buffers mean fewer wake-ups.
        public var pipeBufferBytes: Int
        /// Whether the data is simulated; every status line then says so.
        public var simulated: Bool
        /// Whether the data re-uses a recording's samples whose bits were handed out before (read from the start
        /// against its journal); every status line then says so.
        public var reused = false

        /// Creates a configuration; the defaults (1 MiB writes into a 1 MiB pipe) let a fast reader get what the
        /// pipe carries.
        public init(chunkBytes: Int = 1 << 20, statsInterval: Double? = nil, pipeBufferBytes: Int = 1 << 20,
                    simulated: Bool = false) {
            self.chunkBytes = chunkBytes
            self.statsInterval = statsInterval
            self.pipeBufferBytes = pipeBufferBytes
            self.simulated = simulated
        }
    }

    /// What the server has done.
    public struct Statistics: Sendable, Hashable {
        /// Bytes written into the pipe: handed out, to whichever reader reads them.
        public var bytesServed: UInt64 = 0
        /// Bytes taken from the pool but never written: only those of a write cut short by a stop.
        public var bytesDropped: UInt64 = 0
        /// Bytes still in the pipe, unread, when the server stopped: handed out, and gone with the pipe unless a
        /// reader takes them before the last descriptor closes.
        public var bytesUnreadAtEnd: UInt64 = 0

        public init() {}
    }

    /// The FIFO.
    public let pipe: NamedPipe
    /// The pool served.
    public let pool: EntropyPool
    /// The server's settings.
    public let configuration: Configuration
    /// What has been served so far.
    public private(set) var statistics = Statistics()

    private let healthState: @Sendable () -> PipelineStatistics?
    /// F_SETPIPE_SZ and F_GETPIPE_SZ (F_LINUX_SPECIFIC_BASE + 7 and + 8), which Glibc exports only under
    /// _GNU_SOURCE.
    private static let setPipeSize: Int32 = 1031
    private static let getPipeSize: Int32 = 1032

    /// Creates a server for `pool` on `pipe`.
    ///
    /// - Parameters:
    ///   - pipe: The FIFO to serve, through the descriptor it holds.
    ///   - pool: The pool whose bytes are served. Other consumers may take from it too: every bit still goes to
    ///     one of them only.
    ///   - configuration: Write size, pipe buffer size, status lines.
    ///   - health: The pipeline's current counters (``EntropyProducer/statistics``), consulted before every
    ///     chunk; `nil` when the pool is filled some other way.
    public init(
        pipe: NamedPipe, pool: EntropyPool, configuration: Configuration = Configuration(),
        health: @escaping @Sendable () -> PipelineStatistics? = { nil }
    ) {
        self.pipe = pipe
        self.pool = pool
        self.configuration = configuration
        self.healthState = health
    }

    /// Serves until `shouldStop` returns `true` (then the write in progress is finished), the pool closes, or a
    /// system call fails.
    ///
    /// - Throws: The pool's closing reason (a permanent health failure, the end of the source) or a system
    ///   error. A normal stop returns.
    ///
    /// - Parameters:
    ///   - shouldStop: Asked at every turn whether to stop.
    ///   - stopDescriptor: A descriptor that becomes readable when `shouldStop` may have turned true (the read
    ///     end of a signal handler's self-pipe). With it, a server whose pipe is full sleeps in `poll` until a
    ///     reader makes room, a stop is asked for or a status line is due: no wake-ups while idle. Without it,
    ///     the server looks at `shouldStop` every 100 ms.
    ///   - log: Where status lines and health pauses go.
    public func run(
        until shouldStop: () -> Bool, stopDescriptor: Int32? = nil, log: (String) -> Void
    ) throws(QRNGError) {
        var chunk = [UInt8](repeating: 0, count: configuration.chunkBytes)
        defer { chunk.withUnsafeMutableBytes { secureZero($0) } }
        // Served bytes stay in `chunk` only until the next chunk overwrites them; whenever the server is about to
        // idle (no bits, health pause, no reader) they are wiped, so none linger while nothing is served. Wiping
        // after every write instead would cost a pass over the chunk per chunk.
        var dirty = false
        func wipe() {
            guard dirty else { return }
            chunk.withUnsafeMutableBytes { secureZero($0) }
            dirty = false
        }
        let clock = ContinuousClock()
        let started = clock.now
        var lastStatus = started
        var pausedForHealth = false
        func status() {
            guard let interval = configuration.statsInterval, (clock.now - lastStatus) >= .seconds(interval) else {
                return
            }
            lastStatus = clock.now
            let elapsed: Double = max(1e-9, Double((clock.now - started).components.seconds))
            let rate: Double = Double(statistics.bytesServed) / elapsed / 1e6
            var line = "qrng serve: \(statistics.bytesServed) bytes served, "
            line += "\((rate * 100).rounded() / 100) MB/s; pool \(pool.statistics)"
            if let health = healthState() { line += "; health \(health.healthState) (\(health.failureCount) failures)" }
            if configuration.simulated { line += " [SIMULATED output: pseudo-random, not quantum]" }
            if configuration.reused { line += " [RE-USED: bits handed out before, read again from the start]" }
            log(line)
        }

        let descriptor = pipe.descriptor
        /// Sleeps until the pipe has room, a stop may have been asked for, or the next status line is due.
        func waitUntilWritable() {
            var descriptors = [pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)]
            var timeout: Int32 = 100
            if let stopDescriptor {
                descriptors.append(pollfd(fd: stopDescriptor, events: Int16(POLLIN), revents: 0))
                timeout = -1
                if let interval = configuration.statsInterval {
                    let due = lastStatus.advanced(by: .seconds(interval)) - clock.now
                    let milliseconds = due.components.seconds * 1000 + due.components.attoseconds / 1_000_000_000_000_000
                    timeout = Int32(clamping: max(1, milliseconds + 1))
                }
            }
            _ = poll(&descriptors, nfds_t(descriptors.count), timeout)
        }
        _ = fcntl(descriptor, Self.setPipeSize, Int32(configuration.pipeBufferBytes))
        // What the kernel granted: an unprivileged process gets at most /proc/sys/fs/pipe-max-size.
        let pipeBytes = max(Int(fcntl(descriptor, Self.getPipeSize)), 4096)
        var pending = 0..<0
        var stopDeadline: ContinuousClock.Instant?
        defer {
            // Taken but not written (a stop cut the write short): never served to anyone.
            statistics.bytesDropped += UInt64(pending.count)
            var unread: Int32 = 0
            if ioctl(descriptor, UInt(FIONREAD), &unread) == 0 { statistics.bytesUnreadAtEnd = UInt64(unread) }
            wipe()
        }
        while true {
            status()
            if shouldStop() {
                // Finish the write in progress, but do not wait for ever for readers to make room.
                if pending.isEmpty { return }
                let deadline = stopDeadline ?? clock.now.advanced(by: .seconds(2))
                stopDeadline = deadline
                if clock.now > deadline { return }
            }
            if pending.isEmpty {
                if let health = healthState(), health.healthState != .healthy {
                    if !pausedForHealth {
                        pausedForHealth = true
                        let why = health.lastFailure.map { ": \($0)" } ?? ""
                        log("qrng serve: serving paused, health tests \(health.healthState)\(why)")
                    }
                    wipe()
                    // Gated and closed (a permanent failure closes the pool): nothing will be written again, and
                    // the read below, which would report the closing, is never reached while gated.
                    if let reason = pool.closedReason { throw reason }
                    usleep(10_000)
                    continue
                }
                if pausedForHealth {
                    pausedForHealth = false
                    log("qrng serve: health tests pass again; serving resumed")
                }
                // Take only what the pipe can hold now; a full pipe is waited for before any bit is taken.
                var unread: Int32 = 0
                let room =
                    ioctl(descriptor, UInt(FIONREAD), &unread) == 0
                    ? min(chunk.count, pipeBytes - Int(unread)) : chunk.count
                guard room > 0 else {
                    wipe()
                    waitUntilWritable()
                    continue
                }
                let outcome = chunk.withUnsafeMutableBytes { buffer in
                    Result { () throws(QRNGError) in
                        try pool.readAvailable(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<room]))
                    }
                }
                let count: Int
                do {
                    count = try outcome.get()
                } catch where error.code == .endOfInput {
                    // A recording ended: what is in the pipe was handed out, so wait for readers to take it
                    // before the pipe goes away with this process.
                    while !shouldStop(), ioctl(descriptor, UInt(FIONREAD), &unread) == 0, unread > 0 { usleep(10_000) }
                    throw error
                }
                guard count > 0 else {
                    // Sleep until the producer deposits, but look at `shouldStop` at least every 100 ms.
                    wipe()
                    _ = pool.waitForBits(atLeast: 8, timeout: .milliseconds(100))
                    continue
                }
                pending = 0..<count
                dirty = true
            }
            // Write first and poll only when the pipe is full: a reader keeping up costs one call per chunk.
            let written = chunk.withUnsafeBytes { bytes in
                write(descriptor, bytes.baseAddress! + pending.lowerBound, pending.count)
            }
            if written >= 0 {
                statistics.bytesServed += UInt64(written)
                pending = (pending.lowerBound + written)..<pending.upperBound
                continue
            }
            switch errno {
            case EAGAIN:
                waitUntilWritable()
            case EINTR:
                continue
            default:
                throw QRNGError(
                    .systemCall, "write to the FIFO failed", context: .init(file: pipe.path, errno: errno))
            }
        }
    }
}
