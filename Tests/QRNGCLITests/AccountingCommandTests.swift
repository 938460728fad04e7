import Foundation
import QRNG
@testable import QRNGCLI
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The summaries of `generate` and `serve` account for every sample and bit, and the numbers agree with what
/// was really written and read.
@Suite(.serialized) struct AccountingCommandTests {
    static func path(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("qrng-account-\(getpid())-\(name)").path
    }

    /// Runs the qrng binary; returns its standard error.
    static func run(_ arguments: [String]) throws -> (status: Int32, standardError: String) {
        let (process, errors) = try ServeCommandTests.launch(arguments)
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    /// The JSON object at the end of standard error.
    static func lastJSON(_ text: String) throws -> [String: Any] {
        let start = try #require(text.range(of: "\n{") ?? (text.hasPrefix("{") ? text.range(of: "{") : nil), "\(text)")
        let data = Data(text[start.lowerBound...].utf8)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static func number(_ object: [String: Any], _ path: String) -> UInt64 {
        var current: Any? = object
        for key in path.split(separator: ".") { current = (current as? [String: Any])?[String(key)] }
        return (current as? NSNumber)?.uint64Value ?? .max
    }

    /// A whole recording through `generate --json`: every sample read is released, in start-up tests or dropped
    /// at the end; every released bit went to the seed or through the extractor or was dropped at the end; the
    /// output is what the file holds plus less than a byte left in the pool; the seed cost about what its
    /// entropy needs.
    @Test func aRecordingsJSONSummaryAccountsForEverySample() throws {
        let recording = Self.path("rec.ptu")
        let output = Self.path("rec.out")
        let state = Self.path("rec-state")
        defer {
            unlink(recording)
            unlink(output)
            try? FileManager.default.removeItem(atPath: state)
        }
        try Simulate.parse(["--format", "ptu", "--duration", "0.02", "--seed", "3", "--out", recording]).run()
        let (status, text) = try Self.run([
            "generate", "--source", "ptu:\(recording)", "--min-entropy", "0.9", "--json", "--state-dir", state,
            "--out", output,
        ])
        #expect(status == 0, "\(text)")
        let json = try Self.lastJSON(text)
        let written = try FileManager.default.attributesOfItem(atPath: output)[.size] as? Int
        #expect(Self.number(json, "bytesWritten") == UInt64(written ?? -1))
        let n = { Self.number(json, $0) }
        // A simulated HydraHarp T2 recording with its sync channel, in its natural (pulsed) mode, passes every
        // default monitor.
        #expect(n("health.failures") == 0)
        #expect(n("samples.read") == n("source.singleClicksD0") + n("source.singleClicksD1"), "beam-splitter samples")
        #expect(n("samples.read") == n("samples.released") + n("samples.startupTesting") + n("samples.droppedAtEnd.total"))
        #expect(n("samples.startupTesting") == 1024)
        #expect(n("samples.droppedAtEnd.total") < 1024 + 4096, "less than one APT window and one monitor window")
        #expect(n("bits.released") == n("samples.released"))
        #expect(n("bits.released") == n("bits.toToeplitzSeeds") + n("bits.extracted") + n("bits.droppedAtEnd"))
        #expect(n("bits.droppedAtEnd") < 4096, "less than one extractor block")
        #expect(n("bits.output") == 8 * n("bytesWritten") + n("pool.left"))
        #expect(n("pool.left") < 8)
        #expect(Double(n("toeplitzSeed.samples")) <= 1.3 * Double(n("toeplitzSeed.seedBits")) / 0.9 + 400)
        let seed = try #require((json["toeplitzSeed"] as? [String: Any])?["description"] as? String)
        #expect(seed.contains("drawn from the source") && seed.contains("surplus bits to the output"))
    }

    /// A detector that dies: the samples the failures caught are charged to the test that caught them, those
    /// read after the failure became permanent are counted, and the text summary still adds up.
    @Test func failuresAreChargedInTheSummary() throws {
        let command = try Generate.parse(["--bytes", "100000", "--seed", "2", "--fault", "dead-detector@0.001:1"])
        let report = try GenerateJob(
            configuration: try command.pipeline.configuration(mode: command.mode), byteCount: 100_000,
            reportFailure: { _ in }
        ).run { _ in }
        let account = report.account
        #expect(account.samples.balanced && account.bits.balanced, "\(account.text)")
        #expect(!account.samples.rejectedBy.isEmpty, "\(account.text)")
        #expect(account.health.failures > 0)
        #expect(account.text.contains("rejected by the"), "\(account.text)")
        #expect(!account.text.contains("does not add up"))
    }

    /// Many short readers of the FIFO: each costs what it read. What all readers read, plus what was left unread
    /// in the pipe, dropped by the stop, left in the pool or not yet deposited, is what the pipeline extracted.
    @Test func manyShortReadersCostWhatTheyRead() throws {
        let fifo = Self.path("readers.fifo")
        let (process, errors) = try ServeCommandTests.launch([
            "serve", "--fifo", fifo, "--allow-simulated", "--seed", "4", "--stats-interval", "0", "--json",
            "--pipe-bytes", "4096",
        ])
        var waited = 0
        while !FileManager.default.fileExists(atPath: fifo) && waited < 600 {
            usleep(50_000)
            waited += 1
        }
        var sizes = Xoshiro256StarStar(seed: 9)
        var totalRead: UInt64 = 0
        var chunk = [UInt8](repeating: 0, count: 3000)
        for reader in 0..<150 {
            let want = reader % 3 == 0 ? 10 : 1 + Int(sizes.next() % 3000)
            let descriptor = open(fifo, O_RDONLY)
            #expect(descriptor >= 0)
            var got = 0
            while got < want {
                let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress!, want - got) }
                if count <= 0 { break }
                got += count
            }
            close(descriptor)
            #expect(got == want)
            totalRead += UInt64(got)
        }
        kill(process.processIdentifier, SIGTERM)
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(text)")
        let json = try Self.lastJSON(text)
        let n = { Self.number(json, $0) }
        #expect(n("fifo.served") - n("fifo.unreadInPipeAtStop") == totalRead, "readers cost what they read")
        #expect(n("fifo.unreadInPipeAtStop") <= 4096)
        #expect(8 * (n("fifo.served") + n("fifo.droppedByStop")) == n("pool.handedOut"))
        #expect(n("pool.handedOut") + n("pool.left") + n("pool.discarded") == n("pool.deposited"))
        // What the producer had extracted but not deposited when the stop closed the pool is at most one deposit
        // step (2^19 bits).
        #expect(n("pool.deposited") <= n("bits.output") && n("pool.notDepositedWhenStopped") <= 1 << 19)
        #expect((json["samples"] as? [String: Any])?["balanced"] as? Bool == true)
        #expect((json["bits"] as? [String: Any])?["balanced"] as? Bool == true)
    }
}
