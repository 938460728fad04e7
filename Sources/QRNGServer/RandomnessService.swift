import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdHTTP2
import Logging
import NIOCore
import NIOSSL
import QRNG
import ServiceLifecycle
import Synchronization

/// Randomness over HTTP, from one ``EntropyPool``: the `/v1` API on Hummingbird.
///
/// - `GET /v1/random?bytes=N`: N fresh bytes as `application/octet-stream`; `format=hex` or `format=base64` as
///   text; `format=json` in the layout of ANU's QRNG API (`type` = `uint8`, `uint16` or `hex16` with `size`
///   bytes per block, `length`, `size`, `data`, `success`), plus `source`.
/// - `GET /v1/basis-choices?count=N&pz=P`: N BB84 bases, rectilinear (Z) with probability P (default ½), as
///   JSON (`bases`, a string of `Z` and `X`) or, with `format=octets`, packed one bit each (1 = X).
/// - `GET /v1/hash-seed?bits=N`: a seed of N fresh bits for a 2-universal hash, as JSON (`seed` in hex), hex
///   text or packed octets.
/// - `GET /v1/health`: 200 while output flows, 503 while the health tests gate it, with the state and the last
///   failure as JSON.
/// - `GET /metrics`: Prometheus text (see `ServiceMetrics`).
///
/// Every byte is taken from the pool once, so no two requests, and no request and a FIFO reader, ever get the
/// same bits. A request that cannot be served (a bad parameter, gated output, a closed pool) gets a JSON error
/// naming its cause; random bytes never appear in logs. Every response of a simulated source carries
/// `QRNG-Source: simulated`, so that no client mistakes it for quantum randomness.
public final class RandomnessService: Sendable {
    /// Where and how the service listens and what it hands out.
    public struct Configuration: Sendable {
        /// The host name or address to bind.
        public var host: String
        /// The port; 0 asks the system for a free one (``RandomnessService/run(onListening:)`` reports it).
        public var port: Int
        /// The most bytes one request may ask for.
        public var maxRequestBytes: Int
        /// The server's certificate chain and private key, PEM files; `nil` serves plaintext HTTP/1.1.
        public var tls: TLSFiles?

        public init(host: String, port: Int, maxRequestBytes: Int = 1 << 20, tls: TLSFiles? = nil) {
            self.host = host
            self.port = port
            self.maxRequestBytes = maxRequestBytes
            self.tls = tls
        }

        /// `https` with TLS, else `http`.
        public var scheme: String { tls == nil ? "http" : "https" }
    }

    /// A certificate chain and its private key, in PEM files.
    public struct TLSFiles: Sendable, Hashable {
        public var certificateChain: String
        public var privateKey: String

        public init(certificateChain: String, privateKey: String) {
            self.certificateChain = certificateChain
            self.privateKey = privateKey
        }

        /// The server's TLS settings: TLS 1.2 or later (swift-nio-ssl's defaults), HTTP/2 and HTTP/1.1 offered
        /// by ALPN.
        func serverConfiguration() throws(QRNGError) -> TLSConfiguration {
            let chain: [NIOSSLCertificate]
            do {
                chain = try NIOSSLCertificate.fromPEMFile(certificateChain)
            } catch {
                throw QRNGError(.invalidInput, "cannot read the certificate chain: \(error)",
                                context: .init(file: certificateChain, field: "--tls-cert"))
            }
            guard !chain.isEmpty else {
                throw QRNGError(.invalidInput, "no PEM certificate in the file",
                                context: .init(file: certificateChain, field: "--tls-cert"))
            }
            let key: NIOSSLPrivateKey
            do {
                key = try NIOSSLPrivateKey(file: privateKey, format: .pem)
            } catch {
                throw QRNGError(.invalidInput, "cannot read the private key: \(error)",
                                context: .init(file: privateKey, field: "--tls-key"))
            }
            var configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
            configuration.minimumTLSVersion = .tlsv12
            return configuration
        }
    }

    /// The pool served.
    public let pool: EntropyPool
    /// The service's settings.
    public let configuration: Configuration
    let healthState: @Sendable () -> PipelineStatistics?
    private let serviceGroup = Mutex<ServiceGroup?>(nil)
    let counters = Mutex(Statistics())

    /// What the service has handed out.
    public struct Statistics: Sendable, Hashable {
        /// Requests answered with random bytes.
        public var requests: UInt64 = 0
        /// Random bytes sent, in every format.
        public var bytesServed: UInt64 = 0
    }

    /// What the service has handed out so far.
    public var statistics: Statistics { counters.withLock { $0 } }
    private let stopRequested = Atomic<Bool>(false)
    private let logger: Logger
    let metrics = ServiceMetrics()

    /// Creates a service for `pool`.
    ///
    /// - Parameters:
    ///   - pool: The pool whose bytes are served; other consumers may share it.
    ///   - configuration: Address, port and request limit.
    ///   - health: The pipeline's current counters (``EntropyProducer/statistics``), consulted for every request.
    public init(
        pool: EntropyPool, configuration: Configuration, health: @escaping @Sendable () -> PipelineStatistics?
    ) {
        self.pool = pool
        self.configuration = configuration
        self.healthState = health
        var logger = Logger(label: "qrng.http")
        logger.logLevel = .warning
        self.logger = logger
    }

    /// The value of the `QRNG-Source` header: `simulated` for a simulated source.
    var sourceLabel: String {
        switch pool.provenance.kind {
        case .simulated: "simulated"
        case .file: "recording"
        case .device: "device"
        }
    }

    /// Serves until ``shutdown()``; `onListening` gets the bound host and port once the server accepts.
    public func run(onListening: @escaping @Sendable (_ host: String, _ port: Int) -> Void) async throws {
        let router = Router()
        router.add(middleware: GetOnly(paths: Self.routes) { request in
            let refusal = RouteError(
                .methodNotAllowed, "\(request.uri.path) answers GET only, not \(request.method.rawValue)")
            var response = self.error(refusal)
            response.headers[.allow] = "GET"
            self.metrics.record(route: request.uri.path, status: response.status, duration: .zero)
            return response
        })
        router.get("/v1/random") { request, _ in
            await self.measured("/v1/random") { () throws(RouteError) in try await self.random(request) }
        }
        router.get("/v1/basis-choices") { request, _ in
            await self.measured("/v1/basis-choices") { () throws(RouteError) in try await self.basisChoices(request) }
        }
        router.get("/v1/hash-seed") { request, _ in
            await self.measured("/v1/hash-seed") { () throws(RouteError) in try await self.hashSeed(request) }
        }
        router.get("/v1/health") { _, _ in await self.measured("/v1/health") { self.health() } }
        router.get("/metrics") { _, _ in
            await self.measured("/metrics") { self.metrics.scrape(pool: self.pool, statistics: self.healthState()) }
        }
        let host = configuration.host
        // With TLS, HTTP/2 and HTTP/1.1 by ALPN; without, HTTP/1.1.
        let server: HTTPServerBuilder =
            if let tls = configuration.tls {
                try .http2Upgrade(tlsConfiguration: try tls.serverConfiguration())
            } else {
                .http1()
            }
        let application = Application(
            router: router, server: server,
            configuration: .init(address: .hostname(host, port: configuration.port), serverName: "qrng"),
            onServerRunning: { channel in onListening(host, channel.localAddress?.port ?? 0) },
            logger: logger)
        let group = ServiceGroup(configuration: .init(services: [application], logger: logger))
        serviceGroup.withLock { $0 = group }
        if stopRequested.load(ordering: .relaxed) { return }
        try await group.run()
    }

    /// Stops accepting connections and lets the requests in flight finish.
    public func shutdown() async {
        stopRequested.store(true, ordering: .relaxed)
        let group = serviceGroup.withLock { $0 }
        await group?.triggerGracefulShutdown()
    }

    // MARK: Routes

    /// Every route the service answers, all with GET.
    static let routes: Set<String> = ["/v1/random", "/v1/basis-choices", "/v1/hash-seed", "/v1/health", "/metrics"]

    /// Runs a route's handler and counts the request, its status and its duration; a refused request becomes
    /// its JSON error.
    private func measured(
        _ route: String, _ handler: () async throws(RouteError) -> Response
    ) async -> Response {
        let start = ContinuousClock.now
        let response: Response
        do {
            response = try await handler()
        } catch {
            response = self.error(error)
        }
        metrics.record(route: route, status: response.status, duration: ContinuousClock.now - start)
        return response
    }
}

/// Answers any method but GET on the service's routes with 405 and `Allow: GET`, rather than the router's 404:
/// the resource is there, only not for that method.
struct GetOnly<Context: RequestContext>: RouterMiddleware {
    let paths: Set<String>
    let refuse: @Sendable (Request) -> Response

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        if request.method != .get && paths.contains(request.uri.path) { return refuse(request) }
        return try await next(request, context)
    }
}
