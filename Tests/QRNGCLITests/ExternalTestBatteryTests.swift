import Foundation
import QRNG
@testable import QRNGCLI
import Testing

/// `qrng generate --bytes 1000000 --seed 7` judged by `ent` and `rngtest` (Debian packages ent and
/// rng-tools5, which .ci/run installs), with the thresholds /dev/urandom output meets.
@Suite struct ExternalTestBatteryTests {
    static let sample: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("qrng-battery-\(getpid()).bin")
        let command = try! Generate.parse(["--bytes", "1000000", "--seed", "7"])
        var bytes: [UInt8] = []
        _ = try! GenerateJob(configuration: try! command.pipeline.configuration(mode: command.mode), byteCount: 1_000_000).run { bytes += $0 }
        try! Data(bytes).write(to: url)
        return url
    }()

    static func run(_ tool: String, arguments: [String] = [], input: URL? = nil) throws -> (Int32, String) {
        guard let path = ["/usr/bin/\(tool)", "/usr/local/bin/\(tool)", "/usr/sbin/\(tool)"]
            .first(where: FileManager.default.isExecutableFile(atPath:))
        else {
            throw VectorlessError("\(tool) is not installed: apt-get install ent rng-tools5 (.ci/run does)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        if let input { process.standardInput = try FileHandle(forReadingFrom: input) }
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    static func number(after label: String, in text: String) -> Double? {
        guard let range = text.range(of: label) else { return nil }
        let rest = text[range.upperBound...].drop { $0 == " " || $0 == "=" || $0 == ":" }
        return Double(rest.prefix { $0.isNumber || $0 == "." || $0 == "-" })
    }

    @Test func entFindsNothingToDistinguishItFromRandom() throws {
        let (status, report) = try Self.run("ent", arguments: [Self.sample.path])
        #expect(status == 0)
        let entropy = try #require(Self.number(after: "Entropy", in: report))
        let exceed = try #require(Self.number(after: "would exceed this value", in: report))
        let mean = try #require(Self.number(after: "Arithmetic mean value of data bytes is", in: report))
        let pi = try #require(Self.number(after: "Monte Carlo value for Pi is", in: report))
        let correlation = try #require(Self.number(after: "Serial correlation coefficient is", in: report))
        #expect(entropy > 7.9997, "\(report)")
        #expect(exceed > 0.1 && exceed < 99.9, "chi-square: \(report)")
        #expect(abs(mean - 127.5) < 0.5, "\(report)")
        #expect(abs(pi - Double.pi) / Double.pi < 0.005, "\(report)")
        #expect(abs(correlation) < 0.005, "\(report)")
    }

    @Test func rngtestPassesTheFips140Blocks() throws {
        let (_, report) = try Self.run("rngtest", input: Self.sample)
        let successes = try #require(Self.number(after: "FIPS 140-2 successes", in: report))
        let failures = try #require(Self.number(after: "FIPS 140-2 failures", in: report))
        #expect(successes + failures == 399 || successes + failures == 400, "\(report)")
        // A good generator fails about 0.08 % of 20,000-bit blocks: at most a couple here.
        #expect(failures <= 2, "\(report)")
    }
}

struct VectorlessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
