import Foundation
import QRNG
@testable import QRNGAssessment
@testable import QRNGCLI
import Testing

/// `qrng assess` driven in-process on temporary files.
@Suite struct AssessCommandTests {
    static func temporaryFile(_ bytes: [UInt8], name: String = #function) throws -> String {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("qrng-assess-\(getpid())-\(name.filter(\.isLetter)).bin").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func randomBytes(_ count: Int, below limit: Int, seed: UInt64) -> [UInt8] {
        var generator = Xoshiro256StarStar(seed: seed)
        return (0..<count).map { _ in UInt8(generator.next() % UInt64(limit)) }
    }

    @Test func jsonHasOneFieldPerEstimatorAndTheFinalValue() throws {
        let bytes = Self.randomBytes(12_000, below: 64, seed: 1)
        let path = try Self.temporaryFile(bytes)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let output = try Assess.parse([path, "--bits-per-sample", "6", "--json"]).output()
        let object = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
        let estimators = try #require(object["estimators"] as? [String: Any])
        #expect(Set(estimators.keys) == Set(Estimate.Estimator.allCases.map(\.rawValue)))
        // JSONSerialization may read a shortest-form number back one ulp off, hence the tolerance.
        let library = try MinEntropyAssessment.nonIID(samples: bytes.map(UInt16.init), bitsPerSample: 6)
        for (key, value) in [("min_entropy", library.minEntropy), ("h_original", library.hOriginal),
                             ("h_bitstring", library.hBitString)] {
            let read = try #require(object[key] as? Double, "no \(key)")
            #expect(abs(read - (value ?? .nan)) <= 1e-15, "\(key): \(read) against \(String(describing: value))")
        }
    }

    @Test func textListsEveryEstimatorAndTheResult() throws {
        let path = try Self.temporaryFile(Self.randomBytes(12_000, below: 16, seed: 2))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let text = try Assess.parse([path, "--bits-per-sample", "4"]).output()
        for line in ["Most Common Value", "Collision", "Markov", "Compression", "t-Tuple", "LRS", "MultiMCW", "Lag",
                     "MultiMMC", "LZ78Y", "H_original:", "H_bitstring:", "min(H_original, 4 X H_bitstring)",
                     "Assessed min-entropy"] {
            #expect(text.contains(line), "output lacks '\(line)'")
        }
    }

    @Test func theThreeFormatsReadTheSameSamples() throws {
        let samples = Self.randomBytes(9000, below: 2, seed: 3)
        var packed = [UInt8](repeating: 0, count: samples.count / 8)
        for (index, bit) in samples.enumerated() where bit == 1 { packed[index / 8] |= 0x80 >> UInt8(index % 8) }
        var wide: [UInt8] = []
        for sample in samples { wide += [sample, 0] }
        let paths = try [
            Self.temporaryFile(samples, name: "bytes"), Self.temporaryFile(packed, name: "packed"),
            Self.temporaryFile(wide, name: "wide"),
        ]
        defer { for path in paths { try? FileManager.default.removeItem(atPath: path) } }
        let bytes = try SampleFile.load(path: paths[0], format: .bytes, bitsPerSample: 1)
        #expect(try SampleFile.load(path: paths[1], format: .packed, bitsPerSample: 1) == bytes)
        #expect(try SampleFile.load(path: paths[2], format: .u16le, bitsPerSample: 1) == bytes)
        let viaFlag = try Assess.parse([paths[1], "--bits-per-sample", "1", "--packed", "--json"]).output()
        let viaBytes = try Assess.parse([paths[0], "--bits-per-sample", "1", "--json"]).output()
        #expect(viaFlag == viaBytes)
        // Packed 2-bit samples: 0b01_10_11_00 is 1, 2, 3, 0.
        let twoBit = try Self.temporaryFile([0b0110_1100], name: "twobit")
        defer { try? FileManager.default.removeItem(atPath: twoBit) }
        #expect(try SampleFile.load(path: twoBit, format: .packed, bitsPerSample: 2) == [1, 2, 3, 0])
    }

    @Test func badFilesNameTheFileAndTheOffset() throws {
        let path = try Self.temporaryFile([1, 0, 1, 7, 1])
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect {
            try Assess.parse([path, "--bits-per-sample", "2"]).output()
        } throws: { error in
            guard let error = error as? QRNGError else { return false }
            return error.code == .invalidInput && error.context.byteOffset == 3 && error.description.contains(path)
        }
        #expect {
            try Assess.parse([path, "--bits-per-sample", "3", "--format", "u16le"]).output()
        } throws: { error in
            (error as? QRNGError)?.context.byteOffset == 4
        }
        #expect {
            try Assess.parse(["/nonexistent/samples.bin", "--bits-per-sample", "8"]).output()
        } throws: { error in
            guard let error = error as? QRNGError else { return false }
            return error.code == .systemCall && error.description.contains("/nonexistent/samples.bin")
        }
        let empty = try Self.temporaryFile([], name: "empty")
        defer { try? FileManager.default.removeItem(atPath: empty) }
        #expect(throws: QRNGError.self) { try Assess.parse([empty, "--bits-per-sample", "8"]).output() }
    }

    @Test func argumentsAreChecked() {
        #expect(throws: (any Error).self) { try Assess.parse(["f.bin", "--bits-per-sample", "0"]) }
        #expect(throws: (any Error).self) { try Assess.parse(["f.bin", "--bits-per-sample", "12"]) }
        #expect(throws: (any Error).self) { try Assess.parse(["f.bin"]) }
        #expect(throws: (any Error).self) {
            try Assess.parse(["f.bin", "--bits-per-sample", "4", "--packed", "--format", "u16le"])
        }
        #expect((try? Assess.parse(["f.bin", "--bits-per-sample", "12", "--format", "u16le"])) != nil)
    }

    @Test func iidTrackIsReproducibleWithASeed() throws {
        let path = try Self.temporaryFile(Self.randomBytes(8000, below: 16, seed: 4))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let arguments = [path, "--bits-per-sample", "4", "--iid", "--seed", "9", "--json"]
        let first = try Assess.parse(arguments).output()
        #expect(first == (try Assess.parse(arguments).output()))
        #expect(first.contains("\"iid\":{") && first.contains("\"permutation\":["))
    }
}
