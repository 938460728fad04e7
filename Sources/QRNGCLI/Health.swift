import ArgumentParser
import QRNG

/// `qrng health`: SP 800-90B's continuous health tests and the sample monitors over a file of raw samples.
struct HealthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health",
        abstract: "Run the SP 800-90B health tests (RCT, APT) and the sample monitors over a file of raw samples.",
        discussion: """
            Streams the file in constant memory through the same health monitor as `qrng generate`: start-up \
            testing of the first 1024 samples, the Repetition Count and Adaptive Proportion Tests with cutoffs \
            computed from --alpha and --min-entropy, and the monitors that need no detector counters \
            (autocorrelation at lags 1 to --max-lag, and histogram drift for samples of 2 bits or more). Every \
            failure is reported with its test, sample offset (counted from 0), value and threshold; after a \
            failure start-up testing runs again, as in the generator. The exit status is 1 when any test failed.

            Input formats: one sample per byte, in the low bits (the default); u16le, 16-bit little-endian \
            samples; packed, a bit string packed most significant bit first and read k bits per sample \
            (--packed). A sample that does not fit in k bits is an error naming the file and byte offset.
            """
    )

    @Argument(help: "The file of samples ('-' for standard input).")
    var file: String

    @OptionGroup var samples: SampleFileOptions

    @Option(name: .customLong("min-entropy"), help: "The claimed min-entropy H per sample, in (0, k] bits.",
            transform: NumericDomain(above: 0, through: 16).double)
    var minEntropy: Double

    @Option(help: "The tests' false-positive probability α, e.g. 2^-30 (also each monitor's, per window).",
            transform: { try parseProbability($0, option: "--alpha") })
    var alpha: ErrorProbability = .defaultAlpha

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    @Flag(name: .customLong("no-monitors"),
          help: "Run only the RCT and APT, not the autocorrelation and histogram monitors.")
    var noMonitors = false

    @Option(name: .customLong("monitor-window"),
            help: "Samples per monitor window, 1024 to 2^30 (default: 2^16).",
            transform: NumericDomain(1024...0x1p30).integer)
    var monitorWindow: Int?

    @Option(name: .customLong("max-lag"), help: "The autocorrelation monitor's largest lag, 1 to 63.",
            transform: NumericDomain(1...63).integer)
    var maxLag: Int = 8

    @Option(name: .customLong("permanent-after"),
            help: """
                Stop at a permanent failure: this many failures within --permanent-window samples (default: never \
                stop); 1 to 2^31.
                """, transform: NumericDomain(1...0x1p31).integer)
    var permanentAfter: Int?

    @Option(name: .customLong("permanent-window"), help: "The span in samples for --permanent-after, 1 to 2^62.",
            transform: NumericDomain(1...0x1p62).integer)
    var permanentWindow: UInt64 = 1 << 20

    @Option(name: .customLong("max-reports"), help: "Failures listed one by one at most, 0 to 2^31; all are counted.",
            transform: NumericDomain(0...0x1p31).integer)
    var maxReports: Int = 10_000

    var bitsPerSample: Int { samples.bitsPerSample }
    var inputFormat: SampleFormat { samples.inputFormat }

    func validate() throws {
        guard minEntropy > 0 && minEntropy <= Double(bitsPerSample) else {
            throw ValidationError(
                "--min-entropy must be in (0, \(bitsPerSample)] bits for \(bitsPerSample)-bit samples")
        }
    }

    func run() throws {
        let report = try report()
        print(json ? report.json : report.text)
        if !report.failures.isEmpty { throw ExitCode.failure }
    }

    /// Runs the tests over the file and returns the report `run` prints.
    func report() throws -> HealthFileReport {
        let cutoffs = try HealthCutoffs(bitsPerSample: bitsPerSample, minEntropy: minEntropy, alpha: alpha)
        var monitors: PhotonMonitorSettings?
        if !noMonitors {
            var settings = PhotonMonitorSettings.samplesOnly(alpha: alpha)
            settings.autocorrelation = .init(maxLag: maxLag, windowSamples: monitorWindow)
            if let monitorWindow { settings.histogramDrift?.windowSamples = monitorWindow }
            monitors = settings
        }
        let policy = FailurePolicy(
            permanentFailureCount: permanentAfter ?? Int.max, permanentFailureWindow: permanentWindow)
        var monitor = try HealthMonitor(cutoffs: cutoffs, policy: policy, monitors: monitors)
        var failures: [HealthFailure] = []
        var released = BitBuffer()
        var reader = try SampleStream(path: file, format: inputFormat, bitsPerSample: bitsPerSample)
        while let samples = try reader.next() {
            failures += monitor.process(samples, releasingInto: &released)
            released.removeAll(keepingCapacity: true)
            if monitor.state == .failedPermanently { break }
        }
        return HealthFileReport(
            file: reader.path, cutoffs: cutoffs, samples: reader.samplesRead, failures: failures,
            released: monitor.samplesReleased + UInt64(monitor.samplesHeld), state: monitor.state,
            monitors: monitors, maxReports: maxReports)
    }
}

/// What `qrng health` found in a file.
struct HealthFileReport {
    var file: String
    var cutoffs: HealthCutoffs
    var samples: UInt64
    var failures: [HealthFailure]
    /// Samples that would have reached the extractor: released, or held at the end of the file.
    var released: UInt64
    var state: HealthState
    var monitors: PhotonMonitorSettings?
    var maxReports: Int

    var countsByTest: [(HealthTestKind, Int)] {
        HealthTestKind.allCases.compactMap { kind in
            let count = failures.filter { $0.test == kind }.count
            return count > 0 ? (kind, count) : nil
        }
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    var text: String {
        var lines = [
            "File: \(file)",
            "Samples: \(samples) of \(cutoffs.bitsPerSample) bits, claimed min-entropy \(cutoffs.minEntropy) bits, "
                + "α = \(cutoffs.alpha)",
            "Repetition Count Test: cutoff \(cutoffs.repetitionCountCutoff); Adaptive Proportion Test: window "
                + "\(cutoffs.adaptiveProportionWindow), cutoff \(cutoffs.adaptiveProportionCutoff); "
                + "start-up 1024 samples",
        ]
        if let monitors {
            var names: [String] = []
            if let autocorrelation = monitors.autocorrelation {
                let window = autocorrelation.windowSamples ?? 1 << 16
                names.append("autocorrelation (lags 1–\(autocorrelation.maxLag), windows of \(window))")
            }
            if let histogram = monitors.histogramDrift, cutoffs.bitsPerSample > 1 {
                names.append("histogram drift (windows of \(histogram.windowSamples))")
            }
            lines.append("Monitors: " + (names.isEmpty ? "none" : names.joined(separator: ", ")))
        }
        for failure in failures.prefix(maxReports) {
            var line = "FAIL \(failure.test.rawValue) at sample \(failure.sampleOffset): value "
                + "\(Self.format(failure.value)), threshold \(Self.format(failure.threshold))"
            if failure.duringStartup && failure.test.isContinuousTest { line += " (during start-up)" }
            if let detail = failure.detail { line += "; \(detail)" }
            if failure.permanent { line += "; permanent failure, testing stopped" }
            lines.append(line)
        }
        if failures.count > maxReports { lines.append("… and \(failures.count - maxReports) more failures") }
        let counts = countsByTest.map { "\($0.0.rawValue) \($0.1)" }.joined(separator: ", ")
        lines.append(
            "Summary: \(samples) samples tested, \(failures.count) failures" + (counts.isEmpty ? "" : " (\(counts))")
                + ", \(released) samples passed")
        lines.append(failures.isEmpty ? "Result: PASS" : "Result: FAIL")
        return lines.joined(separator: "\n")
    }

    var json: String {
        func quoted(_ text: String) -> String {
            var escaped = ""
            for scalar in text.unicodeScalars {
                switch scalar {
                case "\"": escaped += "\\\""
                case "\\": escaped += "\\\\"
                case "\n": escaped += "\\n"
                default:
                    if scalar.value < 0x20 {
                        escaped += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                            + String(scalar.value, radix: 16)
                    } else {
                        escaped.unicodeScalars.append(scalar)
                    }
                }
            }
            return "\"" + escaped + "\""
        }
        func number(_ value: Double) -> String { value.isFinite ? Self.format(value) : "null" }
        let failureObjects = failures.prefix(maxReports).map { failure in
            var fields = [
                "\"test\":\(quoted(failure.test.rawValue))", "\"sample_offset\":\(failure.sampleOffset)",
                "\"value\":\(number(failure.value))", "\"threshold\":\(number(failure.threshold))",
                "\"during_startup\":\(failure.duringStartup)", "\"permanent\":\(failure.permanent)",
            ]
            if let detail = failure.detail { fields.append("\"detail\":\(quoted(detail))") }
            return "{" + fields.joined(separator: ",") + "}"
        }
        let counts = countsByTest.map { "\(quoted($0.0.rawValue)):\($0.1)" }.joined(separator: ",")
        let fields = [
            "\"file\":\(quoted(file))", "\"bits_per_sample\":\(cutoffs.bitsPerSample)",
            "\"min_entropy\":\(number(cutoffs.minEntropy))", "\"alpha_log2\":\(number(-cutoffs.alpha.negativeLog2))",
            "\"rct_cutoff\":\(cutoffs.repetitionCountCutoff)", "\"apt_window\":\(cutoffs.adaptiveProportionWindow)",
            "\"apt_cutoff\":\(cutoffs.adaptiveProportionCutoff)", "\"samples\":\(samples)",
            "\"samples_passed\":\(released)", "\"failure_count\":\(failures.count)",
            "\"failures_by_test\":{\(counts)}", "\"failures\":[\(failureObjects.joined(separator: ","))]",
            "\"passed\":\(failures.isEmpty)",
        ]
        return "{" + fields.joined(separator: ",") + "}"
    }
}

/// A file of samples read a buffer at a time, in constant memory, as ``SampleBuffer``s.
struct SampleStream {
    let path: String
    let format: SampleFormat
    let bitsPerSample: Int
    private let file: ReadableFile
    private var chunk = [UInt8](repeating: 0, count: 1 << 20)
    /// Bytes of a sample cut by the end of a chunk (u16le), or bits of one (packed), carried to the next chunk.
    private var carryBytes: [UInt8] = []
    private var carryBits: UInt64 = 0
    private var carryBitCount = 0
    private(set) var samplesRead: UInt64 = 0
    private var ended = false

    init(path: String, format: SampleFormat, bitsPerSample: Int) throws {
        self.file = try ReadableFile(path: path)
        self.path = file.path
        self.format = format
        self.bitsPerSample = bitsPerSample
    }

    /// The next buffer of samples, or `nil` at the end of the file.
    mutating func next() throws -> SampleBuffer? {
        guard !ended else { return nil }
        let chunkOffset = file.offset
        let count = try file.read(into: &chunk)
        if count == 0 {
            ended = true
            if format == .u16le && !carryBytes.isEmpty {
                throw QRNGError(
                    .invalidInput, "a u16le file holds 2 bytes per sample; the last sample is cut short",
                    context: .init(file: path, byteOffset: chunkOffset - 1))
            }
            return nil
        }
        let k = bitsPerSample
        let limit = 1 << k
        var buffer: SampleBuffer
        switch format {
        case .bytes:
            if let bad = chunk[0..<count].firstIndex(where: { Int($0) >= limit }) {
                throw QRNGError(
                    .invalidInput,
                    "sample 0x\(String(chunk[bad], radix: 16)) does not fit in \(k) bits (--bits-per-sample \(k))",
                    context: .init(file: path, byteOffset: chunkOffset + UInt64(bad)))
            }
            if k == 1 {
                var bits = BitBuffer(minimumCapacity: count)
                for byte in chunk[0..<count] { bits.append(byte == 1) }
                buffer = SampleBuffer(bits: bits)
            } else {
                buffer = SampleBuffer(values: chunk[0..<count].map(UInt16.init), bitsPerSample: k)
            }
        case .u16le:
            var bytes = carryBytes + chunk[0..<count]
            let firstByte = chunkOffset - UInt64(carryBytes.count)
            carryBytes = bytes.count % 2 == 1 ? [bytes.removeLast()] : []
            var values = [UInt16](repeating: 0, count: bytes.count / 2)
            for index in values.indices {
                let value = UInt16(bytes[2 * index]) | UInt16(bytes[2 * index + 1]) << 8
                guard Int(value) < limit else {
                    throw QRNGError(
                        .invalidInput, "sample \(value) does not fit in \(k) bits (--bits-per-sample \(k))",
                        context: .init(file: path, byteOffset: firstByte + UInt64(2 * index)))
                }
                values[index] = value
            }
            buffer = k == 1 ? Self.bits(values) : SampleBuffer(values: values, bitsPerSample: k)
        case .packed:
            if k == 1 {
                buffer = SampleBuffer(bits: BitBuffer(packedBytes: chunk[0..<count]))
            } else {
                // k bits per sample, most significant first; a sample cut by the chunk's end continues in the next.
                var values: [UInt16] = []
                values.reserveCapacity(count * 8 / k + 1)
                var register = carryBits
                var filled = carryBitCount
                for byte in chunk[0..<count] {
                    register = register << 8 | UInt64(byte)
                    filled += 8
                    while filled >= k {
                        filled -= k
                        values.append(UInt16(truncatingIfNeeded: register >> UInt64(filled)) & UInt16(limit - 1))
                    }
                    register &= (1 << UInt64(filled)) - 1
                }
                carryBits = register
                carryBitCount = filled
                buffer = SampleBuffer(values: values, bitsPerSample: k)
            }
        }
        samplesRead += UInt64(buffer.count)
        return buffer
    }

    private static func bits(_ values: [UInt16]) -> SampleBuffer {
        var bits = BitBuffer(minimumCapacity: values.count)
        for value in values { bits.append(value == 1) }
        return SampleBuffer(bits: bits)
    }
}
