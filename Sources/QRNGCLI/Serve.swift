import ArgumentParser
import QRNG
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// `qrng serve --fifo PATH`: serves health-tested random bytes through a named pipe, like /dev/hwrng.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve random bytes through a named pipe (FIFO) that any process can read, like /dev/hwrng.",
        discussion: """
            The FIFO is created with mode 0600 unless --mode says otherwise; an existing regular file, \
            directory or link at the path is refused, an existing FIFO reused only if it is yours. Readers may \
            come and go; each gets bytes never served before. SIGINT or SIGTERM finishes the write in progress, \
            removes the FIFO and exits 0. Simulated (pseudo-random) output is served only with \
            --allow-simulated.
            """
    )

    @Option(help: "Path of the named pipe to serve.")
    var fifo: String

    @Option(help: "Permission bits of the FIFO, in octal.", transform: parseMode)
    var mode: mode_t = 0o600

    @Option(help: "Group to give the FIFO.")
    var group: String?

    @Option(help: "Seconds between status lines on standard error (0: none).")
    var statsInterval: Double = 10

    @Flag(help: "Serve the simulated source's output, which is pseudo-random, not quantum.")
    var allowSimulated = false

    /// 4 MiB: room for a fast reader to drain 1 MiB pipe-fulls while the producer refills below the half mark.
    static let defaultPoolBytes = 1 << 22

    @Option(help: "Pool size in bytes between the pipeline and the FIFO (suffixes as for --bytes).",
            transform: parseByteCount)
    var poolBytes: Int = Serve.defaultPoolBytes

    @Option(help: ArgumentHelp(
        "Pipe buffer to ask the kernel for, in bytes: the queue readers draw from, and what a stop strands "
            + "when no reader drains it (4K to 1M).", valueName: "bytes"),
            transform: parseByteCount)
    var pipeBytes: Int = 1 << 20

    @Option(help: "What the source's data become: beam-splitter bits or arrival-time samples.")
    var sourceMode: SourceOptions.Mode = .beamSplitter

    @OptionGroup var pipeline: PipelineOptions

    @OptionGroup(title: "Recordings") var journal: JournalOptions

    func validate() throws {
        if statsInterval < 0 { throw ValidationError("--stats-interval must not be negative") }
        if poolBytes < 8 { throw ValidationError("--pool-bytes must be at least 8") }
        if pipeBytes < 4096 || pipeBytes > 1 << 20 {
            throw ValidationError("--pipe-bytes must be 4K to 1M, got \(pipeBytes)")
        }
    }

    func run() throws {
        if pipeline.seed != nil && !allowSimulated {
            throw QRNGError.invalidArgument(
                "--seed",
                "refusing to serve seeded output: the same seed gives the same bytes to anyone who knows it; "
                    + "pass --allow-simulated to serve it anyway, for tests")
        }
        var configuration = try pipeline.configuration(mode: sourceMode)
        if configuration.source.isSimulated && !allowSimulated {
            throw QRNGError.invalidArgument(
                "--allow-simulated",
                "refusing to serve simulated output: it is pseudo-random, not quantum; "
                    + "pass --allow-simulated to serve it anyway")
        }
        let consumptionJournal = try journal.openJournal(for: &configuration)
        let pipelineToRun = try Pipeline(configuration: configuration)
        let provenance = pipelineToRun.source.provenance
        ServeSignals.install()
        let namedPipe = try NamedPipe(path: fifo, mode: mode, group: group)
        defer { namedPipe.remove() }
        let pool = EntropyPool(provenance: provenance, capacityBits: poolBytes * 8, journal: consumptionJournal)
        // Every failure and alarm is logged as it happens: which test, at which sample, what it saw.
        let producer = EntropyProducer(pipeline: pipelineToRun, pool: pool) { failure in
            printToStandardError("qrng serve: health: \(failure)")
        }
        defer { producer.stop() }
        printToStandardError("qrng serve: serving \(fifo) (mode \(String(mode, radix: 8))) from \(provenance)")
        if provenance.isSimulated {
            printToStandardError("qrng serve: WARNING: SIMULATED source; its output is pseudo-random, not quantum")
        }
        if let seed = configuration.source.simulationSeed {
            printToStandardError(
                "qrng serve: WARNING: seeded with \(seed): the same seed gives the same bytes, for tests only")
        }
        let server = FIFOServer(
            pipe: namedPipe, pool: pool,
            configuration: FIFOServer.Configuration(
                chunkBytes: pipeBytes, statsInterval: statsInterval > 0 ? statsInterval : nil,
                pipeBufferBytes: pipeBytes, simulated: provenance.isSimulated),
            health: { [producer] in producer.statistics })
        var ending = "stopped by signal"
        do {
            try server.run(until: { ServeSignals.stopRequested }, log: printToStandardError)
        } catch where error.code == .endOfInput {
            ending = "the recording ended and readers took everything in the pipe"
            if let endOfInput = producer.statistics.endOfInput { ending += " (end of input: \(endOfInput))" }
        } catch {
            printToStandardError("qrng serve: stopped: \(error)")
            throw ExitCode(error.code == .healthTestFailure ? 3 : 1)
        }
        let stats = server.statistics
        var summary = "qrng serve: \(ending) after serving \(stats.bytesServed) bytes"
        if let journal = consumptionJournal {
            summary += "; consumed \(journal.recordingPath) up to sample \(journal.consumedSamples) (journal \(journal.path))"
        }
        if let seed = configuration.source.simulationSeed { summary += "; seeded with \(seed): the same seed gives the same bytes" }
        printToStandardError(summary)
    }
}

private func parseMode(_ text: String) throws -> mode_t {
    do {
        return try parsePermissionMode(text)
    } catch {
        throw ValidationError(error.message)
    }
}

/// SIGINT and SIGTERM ask the server to stop; SIGPIPE is ignored, so a departing reader is an EPIPE error.
enum ServeSignals {
    private static let stop = Atomic<Bool>(false)

    static var stopRequested: Bool { stop.load(ordering: .relaxed) }

    static func install() {
        signal(SIGPIPE, SIG_IGN)
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in ServeSignals.stop.store(true, ordering: .relaxed) }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0  // no SA_RESTART: a blocked call returns EINTR and the loop looks at the flag
        sigaction(SIGINT, &action, nil)
        sigaction(SIGTERM, &action, nil)
        // A parent may have started us with these blocked (the mask is inherited across exec).
        var unblock = sigset_t()
        sigemptyset(&unblock)
        sigaddset(&unblock, SIGINT)
        sigaddset(&unblock, SIGTERM)
        sigprocmask(SIG_UNBLOCK, &unblock, nil)
    }
}
