import ArgumentParser
import QRNG
import QRNGAssessment

#if canImport(Glibc)
import Glibc
#endif

/// `qrng assess`: the NIST SP 800-90B min-entropy assessment of a file of raw samples.
struct Assess: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Assess the min-entropy of raw noise samples (NIST SP 800-90B), as NIST's ea_non_iid/ea_iid do.",
        discussion: """
            Runs the ten non-IID estimators of SP 800-90B §6.3 on the samples (H_original) and, for samples wider \
            than one bit, on their bit string (H_bitstring), and prints every estimate and the assessed \
            min-entropy min(H_original, k × H_bitstring) per sample. With --iid it runs the IID track instead: \
            the chi-square, longest-repeated-substring and permutation tests of §5 and the Most Common Value \
            estimate. With --restart FILE it also runs the restart tests of §3.1.4 on FILE (1000 restarts of \
            1000 samples, in the same format), using the assessed value as H_I.

            Input formats: one sample per byte, in the low bits (NIST's format; the default); u16le, 16-bit \
            little-endian samples; packed, a bit string packed most significant bit first and read k bits per \
            sample (--packed). Results agree with NIST's reference tool (version 1.1.x) to within 1e-4 bits.
            """
    )

    @Argument(help: "The file of samples.")
    var file: String

    @OptionGroup var samples: SampleFileOptions

    @Flag(help: "Run the IID track (§5 tests and the Most Common Value estimate) instead of the non-IID track.")
    var iid = false

    @Flag(help: "Assess a conditioned sequential dataset (§3.1.5.2, the tool's -c): only the bit string, h' per bit.")
    var conditioned = false

    @Flag(name: .customLong("truncate-bitstring"),
          help: "Assess only the first 1,000,000 bits of the bit string (the tool's -t).")
    var truncateBitString = false

    @Option(parsing: .unconditional, help: "Seed for the permutation tests' shuffles (default: from the OS).",
            transform: parseSeed)
    var seed: UInt64?

    @Option(help: "Also run the restart tests (§3.1.4) on this file of 1000 × 1000 restart samples.")
    var restart: String?

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    var bitsPerSample: Int { samples.bitsPerSample }
    var inputFormat: SampleFormat { samples.inputFormat }

    func run() throws {
        print(try output())
    }

    /// Runs the assessment and returns what `run` prints.
    func output() throws -> String {
        let samples = try SampleFile.load(path: file, format: inputFormat, bitsPerSample: bitsPerSample)
        let options = MinEntropyAssessment.Options(
            mode: conditioned ? .conditioned : .initial, truncateBitString: truncateBitString)
        let report: MinEntropyAssessment.Report
        if iid {
            report = try MinEntropyAssessment.iid(
                samples: samples, bitsPerSample: bitsPerSample, options: options, seed: seed)
        } else {
            report = try MinEntropyAssessment.nonIID(samples: samples, bitsPerSample: bitsPerSample, options: options)
        }
        var restartReport: RestartTestReport?
        if let restart {
            let matrix = try SampleFile.load(path: restart, format: inputFormat, bitsPerSample: bitsPerSample)
            restartReport = try MinEntropyAssessment.restartTests(
                matrix: matrix, bitsPerSample: bitsPerSample, initialEntropy: report.minEntropy,
                track: iid ? .iid : .nonIID, seed: seed)
        }
        if json {
            guard let restartReport else { return report.json }
            return String(report.json.dropLast()) + ",\"restart\":" + restartReport.json + "}"
        }
        var text = "File: \(file)\n" + report.text
        if let restartReport { text += "\n\n" + restartReport.text }
        return text
    }
}

/// Reading sample files in the formats `qrng assess` accepts.
enum SampleFile {
    static func load(path: String, format: SampleFormat, bitsPerSample k: Int) throws -> [UInt16] {
        let bytes = try readAll(path: path)
        guard !bytes.isEmpty else { throw QRNGError(.invalidInput, "the file is empty", context: .init(file: path)) }
        switch format {
        case .bytes:
            let limit = 1 << k
            if let bad = bytes.firstIndex(where: { Int($0) >= limit }) {
                throw QRNGError(
                    .invalidInput,
                    "sample 0x\(String(bytes[bad], radix: 16)) does not fit in \(k) bits (--bits-per-sample \(k))",
                    context: .init(file: path, byteOffset: UInt64(bad)))
            }
            return bytes.map(UInt16.init)
        case .u16le:
            guard bytes.count % 2 == 0 else {
                throw QRNGError(
                    .invalidInput, "a u16le file holds 2 bytes per sample; the last sample is cut short",
                    context: .init(file: path, byteOffset: UInt64(bytes.count - 1)))
            }
            var samples = [UInt16](repeating: 0, count: bytes.count / 2)
            let limit = 1 << k
            for index in samples.indices {
                let value = UInt16(bytes[2 * index]) | UInt16(bytes[2 * index + 1]) << 8
                guard Int(value) < limit else {
                    throw QRNGError(
                        .invalidInput, "sample \(value) does not fit in \(k) bits (--bits-per-sample \(k))",
                        context: .init(file: path, byteOffset: UInt64(2 * index)))
                }
                samples[index] = value
            }
            return samples
        case .packed:
            // k bits per sample, most significant first; bits left over after the last whole sample are ignored.
            let count = bytes.count * 8 / k
            var samples = [UInt16](repeating: 0, count: count)
            var bit = 0
            for index in 0..<count {
                var value: UInt16 = 0
                for _ in 0..<k {
                    value = value << 1 | UInt16(bytes[bit >> 3] >> UInt8(7 - bit & 7) & 1)
                    bit += 1
                }
                samples[index] = value
            }
            return samples
        }
    }

    static func readAll(path: String) throws -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw QRNGError(.systemCall, "cannot open for reading", context: .init(file: path, errno: errno))
        }
        defer { _ = close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw QRNGError(
                    .systemCall, "read failed",
                    context: .init(file: path, byteOffset: UInt64(bytes.count), errno: errno))
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return bytes
    }
}
