import Dispatch
import Foundation
@testable import QRNG
@testable import QRNGCLI
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The FIFO server with real clients: dd, ent, rngtest and dieharder read the named pipe as they would read
/// /dev/hwrng. The pool is kept full by a fast pseudo-random filler, so the tests exercise the transport
/// quickly; `qrng serve` end to end is tested separately below.
@Suite(.serialized) struct FIFOServerTests {
    final class Harness: @unchecked Sendable {
        let path: String
        let pool: EntropyPool
        let server: FIFOServer
        private let stop = Atomic<Bool>(false)
        private let finished = DispatchSemaphore(value: 0)
        private let fillerDone = DispatchSemaphore(value: 0)

        init(name: String) throws {
            signal(SIGPIPE, SIG_IGN)
            path = FileManager.default.temporaryDirectory.appendingPathComponent("qrng-\(getpid())-\(name).fifo").path
            pool = EntropyPool(provenance: Provenance(kind: .simulated, detail: "test filler"), capacityBits: 1 << 24)
            server = FIFOServer(pipe: try NamedPipe(path: path), pool: pool)
            let pool = self.pool
            Thread.detachNewThread { [fillerDone] in
                var generator = Xoshiro256StarStar(seed: 99)
                while true {
                    let bits = BitBuffer(words: (0..<4096).map { _ in generator.next() }, count: 4096 * 64)
                    do { try pool.deposit(bits) } catch { break }
                }
                fillerDone.signal()
            }
            Thread.detachNewThread { [self] in
                try? server.run(until: { self.stop.load(ordering: .relaxed) }, log: { _ in })
                finished.signal()
            }
        }

        func shutDown() {
            stop.store(true, ordering: .relaxed)
            finished.wait()
            pool.close()
            fillerDone.wait()
        }

        /// Runs `command` through the shell with the FIFO as `$FIFO`; returns its exit status and output.
        func shell(_ command: String) throws -> (Int32, Data) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", command]
            process.environment = ["FIFO": path, "PATH": "/usr/bin:/bin:/usr/sbin:/sbin"]
            let output = Pipe()
            process.standardOutput = output
            process.standardError = output
            try process.run()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return (process.terminationStatus, data)
        }
    }

    static func words(_ data: Data) -> Set<UInt64> {
        Set(stride(from: 0, to: data.count - 7, by: 8).map { offset in
            data[data.startIndex + offset..<data.startIndex + offset + 8].reduce(0) { $0 << 8 | UInt64($1) }
        })
    }

    @Test func ddGetsWhatItAsksAndTwoReadersInTurnGetDisjointData() throws {
        let harness = try Harness(name: "dd")
        defer { harness.shutDown() }
        let (status1, first) = try harness.shell("dd if=\"$FIFO\" bs=4096 count=256 iflag=fullblock status=none")
        let (status2, second) = try harness.shell("dd if=\"$FIFO\" bs=4096 count=256 iflag=fullblock status=none")
        #expect(status1 == 0 && status2 == 0)
        #expect(first.count == 1 << 20 && second.count == 1 << 20)
        // 2¹⁷ words each: a shared 64-bit word between random streams has probability below 10⁻⁹.
        #expect(Self.words(first).isDisjoint(with: Self.words(second)), "two readers got the same bytes")
    }

    /// Every byte taken from the pool is served: readers leaving strand nothing, since the pipe (held open by the
    /// server) keeps what they did not read for the next reader.
    @Test func takenBytesAreServedOrCountedAsDropped() throws {
        let harness = try Harness(name: "accounting")
        for _ in 0..<3 {
            let (status, data) = try harness.shell("dd if=\"$FIFO\" bs=65536 count=20 iflag=fullblock status=none")
            #expect(status == 0 && data.count == 20 * 65536)
        }
        harness.shutDown()
        let (served, dropped) = (harness.server.statistics.bytesServed, harness.server.statistics.bytesDropped)
        let taken = harness.pool.statistics.bitsTaken / 8
        #expect(taken == served + dropped, "taken \(taken), served \(served), dropped \(dropped)")
        #expect(served >= 3 * 20 * 65536)
        #expect(dropped == 0, "dropped \(dropped) bytes")
    }

    @Test func aReaderKilledMidReadDoesNotDisturbTheNext() throws {
        let harness = try Harness(name: "kill")
        defer { harness.shutDown() }
        let (status, _) = try harness.shell("""
            dd if="$FIFO" of=/dev/null bs=1 count=100000000 status=none & pid=$!; sleep 0.3; kill -9 $pid; \
            wait $pid 2>/dev/null; exit 0
            """)
        #expect(status == 0)
        let (nextStatus, next) = try harness.shell("dd if=\"$FIFO\" bs=4096 count=64 iflag=fullblock status=none")
        #expect(nextStatus == 0 && next.count == 64 * 4096)
    }

    @Test func entRngtestAndDieharderReadTheFIFO() throws {
        let harness = try Harness(name: "batteries")
        defer { harness.shutDown() }
        let (entStatus, entReport) = try harness.shell("head -c 1000000 \"$FIFO\" | ent")
        let ent = String(decoding: entReport, as: UTF8.self)
        #expect(entStatus == 0 && ent.contains("Entropy = 7.999"), "\(ent)")
        let (rngtestStatus, rngtestReport) = try harness.shell("rngtest -c 100 < \"$FIFO\"")
        let rngtest = String(decoding: rngtestReport, as: UTF8.self)
        #expect(rngtest.contains("FIPS 140-2 successes: 100") || rngtest.contains("FIPS 140-2 successes: 99"), "\(rngtest)")
        #expect(rngtestStatus == 0 || rngtest.contains("failures: 1"), "\(rngtest)")
        let (dieharderStatus, dieharderReport) = try harness.shell("dieharder -g 200 -d 0 -p 10 < \"$FIFO\"")
        let dieharder = String(decoding: dieharderReport, as: UTF8.self)
        #expect(dieharderStatus == 0 && dieharder.contains("diehard_birthdays") && !dieharder.contains("FAILED"),
                "\(dieharder)")
    }
}

@Suite struct NamedPipeTests {
    static func temporaryPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("qrng-\(getpid())-\(name)").path
    }

    @Test func refusesAnythingButAFIFOAndLeavesItAlone() throws {
        let file = Self.temporaryPath("regular")
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        #expect {
            try NamedPipe(path: file)
        } throws: { ($0 as? QRNGError)?.message.contains("a regular file") == true }
        #expect(try String(contentsOfFile: file, encoding: .utf8) == "keep me", "the file must survive")

        let directory = Self.temporaryPath("directory")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect { try NamedPipe(path: directory) } throws: { ($0 as? QRNGError)?.message.contains("a directory") == true }

        let link = Self.temporaryPath("link")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: file)
        defer { try? FileManager.default.removeItem(atPath: link) }
        #expect { try NamedPipe(path: link) } throws: { ($0 as? QRNGError)?.message.contains("symbolic link") == true }
    }

    @Test func createsWithTheModeAndRemovesOnRelease() throws {
        let path = Self.temporaryPath("mode.fifo")
        do {
            let pipe = try NamedPipe(path: path, mode: 0o640)
            var status = stat()
            #expect(lstat(pipe.path, &status) == 0)
            #expect(status.st_mode & S_IFMT == S_IFIFO && status.st_mode & 0o777 == 0o640)
            // Our own FIFO, while served, is refused to a second server.
            #expect { try NamedPipe(path: path, mode: 0o600) } throws: {
                ($0 as? QRNGError)?.message.contains("already serving") == true
            }
        }
        #expect(access(path, F_OK) != 0, "the FIFO is removed when released")
        // A FIFO left behind (by a server killed with SIGKILL) is ours: reused, its mode reset.
        #expect(mkfifo(path, 0o644) == 0)
        do {
            let reused = try NamedPipe(path: path, mode: 0o600)
            var status = stat()
            #expect(lstat(reused.path, &status) == 0 && status.st_mode & 0o777 == 0o600)
        }
        #expect(access(path, F_OK) != 0)
    }

    /// The server never opens the path again: a regular file or a link swapped in for the FIFO is never
    /// written, and is not removed when the server stops.
    @Test func aFileSwappedInForTheFIFOIsNeitherWrittenNorRemoved() throws {
        let path = Self.temporaryPath("swap.fifo")
        let target = Self.temporaryPath("swap-target")
        try Data().write(to: URL(fileURLWithPath: target))
        defer {
            unlink(path)
            unlink(target)
        }
        let pool = EntropyPool(provenance: Provenance(kind: .simulated, detail: "test"), capacityBits: 1 << 20)
        try pool.deposit(BitBuffer(zeros: 1 << 20))
        let pipe = try NamedPipe(path: path, mode: 0o600)
        #expect(unlink(path) == 0 && symlink(target, path) == 0)
        let server = FIFOServer(pipe: pipe, pool: pool, configuration: .init(chunkBytes: 4096, pipeBufferBytes: 4096))
        let deadline = ContinuousClock.now.advanced(by: .milliseconds(300))
        try server.run(until: { ContinuousClock.now > deadline }, log: { _ in })
        pipe.remove()
        var status = stat()
        #expect(lstat(path, &status) == 0 && status.st_mode & S_IFMT == S_IFLNK, "the link is left alone")
        #expect(stat(target, &status) == 0 && status.st_size == 0, "nothing was written to the file")
        #expect(server.statistics.bytesServed > 0, "the server wrote into the FIFO it holds")
    }

    /// A permanent failure gates output and closes the pool: a server that sees the gate first must still end with
    /// the pool's reason, not wait gated for ever (a race a loaded machine once lost).
    @Test func aGatedServerEndsWhenThePoolCloses() throws {
        let path = Self.temporaryPath("gated.fifo")
        defer { unlink(path) }
        let pool = EntropyPool(provenance: Provenance(kind: .simulated, detail: "test"), capacityBits: 1 << 20)
        try pool.deposit(BitBuffer(zeros: 1 << 16))
        pool.close(reason: QRNGError(.healthTestFailure, "permanent failure"), discardingRemainingBits: true)
        let failed = PipelineStatistics(
            provenance: pool.provenance, source: SourceCounters(), healthState: .failedPermanently, samplesTested: 0,
            samplesReleased: 0, samplesDiscarded: 0, failureCount: 1, extractorName: "none", outputBits: 0,
            minEntropyOrigin: "test")
        let pipe = try NamedPipe(path: path, mode: 0o600)
        defer { pipe.remove() }
        let server = FIFOServer(pipe: pipe, pool: pool, health: { [failed] in failed })
        let started = ContinuousClock.now
        let deadline = started.advanced(by: .seconds(10))
        #expect(throws: QRNGError.self) { try server.run(until: { ContinuousClock.now > deadline }, log: { _ in }) }
        #expect(ContinuousClock.now - started < .seconds(5), "ended by the closing, not by the stop deadline")
    }

    @Test func badModeGroupOrDirectoryAreClearErrorsAndLeaveNoFIFO() {
        #expect(throws: QRNGError.self) { try parsePermissionMode("999") }
        #expect(throws: QRNGError.self) { try parsePermissionMode("rw-") }
        #expect(try! parsePermissionMode("0640") == 0o640)
        let path = Self.temporaryPath("group.fifo")
        #expect { try NamedPipe(path: path, group: "no-such-group-qrng") } throws: {
            ($0 as? QRNGError)?.context.field == "group"
        }
        #expect(access(path, F_OK) != 0)
        #expect {
            try NamedPipe(path: "/nonexistent-qrng-dir/x.fifo")
        } throws: { error in
            guard let error = error as? QRNGError else { return false }
            return error.code == .systemCall && error.context.errno == ENOENT
        }
    }
}

/// `qrng serve` as a process: the simulated-source guard, signals, and bad input.
@Suite(.serialized) struct ServeCommandTests {
    static let binary: String = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" && !FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
            url.deleteLastPathComponent()
        }
        return url.appendingPathComponent(".build/debug/qrng").path
    }()

    static func launch(_ arguments: [String]) throws -> (Process, Pipe) {
        #expect(FileManager.default.isExecutableFile(atPath: binary), "build the qrng executable first: \(binary)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return (process, errors)
    }

    static func path(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("qrng-\(getpid())-\(name)").path
    }

    /// Each health failure is logged once, as it happens: the test, the sample offset, the statistic and the
    /// cutoff; a permanent failure stops the server with status 3.
    @Test func healthFailuresAreLoggedWithTheirDetail() throws {
        let fifo = Self.path("faulty.fifo")
        let (process, errors) = try Self.launch([
            "serve", "--fifo", fifo, "--allow-simulated", "--seed", "4", "--fault", "dead-detector@0.002:1",
            "--stats-interval", "0",
        ])
        // Read standard error as it comes, so that the server never blocks on it.
        let collected = Mutex(Data())
        let reader = Thread {
            let data = errors.fileHandleForReading.readDataToEndOfFile()
            collected.withLock { $0 = data }
        }
        reader.start()
        var attempts = 0
        while access(fifo, F_OK) != 0 && attempts < 1000 && process.isRunning {
            usleep(10_000)
            attempts += 1
        }
        let descriptor = open(fifo, O_RDONLY | O_NONBLOCK)
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        let deadline = ContinuousClock.now.advanced(by: .seconds(120))
        while process.isRunning && ContinuousClock.now < deadline {
            if descriptor >= 0 { _ = read(descriptor, &buffer, buffer.count) }
            usleep(1_000)
        }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        if descriptor >= 0 { close(descriptor) }
        while !reader.isFinished { usleep(1_000) }
        let log = String(decoding: collected.withLock { $0 }, as: UTF8.self)
        #expect(process.terminationStatus == 3, "\(log.suffix(600))")
        let failures = log.split(separator: "\n").filter { $0.hasPrefix("qrng serve: health: ") }
        #expect(!failures.isEmpty, "\(log.suffix(600))")
        for line in failures {
            #expect(line.contains("Test") || line.contains("monitor"), "\(line)")
            #expect(line.contains("sample offset") && line.contains("threshold") && line.contains("value"), "\(line)")
        }
        #expect(failures.contains { $0.contains("permanent failure") }, "\(log.suffix(600))")
        #expect(access(fifo, F_OK) != 0, "no FIFO left behind")
    }

    @Test func servesUntilSIGTERMThenRemovesTheFIFOAndExitsZero() throws {
        let fifo = Self.path("serve.fifo")
        let (process, errors) = try Self.launch(["serve", "--fifo", fifo, "--allow-simulated", "--seed", "3"])
        var attempts = 0
        while access(fifo, F_OK) != 0 && attempts < 500 {
            usleep(10_000)
            attempts += 1
        }
        #expect(access(fifo, F_OK) == 0, "the FIFO appears")
        let descriptor = open(fifo, O_RDONLY | O_NONBLOCK)
        #expect(descriptor >= 0)
        var data = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        var polls = 0
        while data.count < 4096 && polls < 1000 {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            if poll(&poller, 1, 10) > 0 {
                let count = read(descriptor, &buffer, 4096 - data.count)
                if count > 0 { data += buffer[0..<count] }
            }
            polls += 1
        }
        close(descriptor)
        #expect(data.count == 4096)
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        let log = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0, "\(log)")
        #expect(log.contains("SIMULATED"), "\(log)")
        #expect(access(fifo, F_OK) != 0, "the FIFO is removed on SIGTERM")
    }

    @Test func refusesSimulatedOutputWithoutTheFlagAndLeavesNoFIFO() throws {
        let fifo = Self.path("refuse.fifo")
        let (process, errors) = try Self.launch(["serve", "--fifo", fifo, "--seed", "3"])
        process.waitUntilExit()
        let log = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus != 0)
        #expect(log.contains("--allow-simulated"), "\(log)")
        #expect(access(fifo, F_OK) != 0)
    }

    @Test(arguments: [
        (["--fifo", "/nonexistent-qrng-dir/x.fifo"], "No such file or directory"),
        (["--fifo", "PLACEHOLDER", "--mode", "999"], "octal"),
        (["--fifo", "PLACEHOLDER", "--group", "no-such-group-qrng"], "no-such-group-qrng"),
    ])
    func badArgumentsFailClearlyWithoutAFIFO(arguments: [String], message: String) throws {
        let fifo = Self.path("bad.fifo")
        let args = ["serve", "--allow-simulated", "--seed", "1"] + arguments.map { $0 == "PLACEHOLDER" ? fifo : $0 }
        let (process, errors) = try Self.launch(args)
        process.waitUntilExit()
        let log = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus != 0)
        #expect(log.contains(message), "\(log)")
        #expect(access(fifo, F_OK) != 0)
    }
}

/// A recorded source that ends while being served: readers get everything, then a clear message, exit 0, and
/// no FIFO left behind.
@Suite struct ServeEndingSourceTests {
    @Test func aSourceThatEndsStopsTheServerCleanly() throws {
        let recording = ServeCommandTests.path("short.tt")
        let fifo = ServeCommandTests.path("ending.fifo")
        defer { try? FileManager.default.removeItem(atPath: recording) }
        try Simulate.parse(["--format", "timetags", "--duration", "0.002", "--seed", "2", "--out", recording]).run()
        let (process, errors) = try ServeCommandTests.launch([
            "serve", "--fifo", fifo, "--source", "timetags:\(recording)", "--min-entropy", "0.9", "--no-monitors",
            "--extractor", "von-neumann", "--stats-interval", "0", "--state-dir", ServeCommandTests.path("ending-state"),
        ])
        var waited = 0
        while access(fifo, F_OK) != 0 && waited < 500 && process.isRunning {
            usleep(10_000)
            waited += 1
        }
        // Drain what there is; the server then finds the source ended.
        let descriptor = open(fifo, O_RDONLY | O_NONBLOCK)
        var buffer = [UInt8](repeating: 0, count: 65536)
        var polls = 0
        while process.isRunning && polls < 1000 {
            if descriptor >= 0 { _ = read(descriptor, &buffer, buffer.count) }
            usleep(5_000)
            polls += 1
        }
        if descriptor >= 0 { close(descriptor) }
        let endedByItself = !process.isRunning
        if !endedByItself { process.terminate() }
        process.waitUntilExit()
        #expect(endedByItself, "the server kept running after its source ended")
        let log = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0, "\(log)")
        #expect(log.contains("recording ended"), "\(log)")
        #expect(access(fifo, F_OK) != 0, "no FIFO left behind")
    }
}
