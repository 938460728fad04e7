import Foundation
import Synchronization
import QRNG
@testable import QRNGCLI
import Testing

/// `qrng health` driven in-process on temporary files and on the health vectors in testvectors/health.
@Suite struct HealthCommandTests {
    static let vectors: URL = {
        var url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: url.appendingPathComponent("testvectors").path) {
            url.deleteLastPathComponent()
        }
        return url.appendingPathComponent("testvectors/health")
    }()

    /// The `key = value` fields of the first record of a vector file (comments skipped).
    static func fields(_ name: String) throws -> [String: String] {
        let text = try String(contentsOf: vectors.appendingPathComponent("\(name).rsp"), encoding: .utf8)
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.count == 2 && fields[parts[0]] == nil { fields[parts[0]] = parts[1] }
        }
        return fields
    }

    static func hexBytes(_ hex: String) -> [UInt8] {
        let digits = Array(hex.utf8)
        return stride(from: 0, to: digits.count, by: 2).map {
            UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16)!
        }
    }

    static func temporaryFile(_ bytes: [UInt8], name: String = #function) throws -> String {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("qrng-health-\(getpid())-\(name.filter(\.isLetter)).bin").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test(arguments: [
        "rct_binary_fail", "rct_binary_pass", "rct_8bit_fail", "rct_8bit_pass",
        "apt_binary_fail", "apt_binary_pass", "apt_8bit_fail", "apt_8bit_pass",
    ])
    func vectorsGiveTheirDocumentedFirstFailure(_ name: String) throws {
        let record = try Self.fields(name)
        let bits = Int(record["bits_per_sample"]!)!
        let count = Int(record["sample_count"]!)!
        let packed = Self.hexBytes(record["samples"]!)
        // One sample per byte, so that the pad bits of a packed vector are not read as samples.
        let samples: [UInt8] =
            bits == 1 ? (0..<count).map { packed[$0 / 8] >> UInt8(7 - $0 % 8) & 1 } : Array(packed.prefix(count))
        let path = try Self.temporaryFile(samples, name: name)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let command = try HealthCommand.parse([
            path, "--bits-per-sample", String(bits), "--min-entropy", record["min_entropy"]!,
            "--alpha", "2^" + record["alpha_log2"]!,
        ])
        let report = try command.report()
        #expect(report.samples == UInt64(count))
        #expect(report.cutoffs.repetitionCountCutoff == Int(record["rct_cutoff"]!)!)
        #expect(report.cutoffs.adaptiveProportionCutoff == Int(record["apt_cutoff"]!)!)
        switch record["expected"]! {
        case "pass":
            #expect(report.failures.isEmpty, "\(report.failures)")
            #expect(report.text.hasSuffix("Result: PASS"))
        case let expected:
            let first = try #require(report.failures.first)
            #expect(first.test == (expected == "rct_fail" ? .repetitionCount : .adaptiveProportion))
            #expect(first.sampleOffset == UInt64(record["failure_offset"]!)!)
            let cutoff = expected == "rct_fail" ? record["rct_cutoff"]! : record["apt_cutoff"]!
            let line = "FAIL \(first.test.rawValue) at sample \(record["failure_offset"]!): "
                + "value \(cutoff), threshold \(cutoff)"
            #expect(report.text.contains(line))
            #expect(report.text.hasSuffix("Result: FAIL"))
            #expect(throws: (any Error).self) { try command.run() }
        }
    }

    /// A stuck stretch across the 1 MiB read boundary of a packed 12-bit file: found at its exact offset, with
    /// the samples cut by the boundary carried over.
    @Test func packedWideSamplesStreamAcrossReads() throws {
        var generator = Xoshiro256StarStar(seed: 21)
        let count = 800_000
        let stuckStart = (1 << 20) * 8 / 12 - 5  // the 1 MiB boundary falls inside sample 699050
        var samples = (0..<count).map { _ in UInt16(generator.next() & 0xFFF) }
        for index in stuckStart..<stuckStart + 20 { samples[index] = 0xABC }
        var bits = BitBuffer()
        for sample in samples { bits.append(bits: UInt64(sample), width: 12) }
        let path = try Self.temporaryFile(bits.packedBytes())
        defer { try? FileManager.default.removeItem(atPath: path) }
        let report = try HealthCommand.parse([
            path, "--bits-per-sample", "12", "--min-entropy", "11", "--packed", "--no-monitors",
        ]).report()
        #expect(report.samples == UInt64(count))
        // C = 1 + ⌈30/11⌉ = 4: the stuck run fails at its 4th sample, then every 4 samples after start-up resets.
        #expect(report.failures.first?.sampleOffset == UInt64(stuckStart + 3))
        #expect(report.failures.allSatisfy { $0.test == .repetitionCount })
        #expect(report.failures.count == 5)
    }

    @Test func jsonListsEveryFailure() throws {
        var bytes = [UInt8](repeating: 0, count: 5000)
        var generator = Xoshiro256StarStar(seed: 3)
        for index in bytes.indices { bytes[index] = UInt8(generator.next() & 0xFF) }
        for index in 3000..<3010 { bytes[index] = 7 }
        let path = try Self.temporaryFile(bytes)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let report = try HealthCommand.parse([path, "--bits-per-sample", "8", "--min-entropy", "7", "--json"]).report()
        let object = try #require(try JSONSerialization.jsonObject(with: Data(report.json.utf8)) as? [String: Any])
        #expect(object["passed"] as? Bool == false)
        #expect(object["samples"] as? Int == 5000)
        #expect(object["rct_cutoff"] as? Int == 6)
        let failures = try #require(object["failures"] as? [[String: Any]])
        #expect(failures.first?["sample_offset"] as? Int == 3005)
        #expect(failures.first?["test"] as? String == "Repetition Count Test")
        #expect(failures.first?["value"] as? Int == 6 && failures.first?["threshold"] as? Int == 6)
    }

    @Test func aSampleTooWideNamesTheFileAndByteOffset() throws {
        let path = try Self.temporaryFile([1, 0, 3, 2, 9, 1])
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect {
            try HealthCommand.parse([path, "--bits-per-sample", "3", "--min-entropy", "2"]).report()
        } throws: { error in
            guard let error = error as? QRNGError else { return false }
            return error.code == .invalidInput && error.context.byteOffset == 4 && error.description.contains(path)
        }
        let wide = try Self.temporaryFile([1, 0, 0xFF, 0x0F, 5], name: "wide")
        defer { try? FileManager.default.removeItem(atPath: wide) }
        #expect {
            try HealthCommand.parse([wide, "--bits-per-sample", "11", "--min-entropy", "5", "--format", "u16le"])
                .report()
        } throws: { error in
            (error as? QRNGError)?.context.byteOffset == 2
        }
    }

    @Test func argumentsAreChecked() {
        for (bits, minEntropy) in [("17", "1"), ("4", "5"), ("12", "5")] {
            #expect(throws: (any Error).self) {
                try HealthCommand.parse(["f", "--bits-per-sample", bits, "--min-entropy", minEntropy])
            }
        }
        #expect(throws: (any Error).self) {
            try HealthCommand.parse(["f", "--bits-per-sample", "8", "--min-entropy", "5", "--alpha", "2"])
        }
        #expect(HealthCommand.configuration.commandName == "health")
        #expect(QRNGCommand.configuration.subcommands.contains { $0 == HealthCommand.self })
    }
}

/// `qrng generate` reports every monitor alarm as it happens, through its failure hook.
@Suite struct GenerateAlarmTests {
    final class Collected: Sendable {
        let failures = Mutex<[HealthFailure]>([])
    }

    @Test func alarmsReachTheHookAndAPermanentFailureStopsTheJob() throws {
        let collected = Collected()
        // An expected click rate far from the model's 0.27: every pulse window alarms.
        let configuration = PipelineConfiguration(
            source: .simulatedBeamSplitter(SimulationConfiguration(), seed: 4), extractor: .vonNeumann,
            monitors: PhotonMonitorSettings(
                pulseWindow: 1 << 16, clickRate: .init(expected: 0.6, relativeTolerance: 0.1)))
        var job = GenerateJob(configuration: configuration, byteCount: 1 << 20)
        job.reportFailure = { failure in collected.failures.withLock { $0.append(failure) } }
        let report = try job.run { _ in }
        #expect(report.failure?.code == .healthTestFailure && report.bytesWritten == 0)
        let failures = collected.failures.withLock { $0 }
        #expect(failures.count == 3, "\(failures)")
        #expect(failures.allSatisfy { $0.test == .clickRate })
        #expect(failures.last?.permanent == true)
        #expect(failures.first.map { "\($0)".contains("click-rate monitor") && "\($0)".contains("threshold") } == true)
    }
}
