import Foundation
import QRNG
@testable import QRNGCLI
import Testing

@Suite(.serialized) struct GenerateTests {
    static func generate(bytes: Int, seed: UInt64, extractor: String = "toeplitz") throws -> ([UInt8], String) {
        let arguments = ["--bytes", String(bytes), "--seed", String(seed), "--extractor", extractor]
        let command = try Generate.parse(arguments)
        var output: [UInt8] = []
        let report = try GenerateJob(configuration: try command.pipeline.configuration(mode: command.mode), byteCount: bytes).run { chunk in
            output += chunk
        }
        #expect(report.failure == nil)
        #expect(report.bytesWritten == bytes)
        return (output, report.summary)
    }

    @Test func sameSeedSameBytesOtherSeedOtherBytes() throws {
        let (first, summary) = try Self.generate(bytes: 1_000_000, seed: 7)
        #expect(first.count == 1_000_000)
        let (again, _) = try Self.generate(bytes: 1_000_000, seed: 7)
        #expect(first == again)
        let (other, _) = try Self.generate(bytes: 100_000, seed: 8)
        #expect(Array(first.prefix(100_000)) != other)
        for word in ["SIMULATED", "pulses", "clicks", "double clicks", "raw samples", "output bits 8000000", "health"] {
            #expect(summary.contains(word), "summary lacks '\(word)': \(summary)")
        }
    }

    @Test func generateCommandWritesExactlyTheRequestedBytesToAFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("qrng-generate-\(getpid()).bin").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let command = try Generate.parse(["--bytes", "12345", "--seed", "3", "--out", path])
        try command.run()
        let written = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(written.count == 12345)
        let (expected, _) = try Self.generate(bytes: 12345, seed: 3)
        #expect(Array(written) == expected)
    }

    @Test func unwritableOutputIsAClearError() throws {
        let command = try Generate.parse(["--bytes", "10", "--seed", "1", "--out", "/nonexistent-dir/x.bin"])
        #expect {
            try command.run()
        } throws: { error in
            guard let error = error as? QRNGError else { return false }
            return error.code == .systemCall && error.description.contains("/nonexistent-dir/x.bin")
        }
    }

    @Test func vonNeumannOutputIsBalanced() throws {
        let (bytes, summary) = try Self.generate(bytes: 50_000, seed: 11, extractor: "von-neumann")
        let ones = bytes.reduce(0) { $0 + $1.nonzeroBitCount }
        #expect(abs(Double(ones) - 200_000) < 5 * (100_000.0).squareRoot())
        #expect(summary.contains("von-neumann"))
    }
}
