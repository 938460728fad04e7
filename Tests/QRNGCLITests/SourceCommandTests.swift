import Foundation
import QRNG
@testable import QRNGCLI
import Testing

/// `qrng simulate` writes every hardware format, and every source, simulated or recorded, runs the same pipeline.
@Suite(.serialized) struct SourceCommandTests {
    static func path(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("qrng-\(getpid())-\(name)").path
    }

    static func generate(_ arguments: [String], bytes: Int) throws -> ([UInt8], GenerateJob.Report) {
        let command = try Generate.parse(["--bytes", String(bytes)] + arguments)
        var output: [UInt8] = []
        let report = try GenerateJob(configuration: try command.pipeline.configuration(mode: command.mode), byteCount: bytes).run { output += $0 }
        return (output, report)
    }

    @Test(arguments: ["timetags", "csv", "ptu", "clicks"])
    func simulatedFilesReadBackAndFeedThePipeline(format: String) throws {
        let file = Self.path("sim.\(format)")
        defer { try? FileManager.default.removeItem(atPath: file) }
        try Simulate.parse(["--format", format, "--duration", "0.004", "--seed", "4", "--out", file]).run()

        if format == "clicks" {
            let clicks = try PackedClickReader(path: file)
            var buffer = ClickBuffer()
            var pulses = 0
            while try clicks.nextPulses(1 << 16, into: &buffer) { pulses += buffer.pulseCount }
            #expect(pulses == 320_000, "80 MHz for 4 ms")
        } else {
            let reader = try (format == "timetags" ? TimeTagFormat.binary : format == "csv" ? .csv : .ptu)
                .openReader(path: file)
            let tags = try reader.readAll()
            let expected = try SimulatedTimeTagger(
                configuration: SimulationOptions.parse([]).simulation(duration: 0.004), seed: 4).readAll()
            #expect(tags == expected, "the file holds exactly the simulated tags")
        }
        let kind = format == "timetags" ? "timetags" : format
        // 4 ms is shorter than two photon-monitor windows, which output waits for: the monitors are off here.
        let (output, report) = try Self.generate(
            ["--source", "\(kind):\(file)", "--min-entropy", "0.9", "--extractor", "von-neumann", "--no-monitors"],
            bytes: 2000)
        #expect(output.count == 2000)
        #expect(!report.statistics.provenance.isSimulated, "a file is a recording, whatever wrote it")
        #expect(report.statistics.minEntropyOrigin.contains("claimed"))
    }

    @Test func aRecordingNeedsAClaimOrAnAssessment() throws {
        let file = Self.path("noclaim.ptu")
        defer { try? FileManager.default.removeItem(atPath: file) }
        try Simulate.parse(["--format", "ptu", "--duration", "0.001", "--seed", "1", "--out", file]).run()
        #expect {
            _ = try Self.generate(["--source", "ptu:\(file)"], bytes: 10)
        } throws: { error in
            guard let error = error as? QRNGError else { return false }
            return error.context.field == "min-entropy" && error.message.contains("--assess")
        }
    }

    /// The real PicoHarp recording (two detectors on channels 0 and 1, no sync), as a continuous-wave beam
    /// splitter: the pipeline runs on a file qrng never wrote. The recording is not QRNG data: its click rate
    /// climbs over the 7.6 s to about 2.4 times that of its first window (well outside what the first window's
    /// 325 clicks leave possible), so the click-rate monitor alarms on it (checked below), naming what it saw,
    /// what it expected and from where, and `--monitors warn`; the pipeline itself is then run with the monitors
    /// off.
    @Test func theRealPicoHarpFileFeedsThePipeline() throws {
        let file = TestPaths.repository.appendingPathComponent("testvectors/ptu/picoharp_v30_t2.ptu").path
        let arguments = ["--source", "ptu:\(file)", "--cw", "--d0-channel", "0", "--d1-channel", "1", "--min-entropy",
                         "0.5", "--extractor", "von-neumann"]
        let (_, monitored) = try Self.generate(arguments, bytes: 4096)
        let alarm = try #require(monitored.statistics.lastFailure, "the monitors see that this is not single-photon light")
        #expect(!alarm.test.isContinuousTest, "\(alarm)")
        #expect(alarm.test == .clickRate, "\(alarm)")
        #expect(alarm.detail?.contains("learned from the first window") == true, "\(alarm)")
        #expect(alarm.detail?.contains("--monitors warn") == true, "\(alarm)")
        // Reported without gating, the alarms leave the output to the SP 800-90B tests.
        let (warned, warnedReport) = try Self.generate(arguments + ["--monitors", "warn"], bytes: 4096)
        #expect(warned.count == 4096 && warnedReport.failure == nil)
        #expect(warnedReport.statistics.monitorWarnings > 0)
        let (output, report) = try Self.generate(arguments + ["--no-monitors"], bytes: 4096)
        #expect(output.count == 4096)
        #expect(report.statistics.provenance.description.contains("picoharp_v30_t2.ptu"))
        #expect(report.statistics.source.singleClicksD0 > 0 && report.statistics.source.singleClicksD1 > 0)
    }

    /// The HydraHarp v2 re-encoding of the PicoHarp file's first 300,000 photons (testvectors/ptu), in the same
    /// natural mode with the default monitors: the same alarms at the same samples, with the same explanation,
    /// and with the monitors off the same bytes. A time tagger's record layout changes nothing downstream.
    @Test func theHydraHarpRecordingBehavesAsThePicoHarpOne() throws {
        let directory = TestPaths.repository.appendingPathComponent("testvectors/ptu")
        func arguments(_ name: String) -> [String] {
            ["--source", "ptu:\(directory.appendingPathComponent(name).path)", "--cw", "--d0-channel", "0",
             "--d1-channel", "1", "--min-entropy", "0.5", "--extractor", "von-neumann"]
        }
        let picoHarp = arguments("picoharp_v30_t2.ptu")
        let hydraHarp = arguments("hydraharp_v2_t2_from_picoharp.ptu")
        let (_, picoHarpReport) = try Self.generate(picoHarp, bytes: 4096)
        let (_, hydraHarpReport) = try Self.generate(hydraHarp, bytes: 4096)
        let alarm = try #require(hydraHarpReport.statistics.lastFailure)
        #expect(alarm.test == .clickRate && alarm.detail?.contains("learned from the first window") == true)
        #expect(hydraHarpReport.statistics.lastFailure == picoHarpReport.statistics.lastFailure)
        #expect(hydraHarpReport.statistics.samples == picoHarpReport.statistics.samples)
        #expect(hydraHarpReport.account.samples.balanced)
        let (picoHarpBytes, _) = try Self.generate(picoHarp + ["--no-monitors"], bytes: 4096)
        let (hydraHarpBytes, _) = try Self.generate(hydraHarp + ["--no-monitors"], bytes: 4096)
        #expect(hydraHarpBytes.count == 4096 && hydraHarpBytes == picoHarpBytes)
    }

    @Test func assessmentSetsTheMinEntropyAndSaysSo() throws {
        let (output, report) = try Self.generate(
            ["--seed", "9", "--mode", "arrival-time", "--assess", "--assess-samples", "20000", "--extractor", "von-neumann"],
            bytes: 1000)
        #expect(output.count == 1000)
        #expect(report.statistics.minEntropyOrigin.hasPrefix("assessed: SP 800-90B non-IID over 20000 samples"))
    }

    /// A time tagger whose clock jumps back: the bad records stop the source (after what came before them is
    /// used), or are skipped, counted and reported.
    @Test func badRecordsStopTheSourceOrAreSkippedAndReported() throws {
        let file = Self.path("backwards.tt")
        defer { try? FileManager.default.removeItem(atPath: file) }
        try Simulate.parse([
            "--format", "timetags", "--duration", "0.004", "--seed", "5", "--out", file,
            "--fault", "timestamps-backwards@0.002:0.001",
        ]).run()
        let arguments = ["--source", "timetags:\(file)", "--min-entropy", "0.9", "--extractor", "von-neumann", "--no-monitors"]
        let (stopped, stoppedReport) = try Self.generate(arguments, bytes: 100_000)
        let failure = try #require(stoppedReport.failure)
        #expect(failure.code == .invalidInput && failure.context.file == file && failure.context.field == "timestamp")
        #expect(failure.context.byteOffset != nil)
        #expect(!stopped.isEmpty && stopped.count < 100_000, "what came before the bad record is output")

        let (_, skippedReport) = try Self.generate(arguments + ["--on-error", "skip"], bytes: 100_000)
        #expect(skippedReport.statistics.source.skipped.count > 100)
        #expect(skippedReport.summary.contains("skipped"))
        #expect(skippedReport.failure?.code == .endOfInput)
    }

    @Test func aClaimAboveTheSampleWidthIsAnError() throws {
        #expect {
            _ = try Self.generate(["--seed", "1", "--min-entropy", "1.5"], bytes: 10)
        } throws: { ($0 as? QRNGError)?.context.field == "min-entropy" }
    }

    @Test func simulatedFaultsReachThePipeline() throws {
        // The Toeplitz seed is drawn from the first released bits, so the failure comes while output is made.
        let (output, report) = try Self.generate(["--seed", "2", "--fault", "dead-detector@0.001:1"], bytes: 1 << 16)
        #expect(report.failure?.code == .healthTestFailure)
        #expect(output.count < 1 << 16)
    }
}

enum TestPaths {
    static let repository: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" && !FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
            url.deleteLastPathComponent()
        }
        return url
    }()
}
