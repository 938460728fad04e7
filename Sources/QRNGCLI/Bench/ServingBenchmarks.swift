import Dispatch
import Foundation
import QRNG
import QRNGStatistics
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The benchmarks of issue 6 and 7's speed targets: the FIFO against the machine's own named pipe, bulk basis
/// choices, the pool's hand-out rate with contending consumers, and the SP 800-22 battery.
///
/// Threads are started in set-up and stopped when the runner drops the body (the rigs' `deinit`), so nothing runs
/// between benchmarks.
extension Benchmarks {
    /// Bytes a pipe reader reads per timed run.
    static let pipeRunBytes = 256 * megabyte
    /// The reader's buffer: a reader of a device file asks for large blocks, like `dd bs=1M`.
    static let pipeReadBytes = megabyte

    /// The FIFO against the machine's own named pipe. The baseline is what `dd if=/dev/zero bs=64K of=FIFO` does
    /// (the yardstick): a writer thread writing 64 KiB blocks of zeros into a pipe of the default size.
    /// baseline/pipe-1M is the same writer with the 1 MiB pipe buffer FIFOServer asks for, for comparison. The
    /// reader is the same in all three: 1 MiB reads into one buffer, like `dd bs=1M of=/dev/null`.
    static func serving() -> [Benchmark] {
        [
            Benchmark(name: "baseline/pipe", unit: .bytes, workPerRun: Double(pipeRunBytes), baseline: nil) {
                let rig = try PipeRig(name: "pipe", writer: .zeros(pipeBufferBytes: nil))
                return { try rig.read(pipeRunBytes) }
            },
            Benchmark(name: "baseline/pipe-1M", unit: .bytes, workPerRun: Double(pipeRunBytes), baseline: nil) {
                let rig = try PipeRig(name: "pipe-1M", writer: .zeros(pipeBufferBytes: 1 << 20))
                return { try rig.read(pipeRunBytes) }
            },
            Benchmark(name: "serve/fifo", unit: .bytes, workPerRun: Double(pipeRunBytes), baseline: "baseline/pipe") {
                let rig = try PipeRig(name: "serve", writer: .server)
                return { try rig.read(pipeRunBytes) }
            },
        ]
    }

    /// Bulk basis choices from a pool that a filler thread keeps full.
    static func consumers() -> [Benchmark] {
        let perCall = 1 << 20
        let calls = 16
        return [
            Benchmark(
                name: "consume/basis-choices", unit: .items("choices"), workPerRun: Double(perCall * calls),
                baseline: nil
            ) {
                let filler = PoolFiller(capacityBits: 1 << 23)
                var choices = [Basis](repeating: .rectilinear, count: perCall)
                return {
                    var checksum: UInt64 = 0
                    for _ in 0..<calls {
                        try choices.withUnsafeMutableBufferPointer { buffer throws(QRNGError) in
                            try filler.pool.basisChoices(into: buffer)
                        }
                        checksum &+= UInt64(choices[perCall - 1].rawValue)
                    }
                    withExtendedLifetime(filler) {}
                    return checksum
                }
            }
        ]
    }

    /// The pool's hand-out rate: a filler thread keeps it full while one or two consumers take 64 KiB reads. Each
    /// run hands out the same total, so the two rates compare directly.
    static func poolContention() -> [Benchmark] {
        let total = 64 * megabyte
        let readBytes = 1 << 16
        return [
            Benchmark(name: "pool/one-consumer", unit: .bytes, workPerRun: Double(total), baseline: nil) {
                let rig = ConsumerRig(consumers: 1, readBytes: readBytes)
                return { try rig.run(total: total) }
            },
            Benchmark(
                name: "pool/two-consumers", unit: .bytes, workPerRun: Double(total), baseline: "pool/one-consumer"
            ) {
                let rig = ConsumerRig(consumers: 2, readBytes: readBytes)
                return { try rig.run(total: total) }
            },
        ]
    }

    /// The fifteen SP 800-22 tests through the public battery, on sequences of 10⁶ bits of xoshiro256** output.
    /// Counted in bits tested, against /dev/urandom's rate in the same run; the table's time per run is the
    /// figure the targets name (0.1 s for one sequence, 10 s for a hundred).
    static func statistics() -> [Benchmark] {
        let length = 1_000_000
        return [
            Benchmark(name: "sts/1x1M", unit: .bits, workPerRun: Double(length), baseline: "baseline/urandom") {
                let battery = try StatisticalTestBattery(length: length)
                let sequence = randomBits(length, seed: 11)
                return { stsChecksum(battery.run(sequence)) }
            },
            Benchmark(
                name: "sts/100x1M", unit: .bits, workPerRun: Double(100 * length), baseline: "baseline/urandom"
            ) {
                let battery = try StatisticalTestBattery(length: length)
                let sequences = (0..<100).map { randomBits(length, seed: 100 + UInt64($0)) }
                return { sequences.reduce(0) { $0 &+ stsChecksum(battery.run($1)) } }
            },
        ]
    }

    static func stsChecksum(_ result: SequenceResult) -> UInt64 {
        result.results.reduce(0) { sum, test in
            test.subtests.reduce(sum) { $0 &+ UInt64(($1.pValue * 1e9).rounded()) }
        }
    }
}

/// Starts a detached thread and lets the caller wait for it to end.
final class BenchThread: Sendable {
    private let done = DispatchSemaphore(value: 0)

    init(_ body: @escaping @Sendable () -> Void) {
        Thread.detachNewThread { [done] in
            body()
            done.signal()
        }
    }

    func join() {
        done.wait()
    }
}

/// A flag one thread raises for others; a class so that threads can hold it without holding its owner.
final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)

    var isSet: Bool { flag.load(ordering: .relaxed) }

    func set() { flag.store(true, ordering: .relaxed) }
}

/// A pool kept between half full and full by a thread depositing pre-made pseudo-random words: as fast a producer
/// as the pool allows, so that what is measured is the consumers' side.
final class PoolFiller: Sendable {
    let pool: EntropyPool
    private let thread: BenchThread

    init(capacityBits: Int) {
        let pool = EntropyPool(
            provenance: Provenance(kind: .simulated, detail: "bench filler"), capacityBits: capacityBits)
        self.pool = pool
        let chunk = Benchmarks.randomBits(min(1 << 21, pool.capacityBits / 2), seed: 5)
        thread = BenchThread {
            do {
                while true {
                    try pool.waitForRoom()
                    try pool.deposit(chunk)
                }
            } catch {}
        }
        // Start from a full pool.
        while pool.availableBits < pool.capacityBits / 2 { usleep(100) }
    }

    deinit {
        pool.close()
        thread.join()
    }
}

/// One or two consumers reading a filled pool in fixed-size reads: the calling thread, and a helper thread that
/// the calling thread hands half of each run to.
final class ConsumerRig {
    /// What the calling thread and the helper share; the helper holds this, not the rig, so that the rig's
    /// `deinit` runs and stops it.
    private final class Handoff: Sendable {
        let share = Mutex(0)
        let checksum = Mutex<UInt64>(0)
        let start = DispatchSemaphore(value: 0)
        let finished = DispatchSemaphore(value: 0)
        let stop = StopFlag()
    }

    private let filler = PoolFiller(capacityBits: 1 << 23)
    private let readBytes: Int
    private let handoff = Handoff()
    private var helper: BenchThread?

    init(consumers: Int, readBytes: Int) {
        precondition(consumers == 1 || consumers == 2, "one or two consumers")
        self.readBytes = readBytes
        guard consumers == 2 else { return }
        let (handoff, pool) = (self.handoff, filler.pool)
        helper = BenchThread {
            while true {
                handoff.start.wait()
                if handoff.stop.isSet { return }
                let bytes = handoff.share.withLock { $0 }
                let checksum = (try? Self.consume(bytes, from: pool, readBytes: readBytes)) ?? 0
                handoff.checksum.withLock { $0 = checksum }
                handoff.finished.signal()
            }
        }
    }

    deinit {
        handoff.stop.set()
        handoff.start.signal()
        helper?.join()
    }

    /// Hands out `total` bytes, split evenly between the consumers.
    func run(total: Int) throws -> UInt64 {
        guard helper != nil else { return try Self.consume(total, from: filler.pool, readBytes: readBytes) }
        handoff.share.withLock { $0 = total / 2 }
        handoff.start.signal()
        let mine = try Self.consume(total - total / 2, from: filler.pool, readBytes: readBytes)
        handoff.finished.wait()
        return mine &+ handoff.checksum.withLock { $0 }
    }

    private static func consume(_ bytes: Int, from pool: EntropyPool, readBytes: Int) throws(QRNGError) -> UInt64 {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: readBytes, alignment: 64)
        defer { buffer.deallocate() }
        var checksum: UInt64 = 0
        var remaining = bytes
        while remaining > 0 {
            let piece = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<min(readBytes, remaining)])
            try pool.read(into: piece)
            checksum &+= UInt64(piece[0])
            remaining -= piece.count
        }
        return checksum
    }
}

/// A named pipe with an in-process writer thread and a reader: either the writer writes zeros (the pipe's own
/// speed), or a ``FIFOServer`` serves a filled pool through it.
final class PipeRig: @unchecked Sendable {
    // Unchecked: the server is touched by its thread only until `deinit` has joined that thread.
    enum Writer {
        /// 64 KiB blocks of zeros, into a pipe of the default size or of the given size.
        case zeros(pipeBufferBytes: Int?)
        /// A ``FIFOServer`` with its default configuration, serving a pool of `qrng serve`'s size kept full.
        case server
    }

    /// F_SETPIPE_SZ (F_LINUX_SPECIFIC_BASE + 7), which Glibc exports only under _GNU_SOURCE.
    static let setPipeSize: Int32 = 1031

    private let pipe: NamedPipe
    private let descriptor: Int32
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Benchmarks.pipeReadBytes, alignment: 4096)
    private let stop = StopFlag()
    private var writer: BenchThread?
    private var filler: PoolFiller?

    init(name: String, writer kind: Writer) throws {
        signal(SIGPIPE, SIG_IGN)
        pipe = try NamedPipe(path: "/tmp/qrng-bench-\(getpid())-\(name).fifo")
        switch kind {
        case .zeros(let pipeBufferBytes):
            let path = pipe.path
            let stop = self.stop
            writer = BenchThread {
                let descriptor = open(path, O_WRONLY | O_CLOEXEC)
                guard descriptor >= 0 else { return }
                defer { close(descriptor) }
                if let pipeBufferBytes { _ = fcntl(descriptor, PipeRig.setPipeSize, Int32(pipeBufferBytes)) }
                let zeros = [UInt8](repeating: 0, count: 1 << 16)
                zeros.withUnsafeBytes { bytes in
                    while !stop.isSet {
                        if write(descriptor, bytes.baseAddress, bytes.count) < 0 && errno != EINTR { return }
                    }
                }
            }
        case .server:
            let filler = PoolFiller(capacityBits: 8 * Serve.defaultPoolBytes)  // as `qrng serve` sizes it
            self.filler = filler
            // FIFOServer is not Sendable: it belongs to the writer thread alone.
            nonisolated(unsafe) let server = FIFOServer(pipe: pipe, pool: filler.pool)
            let stop = self.stop
            writer = BenchThread {
                try? server.run(until: { stop.isSet }, log: { _ in })
            }
        }
        // Blocks until the writer has opened its end.
        descriptor = open(pipe.path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw QRNGError(.systemCall, "cannot open the FIFO", context: .init(file: pipe.path, errno: errno))
        }
    }

    deinit {
        stop.set()
        close(descriptor)  // the writer's next write fails with EPIPE
        writer?.join()
        filler = nil
        buffer.deallocate()
        pipe.remove()  // the server's thread may still hold the NamedPipe, whose own deinit would remove it
    }

    /// Reads `count` bytes; returns a checksum of the first byte of every read.
    func read(_ count: Int) throws -> UInt64 {
        var checksum: UInt64 = 0
        var remaining = count
        while remaining > 0 {
            let received = Glibc.read(descriptor, buffer.baseAddress, min(buffer.count, remaining))
            guard received > 0 else {
                if received < 0 && errno == EINTR { continue }
                throw QRNGError(.systemCall, "FIFO read failed", context: .init(file: pipe.path, errno: errno))
            }
            checksum &+= UInt64(buffer[0])
            remaining -= received
        }
        return checksum
    }
}
