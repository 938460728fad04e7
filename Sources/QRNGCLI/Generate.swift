import ArgumentParser
import QRNG

#if canImport(Glibc)
import Glibc
#endif

/// `qrng generate`: runs the pipeline and writes random bytes.
struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write random bytes from the pipeline: source → health tests → extractor → pool → output.",
        discussion: """
            Without --source the simulated quantum-dot beam splitter is used: its output is PSEUDO-RANDOM, \
            labelled SIMULATED in the summary line on standard error.
            """
    )

    // `.unconditional` so that `--bytes -5` reaches the parser and gets a clear "negative" error.
    @Option(parsing: .unconditional,
            help: "How many bytes to write, e.g. 1000000, 64K, 1M (K/M/G = 1024ⁿ, KB/MB/GB = 1000ⁿ).",
            transform: parseByteCount)
    var bytes: Int

    @Option(help: "Output file (default: standard output).")
    var out: String?

    @OptionGroup var pipeline: PipelineOptions

    func run() throws {
        let output = try OutputFile(path: out)
        defer { output.close() }
        let report = try GenerateJob(configuration: try pipeline.configuration(), byteCount: bytes).run { chunk in
            try writeAll(chunk, to: output.descriptor, path: out)
        }
        printToStandardError(report.summary)
        if let failure = report.failure { throw failure }
    }
}

/// One run of `generate`, apart from argument parsing and files, so that tests can drive it.
struct GenerateJob {
    var configuration: PipelineConfiguration
    var byteCount: Int
    var chunkSize = 1 << 16
    var reportFailure: @Sendable (HealthFailure) -> Void = { failure in
        printToStandardError("qrng: health: \(failure)")
    }

    struct Report {
        var statistics: PipelineStatistics
        var bytesWritten: Int
        var failure: QRNGError?

        /// The one-line summary for standard error.
        var summary: String {
            let s = statistics.source
            let origin = statistics.provenance.isSimulated ? "SIMULATED source (pseudo-random, not quantum)" :
                statistics.provenance.description
            var line = "qrng: \(origin): pulses \(s.pulses), clicks \(s.clickedPulses) "
                + "(D0 \(s.singleClicksD0), D1 \(s.singleClicksD1)), double clicks \(s.doubleClicks), "
                + "raw bits \(s.samples), output bits \(bytesWritten * 8) via \(statistics.extractorName), "
                + "health \(statistics.healthState) (\(statistics.failureCount) failures)"
            if statistics.provenance.isSimulated { line += " [SIMULATED]" }
            return line
        }
    }

    /// Builds the pipeline, starts its producer and hands `byteCount` bytes to `write` in chunks.
    func run(write: (UnsafeRawBufferPointer) throws -> Void) throws -> Report {
        let pipeline = try Pipeline(configuration: configuration)
        let pool = EntropyPool(provenance: pipeline.source.provenance)
        // Each health failure or monitor alarm is one line on standard error, as it happens.
        let producer = EntropyProducer(pipeline: pipeline, pool: pool, onFailure: reportFailure)
        var chunk = [UInt8](repeating: 0, count: min(chunkSize, max(byteCount, 1)))
        var written = 0
        var failure: QRNGError?
        defer {
            chunk.withUnsafeMutableBytes { secureZero($0) }
        }
        do {
            while written < byteCount {
                let size = min(chunk.count, byteCount - written)
                try chunk.withUnsafeMutableBytes { buffer in
                    let piece = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<size])
                    try pool.read(into: piece)
                    try write(UnsafeRawBufferPointer(piece))
                }
                written += size
            }
        } catch let error as QRNGError where error.code == .healthTestFailure || error.code == .endOfInput {
            failure = error
        }
        producer.stop()
        return Report(statistics: producer.statistics, bytesWritten: written, failure: failure)
    }
}

/// An output file opened for writing, or standard output.
struct OutputFile {
    let descriptor: Int32
    private let ownsDescriptor: Bool

    init(path: String?) throws {
        guard let path, path != "-" else {
            descriptor = STDOUT_FILENO
            ownsDescriptor = false
            return
        }
        let opened = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard opened >= 0 else {
            throw QRNGError(.systemCall, "cannot open for writing", context: .init(file: path, errno: errno))
        }
        descriptor = opened
        ownsDescriptor = true
    }

    func close() {
        if ownsDescriptor { _ = Glibc.close(descriptor) }
    }
}

func printToStandardError(_ line: String) {
    var text = line + "\n"
    text.withUTF8 { bytes in
        try? writeAll(UnsafeRawBufferPointer(bytes), to: STDERR_FILENO)
    }
}
