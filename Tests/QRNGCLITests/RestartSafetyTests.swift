import Dispatch
import Foundation
import QRNG
@testable import QRNGCLI
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Recordings are handed out once: across restarts (the consumption journal), across SIGKILLs of `qrng serve`,
/// and without loss at their end.
@Suite(.serialized) struct RestartSafetyTests {
    static func path(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("qrng-restart-\(getpid())-\(name)").path
    }

    /// A packed-click recording of `pulses` pulses, each a single click on D0 or D1 chosen by a seeded generator.
    static func makeRecording(_ path: String, pulses: Int, seed: UInt64) throws {
        var bytes = PackedClickHeader(pulseCount: UInt64(pulses)).encoded
        var generator = Xoshiro256StarStar(seed: seed)
        var word: UInt64 = 0
        // A last byte holds the pulses left over, padded with pulses the header does not count.
        for index in 0..<(pulses + 3) / 4 {
            if index % 16 == 0 { word = generator.next() }
            // Four pulses per byte, each outcome 1 (D0) or 2 (D1).
            var byte: UInt8 = 0
            for pulse in 0..<4 where index * 4 + pulse < pulses {
                byte |= (1 + UInt8(truncatingIfNeeded: word & 1)) << UInt8(6 - 2 * pulse)
                word >>= 1
            }
            bytes.append(byte)
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    /// A Toeplitz seed file: 1024 bytes (8192 bits, enough for 4096 → 3486) from a seeded generator.
    static func makeSeedFile(_ path: String, seed: UInt64) throws {
        var generator = Xoshiro256StarStar(seed: seed)
        try Data((0..<1024).map { _ in UInt8(truncatingIfNeeded: generator.next()) }).write(to: URL(fileURLWithPath: path))
    }

    static func generate(_ arguments: [String]) throws -> [UInt8] {
        let out = path("out-\(UUID().uuidString)")
        defer { unlink(out) }
        try Generate.parse(arguments + ["--out", out]).run()
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: out)))
    }

    /// Every 16-byte window of every stream, to check that none appears twice.
    static func windowsAreUnique(_ streams: [[UInt8]]) -> Bool {
        struct Window: Hashable {
            var high: UInt64
            var low: UInt64
        }
        var seen = Set<Window>()
        for stream in streams where stream.count >= 16 {
            for offset in 0...(stream.count - 16) {
                var high: UInt64 = 0
                var low: UInt64 = 0
                for index in 0..<8 {
                    high = high << 8 | UInt64(stream[offset + index])
                    low = low << 8 | UInt64(stream[offset + 8 + index])
                }
                guard seen.insert(Window(high: high, low: low)).inserted else { return false }
            }
        }
        return true
    }

    @Test func aSecondRunResumesAfterTheFirstAndFromStartRepeatsItLabelled() throws {
        let recording = Self.path("resume.clk")
        let state = Self.path("resume-state")
        try Self.makeRecording(recording, pulses: 2_000_000, seed: 1)
        defer {
            unlink(recording)
            try? FileManager.default.removeItem(atPath: state)
        }
        let common = ["--source", "clicks:\(recording)", "--min-entropy", "0.9", "--state-dir", state]
        let first = try Self.generate(common + ["--bytes", "20K"])
        let second = try Self.generate(common + ["--bytes", "20K"])
        #expect(first.count == 20 << 10 && second.count == 20 << 10)
        #expect(Self.windowsAreUnique([first, second]), "the second run repeated bytes of the first")

        // The journal names the recording and the consumption; it grew with the second run.
        let journals = try FileManager.default.contentsOfDirectory(atPath: state).filter { $0.hasSuffix(".journal") }
        #expect(journals.count == 1)
        let text = try String(contentsOfFile: state + "/" + journals[0], encoding: .utf8)
        #expect(text.contains("recording-path: \(recording)") && text.contains("consumed-samples: "))

        // From the start, the recording gives the first run's bytes again: the journal is what prevented that.
        let again = try Self.generate(common + ["--bytes", "20K", "--from-start"])
        #expect(again == first)

        // Without --bytes, a recording is read to its end; a last run finds nothing left and says so.
        let rest = try Self.generate(common)
        #expect(rest.count > 100_000)
        #expect(Self.windowsAreUnique([first, second, rest]))
        #expect {
            try Self.generate(common)
        } throws: { error in
            "\(error)".contains("nothing left") && "\(error)".contains(state)
        }
    }

    @Test func badJournalsAndStateDirectoriesAreClearErrors() throws {
        let recording = Self.path("bad.clk")
        let state = Self.path("bad-state")
        try Self.makeRecording(recording, pulses: 1_000_000, seed: 2)
        defer {
            unlink(recording)
            try? FileManager.default.removeItem(atPath: state)
        }
        let common = ["--source", "clicks:\(recording)", "--min-entropy", "0.9", "--state-dir", state]
        _ = try Self.generate(common + ["--bytes", "4K"])
        let journal = state + "/" + (try FileManager.default.contentsOfDirectory(atPath: state)
            .first { $0.hasSuffix(".journal") }!)
        let original = try String(contentsOfFile: journal, encoding: .utf8)

        // Another source configuration: the same photons read another way.
        #expect {
            try Self.generate(common + ["--bytes", "4K", "--extractor", "von-neumann", "--on-error", "skip"])
        } throws: { "\($0)".contains("another source configuration") && "\($0)".contains(journal) }

        // A changed count: the checksum no longer matches.
        try original.replacingOccurrences(of: "consumed-samples: ", with: "consumed-samples: 1")
            .write(toFile: journal, atomically: false, encoding: .utf8)
        #expect { try Self.generate(common + ["--bytes", "4K"]) } throws: {
            "\($0)".contains("corrupt") && "\($0)".contains("checksum") && "\($0)".contains(journal)
        }
        // Truncated mid-write.
        try String(original.prefix(original.count / 2)).write(toFile: journal, atomically: false, encoding: .utf8)
        #expect { try Self.generate(common + ["--bytes", "4K"]) } throws: { "\($0)".contains("corrupt") }
        // Not a journal at all.
        try "hello\n".write(toFile: journal, atomically: false, encoding: .utf8)
        #expect { try Self.generate(common + ["--bytes", "4K"]) } throws: { "\($0)".contains("corrupt") }

        // A state directory that is not one, or cannot be created.
        #expect { try Self.generate(common.dropLast(2) + ["--state-dir", recording, "--bytes", "4K"]) } throws: {
            "\($0)".contains("not a directory")
        }
        #expect { try Self.generate(common.dropLast(2) + ["--state-dir", "/proc/qrng-state", "--bytes", "4K"]) } throws: {
            "\($0)".contains("state directory")
        }

        // A recording shorter than when it was consumed (truncated after its first 64 KiB, so still recognised).
        try original.write(toFile: journal, atomically: false, encoding: .utf8)
        _ = try Self.generate(common)  // consume it all
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: recording))
        try handle.truncate(atOffset: 200_000)
        try handle.close()
        #expect { try Self.generate(common.dropLast(2) + ["--state-dir", state, "--bytes", "1"]) } throws: {
            // The journal names the recording's size then and now.
            "\($0)".contains(recording) && "\($0)".contains("shorter than") && "\($0)".contains("recording-size")
        }
    }

    /// The same recording through a pipe written in random-sized pieces gives the same bytes as from the file,
    /// for von Neumann and for Toeplitz with a given seed (a pipe is not journaled: it cannot be read twice).
    @Test(arguments: [["--extractor", "von-neumann"], ["--extractor", "peres", "--block-bits", "16384"], ["SEED"]])
    func aPipeInRandomPiecesGivesTheFileBitForBit(extractor: [String]) throws {
        let recording = Self.path("pieces.clk")
        let seedFile = Self.path("pieces.seed")
        try Self.makeRecording(recording, pulses: 800_001, seed: 3)
        try Self.makeSeedFile(seedFile, seed: 4)
        defer {
            unlink(recording)
            unlink(seedFile)
        }
        let options = extractor == ["SEED"] ? ["--toeplitz-seed", seedFile] : extractor
        let state = Self.path("pieces-state")
        defer { try? FileManager.default.removeItem(atPath: state) }
        let fromFile = try Self.generate(
            ["--source", "clicks:\(recording)", "--min-entropy", "0.9", "--state-dir", state] + options)
        #expect(fromFile.count > 10_000)

        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: recording)))
        var descriptors: [Int32] = [0, 0]
        #expect(pipe(&descriptors) == 0)
        let writer = descriptors[1]
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            var pieces = Xoshiro256StarStar(seed: 5)
            var offset = 0
            while offset < bytes.count {
                let size = min(bytes.count - offset, 1 + Int(pieces.next() % 9000))
                let written = bytes.withUnsafeBytes { write(writer, $0.baseAddress! + offset, size) }
                if written <= 0 { break }
                offset += written
            }
            close(writer)
            done.signal()
        }
        let fromPipe = try Self.generate(
            ["--source", "clicks:/dev/fd/\(descriptors[0])", "--min-entropy", "0.9", "--state-dir", state] + options)
        done.wait()
        close(descriptors[0])
        #expect(fromPipe == fromFile)
    }

    /// `qrng generate` without --bytes writes until its reader leaves, then exits 0 with its summary.
    @Test func anEndlessStreamEndsCleanlyWhenTheReaderCloses() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = [
            "-c", "{ \"$QRNG\" generate --seed 3 2>\"$LOG\"; echo $? >\"$STATUS\"; } | head -c 300000 | wc -c",
        ]
        let log = Self.path("endless.log")
        let status = Self.path("endless.status")
        defer {
            unlink(log)
            unlink(status)
        }
        process.environment = ["QRNG": ServeCommandTests.binary, "LOG": log, "STATUS": status, "PATH": "/usr/bin:/bin"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let counted = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(counted.trimmingCharacters(in: .whitespacesAndNewlines) == "300000")
        #expect(try String(contentsOfFile: status, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) == "0")
        let summary = try String(contentsOfFile: log, encoding: .utf8)
        #expect(summary.contains("the reader closed the output") && summary.contains("SIMULATED"), "\(summary)")
        #expect(summary.contains("the same seed gives the same bytes"), "\(summary)")
    }

    /// `qrng serve` killed with SIGKILL at 100 random moments while two readers drain the FIFO, restarted each
    /// time on the same recording: no 16-byte window appears twice in everything the readers got.
    @Test func killedAndRestartedHundredTimesServesNothingTwice() throws {
        let recording = Self.path("kill.clk")
        let state = Self.path("kill-state")
        let fifo = Self.path("kill.fifo")
        let seedFile = Self.path("kill.seed")
        try Self.makeRecording(recording, pulses: 40_000_000, seed: 6)
        try Self.makeSeedFile(seedFile, seed: 7)
        defer {
            unlink(recording)
            unlink(fifo)
            unlink(seedFile)
            try? FileManager.default.removeItem(atPath: state)
        }
        var streams: [[UInt8]] = [[], []]
        var moments = Xoshiro256StarStar(seed: 8)
        var buffer = [UInt8](repeating: 0, count: 4096)
        var servingKills = 0
        for cycle in 0..<100 {
            let (process, _) = try ServeCommandTests.launch([
                "serve", "--fifo", fifo, "--source", "clicks:\(recording)", "--min-entropy", "0.9",
                "--toeplitz-seed", seedFile, "--state-dir", state, "--pipe-bytes", "4K", "--pool-bytes", "4K",
                "--stats-interval", "0",
            ])
            // Even cycles: the kill comes at a random moment after the launch, during start-up (opening the
            // journal, skipping what was consumed, start-up tests) or while serving. Odd cycles: at a random moment
            // after the first byte arrived, so that half the cycles surely kill a server that is serving, however
            // slow the machine.
            let killInStartUp = cycle % 2 == 0
            var deadline = ContinuousClock.now.advanced(by: .milliseconds(Int(moments.next() % 500)))
            let afterFirstByte = Duration.milliseconds(Int(moments.next() % 150))
            // The readers attach as soon as the FIFO exists (a FIFO left by the previous cycle is reused).
            var readers: [Int32] = []
            var waited = 0
            while readers.count < 2 && waited < 1000 && process.isRunning {
                let descriptor = open(fifo, O_RDONLY | O_NONBLOCK)
                if descriptor >= 0 { readers.append(descriptor) } else { usleep(2_000) }
                waited += 1
            }
            #expect(readers.count == 2, "cycle \(cycle): no FIFO")
            // Read, up to 3 KiB a reader, until the moment comes, then kill the server mid-stream.
            var taken = [0, 0]
            var waitingForFirstByte = !killInStartUp
            let patience = ContinuousClock.now.advanced(by: .seconds(60))
            while waitingForFirstByte || ContinuousClock.now < deadline {
                for (index, descriptor) in readers.enumerated() where taken[index] < 3072 {
                    let count = read(descriptor, &buffer, min(512, 3072 - taken[index]))
                    if count > 0 {
                        streams[index] += buffer[0..<count]
                        taken[index] += count
                        if waitingForFirstByte {
                            waitingForFirstByte = false
                            deadline = ContinuousClock.now.advanced(by: afterFirstByte)
                        }
                    }
                }
                if waitingForFirstByte && (ContinuousClock.now > patience || !process.isRunning) { break }
                usleep(500)
            }
            #expect(!waitingForFirstByte, "cycle \(cycle): the server served nothing")
            if !killInStartUp && !waitingForFirstByte { servingKills += 1 }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            // What is still in the pipe was handed out: the readers take it (then see the end of the stream).
            for (index, descriptor) in readers.enumerated() {
                while true {
                    let count = read(descriptor, &buffer, buffer.count)
                    guard count > 0 else { break }
                    streams[index] += buffer[0..<count]
                }
                close(descriptor)
            }
        }
        // 50 servers were killed while serving, after at least one byte each.
        #expect(servingKills == 50)
        #expect(streams[0].count + streams[1].count >= 50, "readers got \(streams[0].count + streams[1].count)")
        #expect(Self.windowsAreUnique(streams), "a 16-byte window was served twice")
    }

    /// `qrng generate --out FILE` on a recording, killed with SIGKILL at 40 random moments (five of them after
    /// it has begun writing) and run again: what
    /// all the output files hold together has no 16-byte window twice, and a last run to the end finishes the
    /// recording with nothing left for another.
    @Test func generateKilledAndRerunWritesNothingTwice() throws {
        let recording = Self.path("gkill.clk")
        let state = Self.path("gkill-state")
        let seedFile = Self.path("gkill.seed")
        try Self.makeRecording(recording, pulses: 64_000_000, seed: 9)
        try Self.makeSeedFile(seedFile, seed: 10)
        var outputs: [String] = []
        defer {
            unlink(recording)
            unlink(seedFile)
            for output in outputs { unlink(output) }
            try? FileManager.default.removeItem(atPath: state)
        }
        let common = [
            "generate", "--source", "clicks:\(recording)", "--min-entropy", "0.9", "--toeplitz-seed", seedFile,
            "--state-dir", state,
        ]
        var moments = Xoshiro256StarStar(seed: 11)
        for cycle in 0..<40 {
            let output = Self.path("gkill-\(cycle).bin")
            outputs.append(output)
            let (process, _) = try ServeCommandTests.launch(common + ["--out", output])
            // One run in eight is killed once it has written something (however slow the machine is to start
            // it), the others at any moment, start-up included.
            if cycle % 8 == 0 {
                let deadline = Date().addingTimeInterval(20)
                while Date() < deadline,
                    ((try? FileManager.default.attributesOfItem(atPath: output)[.size] as? Int) ?? 0) == 0
                {
                    usleep(5_000)
                }
            }
            usleep(UInt32(moments.next() % 400_000))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        // The last run reads the rest of the recording to its end.
        let last = Self.path("gkill-last.bin")
        outputs.append(last)
        let (process, _) = try ServeCommandTests.launch(common + ["--out", last])
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let streams = outputs.map { (try? [UInt8](Data(contentsOf: URL(fileURLWithPath: $0)))) ?? [] }
        let killedBytes = streams.dropLast().reduce(0) { $0 + $1.count }
        #expect(killedBytes > 0 && streams.last!.count > 0, "killed runs wrote \(killedBytes), the last \(streams.last!.count)")
        #expect(Self.windowsAreUnique(streams), "a 16-byte window was written twice")
    }

    /// A seeded simulation says that its seed reproduces it; an unseeded one that its seed came from the OS.
    @Test func simulatedRunsSayWhereTheirSeedCameFrom() throws {
        let seeded = try GenerateJob(
            configuration: try Generate.parse(["--bytes", "64", "--seed", "5"]).pipeline.configuration(),
            byteCount: 64
        ).run { _ in }
        #expect(seeded.summary.contains("seeded with 5: the same seed gives the same bytes"), "\(seeded.summary)")
        let unseeded = try GenerateJob(
            configuration: try Generate.parse(["--bytes", "64"]).pipeline.configuration(), byteCount: 64
        ).run { _ in }
        #expect(unseeded.summary.contains("seed came from the operating system"), "\(unseeded.summary)")
        #expect(unseeded.summary.contains("SIMULATED"))
    }
}
