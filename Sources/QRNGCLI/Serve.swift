import ArgumentParser
import Dispatch
import QRNG
import QRNGServer
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// `qrng serve --fifo PATH` and/or `--http HOST:PORT`: serves health-tested random bytes through a named pipe,
/// like /dev/hwrng, and over HTTP, both from one pool.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve random bytes through a named pipe (FIFO), like /dev/hwrng, and/or over HTTP, from one pool.",
        discussion: """
            The FIFO is created with mode 0600 unless --mode says otherwise; an existing regular file, \
            directory or link at the path is refused, an existing FIFO reused only if it is yours. Readers may \
            come and go; each gets bytes never served before. SIGINT or SIGTERM finishes the write in progress, \
            removes the FIFO and exits 0. Simulated (pseudo-random) output is served only with \
            --allow-simulated.

            With --http HOST:PORT the same pool is served over HTTP: GET /v1/random?bytes=N (octets; \
            format=hex, base64 or json in ANU's layout), /v1/basis-choices?count=N&pz=P (BB84 bases), \
            /v1/hash-seed?bits=N, /v1/health (503 while the health tests gate output) and /metrics; \
            Sources/QRNGServer/openapi.yaml describes the API. Every byte goes to one request or one FIFO reader only. Plaintext HTTP is served on \
            loopback addresses only, unless --insecure-plaintext is given.

            With --kme-id ID (and mutual TLS) the service is also an ETSI GS QKD 014 key management entity: \
            /api/v1/keys/{SAE_ID}/status, enc_keys and dec_keys; each key goes once to each slave SAE it was made \
            for, and is zeroed after delivery, after --key-lifetime and at shutdown.
            """
    )

    @Option(help: "Path of the named pipe to serve.")
    var fifo: String?

    @Option(help: ArgumentHelp(
        "Serve HTTP on this address, HOST:PORT (port 0: any free port, reported on standard error).",
        valueName: "host:port"), transform: HTTPEndpoint.init(parsing:))
    var http: HTTPEndpoint?

    @Option(help: ArgumentHelp("Serve HTTPS (HTTP/2 and HTTP/1.1 by ALPN) with this certificate chain, a PEM file.",
                               valueName: "file"))
    var tlsCert: String?

    @Option(help: ArgumentHelp("The private key of --tls-cert, a PEM file.", valueName: "file"))
    var tlsKey: String?

    @Option(help: ArgumentHelp(
        "Require a client certificate signed by this CA (PEM) over HTTPS: mutual TLS; the certificate's subject CN "
            + "names the client in logs and metrics.", valueName: "file"))
    var clientCa: String?

    @Option(help: ArgumentHelp(
        "Each HTTP client's sustained share of random bytes per second, 1 to 1G (suffixes as for --bytes); "
            + "beyond it, 429 with Retry-After.", valueName: "bytes"),
            transform: NumericDomain(1...0x1p30).byteCount)
    var quotaBytesPerSecond: Int = Int(ClientQuota.default.bytesPerSecond)

    @Option(help: ArgumentHelp("Each HTTP client's sustained requests per second, on every route, (0, 1e6].",
                               valueName: "rate"),
            transform: NumericDomain(above: 0, through: 1e6).double)
    var quotaRequestsPerSecond: Double = ClientQuota.default.requestsPerSecond

    @Option(help: ArgumentHelp("Seconds' worth of either quota a client may take at once after being idle, (0, 3600].",
                               valueName: "seconds"),
            transform: NumericDomain(above: 0, through: 3600).double)
    var quotaBurstSeconds: Double = ClientQuota.default.burstSeconds

    @Option(help: ArgumentHelp(
        "A JSON file of the only HTTP clients served, identity → quota: {\"certificate:alice\": {\"bytesPerSecond\": "
            + "65536}}; fields left out take the --quota-* values, others get 403.", valueName: "file"))
    var clients: String?

    @Option(help: ArgumentHelp(
        "Seconds an HTTP connection may wait for its next complete request head before it is closed: cuts off "
            + "idle clients and those sending a request a byte at a time, [1, 3600].", valueName: "seconds"),
            transform: NumericDomain(1...3600).double)
    var idleTimeout: Double = 30

    @Option(help: ArgumentHelp(
        "The most HTTP connections one client address may hold open; more are closed at once, [1, 100000].",
        valueName: "count"), transform: NumericDomain(1...100_000).integer)
    var maxConnectionsPerClient: Int = 64

    @Option(help: ArgumentHelp(
        "Also be an ETSI GS QKD 014 key management entity (KME) with this ID, under /api/v1/keys: SAEs are known by "
            + "their client certificates' subject CN, so this needs --client-ca.", valueName: "id"))
    var kmeId: String?

    @Option(help: ArgumentHelp("The KME's default key size in bits (key_size), a multiple of 8.", valueName: "bits"),
            transform: NumericDomain(8...0x1p20).integer)
    var keySize: Int?

    @Option(help: ArgumentHelp("The smallest key size an SAE may ask for, in bits (min_key_size).", valueName: "bits"),
            transform: NumericDomain(8...0x1p20).integer)
    var minKeySize: Int?

    @Option(help: ArgumentHelp("The largest key size an SAE may ask for, in bits (max_key_size).", valueName: "bits"),
            transform: NumericDomain(8...0x1p20).integer)
    var maxKeySize: Int?

    @Option(help: ArgumentHelp("The most keys one KME request may create or fetch (max_key_per_request).",
                               valueName: "count"), transform: NumericDomain(1...100_000).integer)
    var maxKeysPerRequest: Int?

    @Option(help: ArgumentHelp(
        "The most keys the KME holds for slaves at once (max_key_count); beyond, enc_keys gets 503.",
        valueName: "count"), transform: NumericDomain(1...10_000_000).integer)
    var maxStoredKeys: Int?

    @Option(help: ArgumentHelp(
        "The most additional slave SAEs one key may be made for (max_SAE_ID_count; 0: no multicast).",
        valueName: "count"), transform: NumericDomain(0...1000).integer)
    var maxSaeIdCount: Int?

    @Option(help: ArgumentHelp(
        "Seconds a key waits for its slave SAEs before it is zeroed, [1, 604800].", valueName: "seconds"),
            transform: NumericDomain(1...604_800).double)
    var keyLifetime: Double?

    /// The KME's settings from the options, defaults where none is given.
    var keyDeliverySettings: KeyDeliverySettings? {
        guard let kmeId else { return nil }
        var settings = KeyDeliverySettings(kmeID: kmeId)
        // A default gives way to the options given, so that a refusal names an option the user wrote.
        settings.keySize = keySize ?? min(max(settings.keySize, minKeySize ?? 8), maxKeySize ?? 1 << 20)
        settings.minKeySize = minKeySize ?? min(settings.minKeySize, settings.keySize)
        settings.maxKeySize = maxKeySize ?? max(settings.maxKeySize, settings.keySize)
        settings.maxKeysPerRequest = maxKeysPerRequest ?? min(settings.maxKeysPerRequest, maxStoredKeys ?? .max)
        settings.maxStoredKeys = maxStoredKeys ?? max(settings.maxStoredKeys, settings.maxKeysPerRequest)
        settings.maxAdditionalSlaves = maxSaeIdCount ?? settings.maxAdditionalSlaves
        if let keyLifetime { settings.keyLifetime = .milliseconds(Int64(keyLifetime * 1000)) }
        return settings
    }

    @Flag(help: "Write one line per HTTP request on standard error: client identity, method, route, status, length, time.")
    var accessLog = false

    @Flag(help: "Serve plaintext HTTP on an address other than loopback.")
    var insecurePlaintext = false

    @Option(help: "The most bytes one HTTP request may ask for, 1 to 1G (suffixes as for --bytes).",
            transform: NumericDomain(1...0x1p30).byteCount)
    var maxRequestBytes: Int = 1 << 20

    @Option(help: "Permission bits of the FIFO, in octal.", transform: parseMode)
    var mode: mode_t = 0o600

    @Option(help: "Group to give the FIFO.")
    var group: String?

    @Option(help: "Seconds between status lines on standard error, 0 (none) to 86400.",
            transform: NumericDomain(0...86400).double)
    var statsInterval: Double = 10

    @Flag(help: "Serve the simulated source's output, which is pseudo-random, not quantum.")
    var allowSimulated = false

    /// 4 MiB: room for a fast reader to drain 1 MiB pipe-fulls while the producer refills below the half mark.
    static let defaultPoolBytes = 1 << 22

    @Option(help: "Pool size in bytes between the pipeline and the FIFO, 8 to 1G (suffixes as for --bytes).",
            transform: NumericDomain(8...0x1p30).byteCount)
    var poolBytes: Int = Serve.defaultPoolBytes

    @Option(help: ArgumentHelp(
        "Pipe buffer to ask the kernel for, in bytes: the queue readers draw from, and what a stop strands "
            + "when no reader drains it (4K to 1M).", valueName: "bytes"),
            transform: NumericDomain(4096...0x1p20).byteCount)
    var pipeBytes: Int = 1 << 20

    @Option(help: "What the source's data become: beam-splitter bits or arrival-time samples.")
    var sourceMode: SourceOptions.Mode = .beamSplitter

    @OptionGroup var pipeline: PipelineOptions

    @OptionGroup(title: "Recordings") var journal: JournalOptions

    @Flag(help: "End with the summary as one JSON object on standard error, accounting for every sample and bit.")
    var json = false

    func validate() throws {
        guard fifo != nil || http != nil else {
            throw ValidationError("Missing expected argument '--fifo <fifo>' or '--http <host:port>': nothing to serve")
        }
        if (tlsCert == nil) != (tlsKey == nil) {
            throw ValidationError("--tls-cert and --tls-key go together: HTTPS needs the certificate and its key")
        }
        if clients != nil && http == nil {
            throw ValidationError("--clients lists the HTTP service's clients, which needs --http HOST:PORT")
        }
        if clientCa != nil && tlsCert == nil {
            throw ValidationError("--client-ca asks clients for certificates over TLS, which needs --tls-cert and --tls-key")
        }
        let kmeOptions: [(String, Bool)] = [
            ("--key-size", keySize != nil), ("--min-key-size", minKeySize != nil), ("--max-key-size", maxKeySize != nil),
            ("--max-keys-per-request", maxKeysPerRequest != nil), ("--max-stored-keys", maxStoredKeys != nil),
            ("--max-sae-id-count", maxSaeIdCount != nil), ("--key-lifetime", keyLifetime != nil),
        ]
        if kmeId == nil, let (option, _) = kmeOptions.first(where: { $0.1 }) {
            throw ValidationError("\(option) sets up the key management entity, which needs --kme-id ID")
        }
        if kmeId != nil && clientCa == nil {
            throw ValidationError(
                "--kme-id: SAEs are known by their client certificates, which needs --client-ca (and --tls-cert, --tls-key)")
        }
        if let settings = keyDeliverySettings {
            do {
                try settings.validate()
            } catch {
                let options = [
                    "kmeID": "--kme-id", "keySize": "--key-size", "minKeySize": "--min-key-size",
                    "maxKeySize": "--max-key-size", "maxKeysPerRequest": "--max-keys-per-request",
                    "maxStoredKeys": "--max-stored-keys", "maxAdditionalSlaves": "--max-sae-id-count",
                    "keyLifetime": "--key-lifetime",
                ]
                let field = error.context.field ?? ""
                throw ValidationError("\(options[field] ?? field): \(error.message)")
            }
        }
        if tlsCert != nil && http == nil {
            throw ValidationError("--tls-cert serves HTTPS, which needs --http HOST:PORT")
        }
        if let http, tlsCert == nil && !http.isLoopback && !insecurePlaintext {
            throw ValidationError(
                "--http \(http): plaintext HTTP is served on loopback only (127.0.0.0/8, ::1, localhost); give "
                    + "--tls-cert and --tls-key for HTTPS, or --insecure-plaintext to serve it on \(http.host) anyway")
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
        let bitsPerSample = pipelineToRun.source.bitsPerSample
        let minEntropyPerSample = pipelineToRun.minEntropyPerSample
        ServeSignals.install()
        let namedPipe = try fifo.map { path throws(QRNGError) in try NamedPipe(path: path, mode: mode, group: group) }
        defer { namedPipe?.remove() }
        let pool = EntropyPool(provenance: provenance, capacityBits: poolBytes * 8, journal: consumptionJournal)
        // Every failure and alarm is logged as it happens: which test, at which sample, what it saw.
        let producer = EntropyProducer(pipeline: pipelineToRun, pool: pool) { failure in
            printToStandardError("qrng serve: health: \(failure)")
        }
        defer { producer.stop() }
        // A remote feed's reads wait for its node; stopping it first lets the producer's thread end.
        let feed = configuration.source.byteFeed
        defer { feed?.stop() }
        if let fifo {
            printToStandardError("qrng serve: serving \(fifo) (mode \(String(mode, radix: 8))) from \(provenance)")
        }
        // What the extractor's output length rests on, said once at the start where an operator looks for it.
        printToStandardError(
            "qrng serve: min-entropy \(minEntropyPerSample) bits per sample (\(pipelineToRun.minEntropyOrigin))")
        if provenance.isSimulated {
            printToStandardError("qrng serve: WARNING: SIMULATED source; its output is pseudo-random, not quantum")
        }
        if let seed = configuration.source.simulationSeed {
            printToStandardError(
                "qrng serve: WARNING: seeded with \(seed): the same seed gives the same bytes, for tests only")
        } else if provenance.isSimulated && configuration.source.byteFeed == nil {
            printToStandardError("qrng serve: the simulator's seed came from the operating system")
        }
        var serverConfiguration = FIFOServer.Configuration(
            chunkBytes: pipeBytes, statsInterval: statsInterval > 0 ? statsInterval : nil,
            pipeBufferBytes: pipeBytes, simulated: provenance.isSimulated)
        serverConfiguration.reused = consumptionJournal?.reusesConsumedSamples ?? false
        let server = namedPipe.map { pipe in
            FIFOServer(
                pipe: pipe, pool: pool, configuration: serverConfiguration,
                health: { [producer] in producer.statistics })
        }
        let tlsFiles = tlsCert.map {
            RandomnessService.TLSFiles(certificateChain: $0, privateKey: tlsKey ?? "", clientCA: clientCa)
        }
        let defaultQuota = ClientQuota(
            bytesPerSecond: Double(quotaBytesPerSecond), requestsPerSecond: quotaRequestsPerSecond,
            burstSeconds: quotaBurstSeconds)
        let quotas = ClientQuotas(
            defaultQuota: defaultQuota,
            listed: try clients.map { file throws(QRNGError) in try ClientQuotas.load(clientsFile: file, defaults: defaultQuota) })
        var accessLogLine: (@Sendable (String) -> Void)?
        if accessLog {
            accessLogLine = { @Sendable line in printToStandardError("qrng serve: access: " + line) }
        }
        let web = try http.map { endpoint -> HTTPFrontEnd in
            var serviceConfiguration = RandomnessService.Configuration(
                host: endpoint.host, port: endpoint.port, maxRequestBytes: maxRequestBytes,
                tls: tlsFiles, accessLog: accessLogLine, quotas: quotas)
            serviceConfiguration.idleTimeout = .milliseconds(Int64(idleTimeout * 1000))
            serviceConfiguration.maxConnectionsPerAddress = maxConnectionsPerClient
            serviceConfiguration.keyDelivery = keyDeliverySettings
            if let feed { serviceConfiguration.sourceProblem = { feed.problem } }
            serviceConfiguration.keyEventLog = { @Sendable line in printToStandardError("qrng serve: kme: " + line) }
            return try HTTPFrontEnd(
                RandomnessService(
                    pool: pool,
                    configuration: serviceConfiguration,
                    health: { [producer] in producer.statistics }))
        }
        // However the run ends, HTTP stops accepting and finishes its requests in flight first.
        defer { web?.stop() }
        var ending = "stopped by signal"
        /// The account of everything read and served, as text or JSON on standard error.
        func account(ending: String) -> RunAccount {
            let stats = server?.statistics ?? FIFOServer.Statistics()
            let httpBytes = web?.service.statistics.bytesServed ?? 0
            var account = RunAccount(
                statistics: producer.statistics, bitsPerSample: bitsPerSample, minEntropyPerSample: minEntropyPerSample,
                pool: pool.statistics, poolLeftBits: pool.availableBits,
                bytesWritten: Int(stats.bytesServed + httpBytes), ending: ending,
                simulationSeed: configuration.source.simulationSeed, reused: serverConfiguration.reused)
            if let fifo {
                account.fifo = RunAccount.FIFO(
                    path: fifo, served: stats.bytesServed, unreadInPipeAtStop: stats.bytesUnreadAtEnd,
                    droppedByStop: stats.bytesDropped)
            }
            if let web {
                let statistics = web.service.statistics
                account.http = RunAccount.HTTP(
                    address: web.address, requests: statistics.requests, bytesServed: statistics.bytesServed)
            }
            return account
        }
        do {
            if let server {
                try server.run(
                    until: { ServeSignals.stopRequested }, stopDescriptor: ServeSignals.wakeDescriptor,
                    log: printToStandardError)
            } else {
                // HTTP alone stays up after a permanent failure: /v1/health answers 503 with its cause until the
                // operator stops or restarts the service.
                ServeSignals.waitForStop()
            }
        } catch where error.code == .endOfInput {
            let unread = server?.statistics.bytesUnreadAtEnd ?? 0
            ending = unread == 0
                ? "the recording ended and readers took everything in the pipe"
                : "the recording ended; stopped by signal with \(unread) bytes still unread in the pipe (handed out, "
                    + "never to be served again)"
            if let endOfInput = producer.statistics.endOfInput { ending += " (end of input: \(endOfInput))" }
        } catch {
            printToStandardError("qrng serve: stopped: \(error)")
            web?.stop()
            producer.stop()
            let final = account(ending: "\(error)")
            printToStandardError(json ? try final.json() : final.text)
            throw ExitCode(error.code == .healthTestFailure ? 3 : 1)
        }
        // Stopped cleanly: the journal gives back its reserved stretch (what is in the pipe was handed out).
        web?.stop()
        producer.stop()
        try consumptionJournal?.settle()
        let served = (server?.statistics.bytesServed ?? 0) + (web?.service.statistics.bytesServed ?? 0)
        var summary = "qrng serve: \(ending) after serving \(served) bytes"
        if let journal = consumptionJournal {
            summary += "; consumed \(journal.recordingPath) up to sample \(journal.consumedSamples) (journal \(journal.path))"
        }
        if let seed = configuration.source.simulationSeed { summary += "; seeded with \(seed): the same seed gives the same bytes" }
        if serverConfiguration.reused { summary += " [RE-USED]" }
        let final = account(ending: ending)
        printToStandardError(json ? try final.json() : summary + "\n" + final.text)
    }
}

private func parseMode(_ text: String) throws -> mode_t {
    do {
        return try parsePermissionMode(text)
    } catch {
        throw ValidationError("--mode: \(error.message)")
    }
}

/// SIGINT and SIGTERM ask the server to stop; SIGPIPE is ignored, so a departing reader is an EPIPE error.
///
/// The handler also writes a byte into a self-pipe, whose read end (``wakeDescriptor``) the server polls beside
/// the FIFO: an idle server sleeps until a reader makes room or a signal comes, with no timed wake-ups.
enum ServeSignals {
    private static let stop = Atomic<Bool>(false)
    private static let wakeWriter = Atomic<Int32>(-1)
    private static let wakeReader = Atomic<Int32>(-1)

    static var stopRequested: Bool { stop.load(ordering: .relaxed) }

    /// Sleeps until SIGINT or SIGTERM, in `poll` on the self-pipe: no timed wake-ups.
    static func waitForStop() {
        while !stopRequested {
            guard let descriptor = wakeDescriptor else {
                usleep(100_000)
                continue
            }
            var descriptors = [pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)]
            _ = poll(&descriptors, 1, -1)
        }
    }

    /// The read end of the self-pipe, readable once a stop has been asked for; `nil` before ``install()``.
    static var wakeDescriptor: Int32? {
        let descriptor = wakeReader.load(ordering: .relaxed)
        return descriptor >= 0 ? descriptor : nil
    }

    static func install() {
        signal(SIGPIPE, SIG_IGN)
        var ends: [Int32] = [-1, -1]
        if pipe(&ends) == 0 {
            for end in ends {
                _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
                _ = fcntl(end, F_SETFD, FD_CLOEXEC)
            }
            wakeReader.store(ends[0], ordering: .relaxed)
            wakeWriter.store(ends[1], ordering: .relaxed)
        }
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in
            ServeSignals.stop.store(true, ordering: .relaxed)
            // write(2) is async-signal-safe; a full self-pipe already wakes the server.
            var byte: UInt8 = 1
            let descriptor = ServeSignals.wakeWriter.load(ordering: .relaxed)
            if descriptor >= 0 { _ = write(descriptor, &byte, 1) }
        }
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

/// An HTTP address to listen on, HOST:PORT (an IPv6 host in brackets: `[::1]:8443`).
struct HTTPEndpoint: Sendable, CustomStringConvertible {
    let host: String
    let port: Int

    init(parsing text: String) throws {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else {
            throw ValidationError("--http takes HOST:PORT with a port in 0...65535, got '\(text)'")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw ValidationError("--http takes HOST:PORT, got '\(text)' (no host)") }
        self.host = host
        self.port = port
    }

    /// Whether the host is a loopback address or `localhost`.
    var isLoopback: Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.") && host.split(separator: ".").count == 4
    }

    var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// The HTTP service run beside the FIFO: started on a task of its own, stopped gracefully from the command's
/// thread.
final class HTTPFrontEnd: Sendable {
    let service: RandomnessService
    private let finished = DispatchSemaphore(value: 0)
    private let failure = Mutex<(any Error)?>(nil)
    private let boundAddress = Mutex<String?>(nil)

    /// The address the service listens on, with the port the system chose for port 0.
    var address: String { boundAddress.withLock { $0 } ?? "\(service.configuration.host):\(service.configuration.port)" }

    /// Starts `service` and waits until it listens (or fails to), so that the address in use is reported and a
    /// bind error stops the command before anything else.
    init(_ service: RandomnessService) throws {
        self.service = service
        let listening = DispatchSemaphore(value: 0)
        Task.detached { [self] in
            do {
                try await service.run { host, port in
                    let shown = host.contains(":") ? "[\(host)]" : host
                    self.boundAddress.withLock { $0 = "\(shown):\(port)" }
                    let scheme = service.configuration.scheme
                    printToStandardError(
                        "qrng serve: listening on \(scheme)://\(shown):\(port), serving \(service.pool.provenance)")
                    listening.signal()
                }
            } catch {
                self.failure.withLock { $0 = error }
            }
            listening.signal()
            self.finished.signal()
        }
        listening.wait()
        if let error = failure.withLock({ $0 }) {
            if let error = error as? QRNGError { throw error }
            throw QRNGError(.systemCall, "cannot serve HTTP on \(service.configuration.host):\(service.configuration.port): \(error)")
        }
    }

    private let stopping = Atomic<Bool>(false)

    /// Stops accepting, lets the requests in flight finish (10 s at most), and returns; later calls return at once.
    func stop() {
        guard !stopping.exchange(true, ordering: .relaxed) else { return }
        Task.detached { [service] in await service.shutdown() }
        _ = finished.wait(timeout: .now() + .seconds(10))
    }
}

extension PipelineConfiguration.Source {
    /// The byte feed of an external source (remote nodes), if this is one.
    var byteFeed: (any ByteFeed)? {
        guard case .external(let external) = self, let source = external.source as? ByteFeedSource else { return nil }
        return source.feed
    }
}
