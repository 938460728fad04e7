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
            labelled SIMULATED in the summary line on standard error. Without --bytes the output goes on until \
            the reader closes it (exit status 0, as `cat /dev/hwrng`) or a recording ends: \
            `qrng generate | dieharder -g 200 -a`. A recording read from a file is journaled (--state-dir): a \
            second run resumes after what the first handed out, so no bit is handed out twice.
            """
    )

    // `.unconditional` so that `--bytes -5` reaches the parser and gets a clear "negative" error.
    @Option(parsing: .unconditional,
            help: ArgumentHelp(
                "How many bytes to write, e.g. 1000000, 64K, 1M (K/M/G = 1024ⁿ, KB/MB/GB = 1000ⁿ); without it, "
                    + "until the reader closes the output or a recording ends."),
            transform: NumericDomain(0...0x1p62).byteCount)
    var bytes: Int?

    @Option(help: "Output file (default: standard output).")
    var out: String?

    @Option(help: "What the source's data become: beam-splitter bits or arrival-time samples.")
    var mode: SourceOptions.Mode = .beamSplitter

    @OptionGroup var pipeline: PipelineOptions

    @OptionGroup(title: "Recordings") var journal: JournalOptions

    @Flag(help: ArgumentHelp(
        "Write the summary on standard error as one JSON object that accounts for every sample and bit, "
            + "instead of text; health failures are in it rather than on lines of their own."))
    var json = false

    func run() throws {
        // A reader that goes away is a write error (EPIPE) that ends the run cleanly, not a signal that kills it.
        signal(SIGPIPE, SIG_IGN)
        var configuration = try pipeline.configuration(mode: mode)
        let consumptionJournal = try journal.openJournal(for: &configuration)
        let output = try OutputFile(path: out)
        defer { output.close() }
        var job = GenerateJob(configuration: configuration, byteCount: bytes)
        job.journal = consumptionJournal
        if json { job.reportFailure = { _ in } }
        let report = try job.run { chunk in
            try writeAll(chunk, to: output.descriptor, path: out)
        }
        printToStandardError(json ? try report.account.json() : report.summary + "\n" + report.account.text)
        guard var failure = report.failure else { return }
        if failure.code == .systemCall && failure.context.errno == EPIPE { return }
        if failure.code == .endOfInput {
            if let journal = consumptionJournal, journal.resumePosition > 0, report.bytesWritten == 0 {
                failure.message = "nothing left: earlier runs consumed \(journal.recordingPath) up to sample "
                    + "\(journal.resumePosition) (journal \(journal.path)); --from-start re-uses it"
                throw failure
            }
            guard let bytes else { return }
            failure.message = "the entropy source ended after \(report.bytesWritten) of the \(bytes) bytes asked for"
        }
        throw failure
    }
}

/// One run of `generate`, apart from argument parsing and files, so that tests can drive it.
struct GenerateJob {
    var configuration: PipelineConfiguration
    /// Bytes to write; `nil` writes until the source ends or a write fails.
    var byteCount: Int?
    var chunkSize = 1 << 16
    /// The consumption journal of a recorded source, made durable before each chunk is handed to `write`.
    var journal: ConsumptionJournal?
    var reportFailure: @Sendable (HealthFailure) -> Void = { failure in
        printToStandardError("qrng: health: \(failure)")
    }

    struct Report {
        var statistics: PipelineStatistics
        var bytesWritten: Int
        var failure: QRNGError?
        /// The seed of a seeded simulation, whose output the same seed reproduces.
        var simulationSeed: UInt64?
        /// Whether the run re-read samples of a recording whose bits were handed out before.
        var reused = false
        var bitsPerSample = 1
        var minEntropyPerSample = 0.0
        var pool = PoolStatistics()
        /// Bits still in the pool when the run stopped (zeroed as the pool goes).
        var poolLeftBits = 0

        /// Where every sample and bit went.
        var account: RunAccount {
            var ending = "the byte count asked for was written"
            if let failure {
                switch failure.code {
                case .endOfInput: ending = "the source ended"
                case .systemCall where failure.context.errno == EPIPE: ending = "the reader closed the output"
                default: ending = "\(failure)"
                }
            }
            return RunAccount(
                statistics: statistics, bitsPerSample: bitsPerSample, minEntropyPerSample: minEntropyPerSample,
                pool: pool, poolLeftBits: poolLeftBits, bytesWritten: bytesWritten, ending: ending,
                simulationSeed: simulationSeed, reused: reused)
        }

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
            if statistics.monitorWarnings > 0 {
                line += ", \(statistics.monitorWarnings) monitor alarms reported without gating (--monitors warn)"
            }
            if s.skipped.count > 0 {
                line += ", skipped \(s.skipped.count) bad records (first: \(s.skipped.first.map { "\($0)" } ?? "?"))"
            }
            if let seeding = statistics.seeding { line += "; \(seeding)" }
            if let endOfInput = statistics.endOfInput { line += "; end of input: \(endOfInput)" }
            if failure?.code == .systemCall && failure?.context.errno == EPIPE { line += "; the reader closed the output" }
            if let simulationSeed {
                line += "; seeded with \(simulationSeed): the same seed gives the same bytes, so they are for tests only"
            } else if statistics.provenance.isSimulated {
                line += "; unseeded: the simulator's seed came from the operating system, so no other run repeats it"
            }
            if reused { line += " [RE-USED]" }
            if statistics.provenance.isSimulated { line += " [SIMULATED]" }
            return line
        }
    }

    /// Builds the pipeline, starts its producer and hands `byteCount` bytes to `write` in chunks.
    func run(write: (UnsafeRawBufferPointer) throws -> Void) throws -> Report {
        let pipeline = try Pipeline(configuration: configuration)
        let pool = EntropyPool(provenance: pipeline.source.provenance, journal: journal)
        // Each health failure or monitor alarm is one line on standard error, as it happens.
        let producer = EntropyProducer(pipeline: pipeline, pool: pool, onFailure: reportFailure)
        var chunk = [UInt8](repeating: 0, count: min(chunkSize, max(byteCount ?? chunkSize, 1)))
        var written = 0
        var failure: QRNGError?
        defer {
            chunk.withUnsafeMutableBytes { secureZero($0) }
        }
        do {
            while written < byteCount ?? Int.max {
                // Whatever the pool holds is written at once, so that bytes already produced are never lost when
                // the source ends or fails.
                let size = min(chunk.count, (byteCount ?? Int.max) - written)
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
        // A clean end gives back the stretch the journal reserved ahead: the next run starts right after what
        // was handed out.
        do {
            try journal?.settle()
        } catch {
            failure = failure ?? error
        }
        var report = Report(
            statistics: producer.statistics, bytesWritten: written, failure: failure,
            simulationSeed: configuration.source.simulationSeed, reused: journal?.reusesConsumedSamples ?? false)
        report.bitsPerSample = pipeline.source.bitsPerSample
        report.minEntropyPerSample = pipeline.minEntropyPerSample
        report.pool = pool.statistics
        report.poolLeftBits = pool.availableBits
        return report
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
