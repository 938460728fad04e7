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

    @Option(help: "What the source's data become: beam-splitter bits or arrival-time samples.")
    var mode: SourceOptions.Mode = .beamSplitter

    @OptionGroup var pipeline: PipelineOptions

    func run() throws {
        let output = try OutputFile(path: out)
        defer { output.close() }
        let report = try GenerateJob(configuration: try pipeline.configuration(mode: mode), byteCount: bytes).run { chunk in
            try writeAll(chunk, to: output.descriptor, path: out)
        }
        printToStandardError(report.summary)
        if var failure = report.failure {
            if failure.code == .endOfInput {
                failure.message = "the entropy source ended after \(report.bytesWritten) of the \(bytes) bytes asked for"
            }
            throw failure
        }
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
            var line = "qrng: \(origin): "
            if s.pulses > 0 { line += "pulses \(s.pulses), " }
            if s.clickedPulses > 0 {
                line += "clicks \(s.clickedPulses) (D0 \(s.singleClicksD0), D1 \(s.singleClicksD1)), "
                    + "double clicks \(s.doubleClicks), "
            }
            line += "raw samples \(s.samples), output bits \(bytesWritten * 8) via \(statistics.extractorName), "
                + "\(statistics.minEntropyOrigin), health \(statistics.healthState) (\(statistics.failureCount) failures)"
            if s.skipped.count > 0 {
                line += ", skipped \(s.skipped.count) bad records (first: \(s.skipped.first.map { "\($0)" } ?? "?"))"
            }
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
                // Whatever the pool holds is written at once, so that bytes already produced are never lost when
                // the source ends or fails.
                let size = min(chunk.count, byteCount - written)
                let outcome = chunk.withUnsafeMutableBytes { buffer in
                    Result { () throws(QRNGError) in
                        try pool.readSome(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<size]))
                    }
                }
                let count = try outcome.get()
                try chunk.withUnsafeBytes { try write(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
                written += count
            }
        } catch let error as QRNGError {
            // The pool closed: a health failure, the end of the source, bad input, or a failed write. The bytes
            // written so far stay written; the summary and the error say what happened.
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
