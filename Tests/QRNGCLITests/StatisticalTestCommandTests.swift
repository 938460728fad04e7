import Foundation
import QRNG
@testable import QRNGStatistics
@testable import QRNGCLI
import Testing

/// `qrng test`: argument checks, both input formats, the report, the JSON and the simulated source.
@Suite struct StatisticsCommandTests {
    static let e: URL = {
        var url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: url.appendingPathComponent("testvectors").path) {
            url.deleteLastPathComponent()
        }
        return url.appendingPathComponent("testvectors/sts/e.bin")
    }()

    static func temporaryFile(_ name: String, _ contents: Data) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("qrng-test-\(getpid())-\(name)")
        try contents.write(to: url)
        return url
    }

    static func job(_ arguments: [String]) throws -> StatisticalTestJob {
        let command = try RunStatisticalTests.parse(arguments)
        let input: StatisticalTestJob.Input = command.source != nil
            ? .pipeline(try command.pipeline.configuration(mode: command.mode)) : .file(command.file!, format: command.format)
        return StatisticalTestJob(input: input, length: command.length, sequenceCount: command.sequenceCount,
                                  parameters: command.parameters)
    }

    @Test func argumentsAreChecked() {
        #expect(throws: (any Error).self) { try RunStatisticalTests.parse([]) }
        #expect(throws: (any Error).self) { try RunStatisticalTests.parse(["x.bin", "--source", "simulated"]) }
        #expect(throws: (any Error).self) { try RunStatisticalTests.parse(["x.bin", "--tests", "nonsense"]) }
        #expect(throws: (any Error).self) { try RunStatisticalTests.parse(["x.bin", "--length", "0"]) }
        #expect(throws: (any Error).self) { try RunStatisticalTests.parse(["x.bin", "--serial-length", "40"]) }
        #expect(throws: (any Error).self) { try RunStatisticalTests.parse(["x.bin", "--format", "hex"]) }
        #expect(RunStatisticalTests.configuration.commandName == "test")
        let listed = try? RunStatisticalTests.parse(["x.bin", "--tests", "frequency,fft", "serial"])
        #expect(listed?.parameters.tests == [.frequency, .discreteFourierTransform, .serial])
    }

    @Test func theCommandsResultsAreTheLibrarysOnE() throws {
        let outcome = try Self.job([Self.e.path]).run()
        let bits = BitBuffer(packedBytes: Array(try Data(contentsOf: Self.e)))
        #expect(outcome.results == [try runAllTests(on: bits)])
        #expect(outcome.leftoverBits == 0 && !outcome.isSimulated)
        let report = outcome.textReport(listingPValues: false)
        for line in ["RESULTS FOR THE UNIFORMITY OF P-VALUES AND THE PROPORTION OF PASSING SEQUENCES",
                     "generator is <\(Self.e.path)>", "NonOverlappingTemplate B = 000000001",
                     "P-VALUES OF SEQUENCE 1", "FAILURE  p_value = 0.007779  RandomExcursions x = -1"] {
            #expect(report.contains(line), "report lacks '\(line)'")
        }
    }

    @Test func jsonHoldsEveryPValue() throws {
        let outcome = try Self.job([Self.e.path, "--nist-sts-constants", "--length", "500000"]).run()
        let json = try JSONSerialization.jsonObject(with: Data(try outcome.json().utf8)) as! [String: Any]
        #expect(json["sequenceCount"] as? Int == 2 && json["sequenceLength"] as? Int == 500_000)
        #expect(json["constants"] as? String == "nistSTS" && json["simulated"] as? Bool == false)
        let sequences = json["sequences"] as! [[String: Any]]
        for sequence in sequences {
            let tests = sequence["tests"] as! [[String: Any]]
            #expect(tests.count == 15)
            let pValues = tests.flatMap { ($0["subtests"] as! [[String: Any]]).map { $0["pValue"] as! Double } }
            let applicable = tests.filter { $0["notApplicable"] == nil }.count
            #expect(applicable >= 13 && pValues.allSatisfy { (0...1).contains($0) })
        }
        let rows = json["analysis"] as! [[String: Any]]
        // One row per P-value: 148 templates, 8 + 18 excursion states, two cusum and two serial, 10 others.
        let expectedRows = 148 + 8 + 18 + 2 + 2 + 10
        #expect(rows.count == expectedRows)
        let first = BitBuffer(packedBytes: Array(try Data(contentsOf: Self.e)).prefix(62_500))
        var parameters = StatisticalTestParameters()
        parameters.constants = .nistSTS
        let library = try runAllTests(on: first, parameters: parameters)
        let firstTests = sequences[0]["tests"] as! [[String: Any]]
        let overlapping = firstTests.first { $0["test"] as? String == "OverlappingTemplate" }
        let value = ((overlapping?["subtests"] as? [[String: Any]])?.first?["pValue"] as? Double)
        #expect(value == library[.overlappingTemplateMatching]?.pValues.first)
    }

    @Test func asciiInputGivesTheSameBitsAsBinary() throws {
        let bytes = Array(try Data(contentsOf: Self.e).prefix(12_500))
        var text = ""
        for (index, byte) in bytes.enumerated() {
            text += String(byte, radix: 2).leftPadded(to: 8)
            text += index % 10 == 9 ? "\n" : " "
        }
        let ascii = try Self.temporaryFile("ascii.txt", Data(text.utf8))
        let binary = try Self.temporaryFile("binary.bin", Data(bytes))
        defer {
            try? FileManager.default.removeItem(at: ascii)
            try? FileManager.default.removeItem(at: binary)
        }
        let fromText = try Self.job([ascii.path, "--format", "ascii", "--length", "33333"]).run()
        let fromBinary = try Self.job([binary.path, "--length", "33333"]).run()
        #expect(fromText.results.count == 3 && fromText.results == fromBinary.results)
        #expect(fromText.leftoverBits == 100_000 - 3 * 33_333)
    }

    /// Sequences that start mid-byte are cut exactly where NIST STS cuts them.
    @Test func sequencesStartMidByte() throws {
        var generator = Xoshiro256StarStar(seed: 3)
        let bytes = (0..<4096).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        let all = BitBuffer(packedBytes: bytes)
        for (offset, count) in [(0, 64), (3, 100), (13, 4000), (61, 1), (7, 32_000)] {
            let cut = bytes.withUnsafeBytes { BitStreamReader.bits($0, from: offset, count: count) }
            #expect(cut == all.extracting(offset..<offset + count), "offset \(offset), count \(count)")
        }
    }

    @Test func badInputIsAClearError() throws {
        let text = try Self.temporaryFile("bad.txt", Data("0101\n01x1".utf8))
        defer { try? FileManager.default.removeItem(at: text) }
        #expect {
            _ = try Self.job([text.path, "--format", "ascii", "--length", "8"]).run()
        } throws: { error in
            guard let error = error as? QRNGError else { return false }
            return error.code == .invalidInput && error.context.byteOffset == 7 && error.description.contains("'x'")
        }
        #expect {
            _ = try Self.job([Self.e.path, "--sequences", "2"]).run()
        } throws: { error in
            (error as? QRNGError)?.description.contains("needs 2 sequences of 1000000 bits") == true
        }
        #expect {
            _ = try Self.job(["/nonexistent/e.bin"]).run()
        } throws: { error in (error as? QRNGError)?.code == .systemCall }
    }

    @Test func simulatedSourceIsLabelledAndRepeatsWithItsSeed() throws {
        let arguments = ["--source", "simulated", "--seed", "5", "--length", "100000", "--sequences", "2",
                         "--tests", "frequency", "runs", "serial"]
        let first = try Self.job(arguments).run()
        let again = try Self.job(arguments).run()
        #expect(first.isSimulated && first.results.count == 2 && first.failure == nil)
        #expect(first.results == again.results)
        let report = first.textReport(listingPValues: true)
        #expect(report.contains("SIMULATED"), "\(report)")
        #expect(report.contains("Serial ∇²ψ²"))
        let json = try JSONSerialization.jsonObject(with: Data(try first.json().utf8)) as! [String: Any]
        #expect(json["simulated"] as? Bool == true)
        #expect((json["provenance"] as? String)?.contains("SIMULATED") == true)
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}
