import Foundation
import QRNG
@testable import QRNGCLI
import Testing

@Suite struct ExtractCommandTests {
    static func temporaryFile(_ name: String, _ bytes: [UInt8]) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("qrng-\(getpid())-\(name)").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func toeplitzStreamsBlocksAndReportsATrailingPartialBlock() throws {
        var generator = Xoshiro256StarStar(seed: 70)
        let (n, m) = (1000, 600)
        func random(_ count: Int) -> BitBuffer {
            BitBuffer(words: (0..<(count + 63) / 64).map { _ in generator.next() }, count: count)
        }
        let input = random(8 * 1000)  // 8 whole blocks
        let seed = random(n + m - 1 + 7)
        let inputPath = try Self.temporaryFile("in", input.packedBytes())
        let seedPath = try Self.temporaryFile("seed", seed.packedBytes())
        let outPath = inputPath + ".out"
        defer { for path in [inputPath, seedPath, outPath] { try? FileManager.default.removeItem(atPath: path) } }

        let command = try Extract.ToeplitzCommand.parse([
            "--seed", seedPath, "--block-bits", String(n), "--output-bits", String(m), "--input", inputPath,
            "--out", outPath,
        ])
        try command.run()
        let extractor = try ToeplitzExtractor(seed: seed, inputBits: n, outputBits: m)
        var expected = BitBuffer()
        for block in 0..<8 { expected.append(contentsOf: extractor.hash(input.extracting(block * n..<(block + 1) * n))) }
        let written = try Data(contentsOf: URL(fileURLWithPath: outPath))
        #expect(Array(written) == expected.packedBytes(), "8 blocks of 600 bits, the last byte zero-padded")
    }

    @Test func extractionJobReportsUnusedBits() throws {
        let inputPath = try Self.temporaryFile("vn", [0b1001_1100, 0xAB, 0x01])
        defer { try? FileManager.default.removeItem(atPath: inputPath) }
        var job = ExtractionJob(extractor: try ToeplitzExtractor(seed: BitBuffer(zeros: 20), inputBits: 16, outputBits: 4))
        var output: [UInt8] = []
        let report = try job.run(input: try ReadableFile(path: inputPath)) { output += $0 }
        #expect(report.inputBits == 24 && report.outputBits == 4 && report.unusedInputBits == 8)
        #expect(output == [0], "a zero seed hashes to zeros, padded to a byte")
    }

    @Test func aShortSeedIsAnErrorNamingTheFile() throws {
        let seedPath = try Self.temporaryFile("short-seed", [1, 2, 3])
        defer { try? FileManager.default.removeItem(atPath: seedPath) }
        let command = try Extract.ToeplitzCommand.parse(["--seed", seedPath, "--block-bits", "64", "--output-bits", "32"])
        #expect {
            try command.run()
        } throws: { error in
            guard let error = error as? QRNGError else { return false }
            return error.context.file == seedPath && error.message.contains("95")
        }
    }

    @Test func outputLengthFromTheLeftoverHashLemmaOrGivenButNotBoth() {
        #expect(throws: (any Error).self) { try Extract.ToeplitzCommand.parse(["--seed", "s", "--block-bits", "4096"]) }
        #expect(throws: (any Error).self) {
            try Extract.ToeplitzCommand.parse([
                "--seed", "s", "--block-bits", "4096", "--output-bits", "10", "--min-entropy", "0.9",
            ])
        }
        #expect(throws: (any Error).self) {
            try Extract.ToeplitzCommand.parse(["--seed", "s", "--block-bits", "8", "--output-bits", "4"])
        }
    }
}
