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
        /// Where one line per request goes (client, method, route, status, bytes, duration); `nil`: nowhere.
        public var accessLog: (@Sendable (String) -> Void)?
        /// Which clients may draw and how much.
        public var quotas: ClientQuotas
        /// How long a connection may stay without a request in progress, from its opening or its last response to
        /// the next request's complete head: a client that sends its request a byte at a time is cut off after
        /// it, and costs only a timer meanwhile.
        public var idleTimeout: Duration = .seconds(30)
        /// The most bytes of request head fields; beyond them, 431.
        public var maxHeaderBytes = 16 << 10
        /// The most connections one client address may hold open; more are closed at once.
        public var maxConnectionsPerAddress = 64
        /// With settings, the service is also an ETSI GS QKD 014 key management entity under `/api/v1/keys`;
        /// its SAEs are known by their client certificates, so this wants ``TLSFiles/clientCA``.
        public var keyDelivery: KeyDeliverySettings?
        /// Why the source is not flowing now (a remote node unreachable, say), or `nil`; while it says something,
        /// `/v1/health` answers 503 with it and requests for randomness are refused with it.
        public var sourceProblem: (@Sendable () -> String?)?
        /// Where one line per key event goes (created, delivered, expired: counts, sizes and SAE pairs, never key
        /// material); `nil`: nowhere.
        public var keyEventLog: (@Sendable (String) -> Void)?

        public init(
            host: String, port: Int, maxRequestBytes: Int = 1 << 20, tls: TLSFiles? = nil,
            accessLog: (@Sendable (String) -> Void)? = nil, quotas: ClientQuotas = ClientQuotas()
        ) {
            self.host = host
            self.port = port
            self.maxRequestBytes = maxRequestBytes
            self.tls = tls
            self.accessLog = accessLog
            self.quotas = quotas
        }

        /// `https` with TLS, else `http`.
        public var scheme: String { tls == nil ? "http" : "https" }
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
    /// The keys made for SAEs and not yet fetched, when the service is a KME.
    let keyStore: KeyStore?

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
        self.keyStore = configuration.keyDelivery.map {
            KeyStore(capacity: $0.maxStoredKeys, lifetime: $0.keyLifetime)
        }
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
        let router = Router(context: ClientRequestContext.self)
        let keyDelivery = configuration.keyDelivery != nil
        router.add(middleware: RequestGate { path in
            if Self.routes.contains(path) { return [.get] }
            guard keyDelivery, let route = Self.keyDeliveryRoute(path) else { return nil }
            return route.operation == "status" ? [.get] : [.get, .post]
        } refuse: { request, client, refusal in
            let response = self.error(refusal, path: request.uri.path)
            self.finish(Call(request: request, client: client), route: Self.routeLabel(request.uri.path), response, since: .now)
            return response
        })
        let handlers: [(String, @Sendable (RandomnessService) -> (Call) async throws(RouteError) -> Response)] = [
            ("/v1/random", { $0.random }), ("/v1/basis-choices", { $0.basisChoices }),
            ("/v1/hash-seed", { $0.hashSeed }), ("/v1/health", { $0.health }), ("/metrics", { $0.scrape }),
        ]
        for (route, handler) in handlers {
            router.get(RouterPath(route)) { request, context in
                await self.measured(route, Call(request: request, client: await context.client()), handler(self))
            }
        }
        if keyDelivery {
            let keyRoutes: [(String, [HTTPRequest.Method], @Sendable (RandomnessService) -> (Call) async throws(RouteError) -> Response)] = [
                ("status", [.get], { $0.keyStatus }), ("enc_keys", [.get, .post], { $0.encKeys }),
                ("dec_keys", [.get, .post], { $0.decKeys }),
            ]
            for (operation, methods, handler) in keyRoutes {
                let route = Self.routeLabel(Self.keyDeliveryPrefix + "x/" + operation)
                for method in methods {
                    router.on(RouterPath(Self.keyDeliveryPrefix + ":sae/" + operation), method: method) { request, context in
                        await self.measured(route, Call(request: request, client: await context.client()), handler(self))
                    }
                }
            }
        }
        let host = configuration.host
        // With TLS, HTTP/2 and HTTP/1.1 by ALPN; without, HTTP/1.1.
        let maxHeaderBytes = configuration.maxHeaderBytes
        let http1 = HTTP1Channel.Configuration(
            additionalChannelHandlers: [HeaderLimitResponder(maxHeaderBytes: maxHeaderBytes)],
            idleTimeout: .nanoseconds(Int64(configuration.idleTimeout / .nanoseconds(1))),
            httpDecoderConfiguration: .init(
                maxHeaderFieldSize: configuration.maxHeaderBytes, maxHeaderListSize: configuration.maxHeaderBytes,
                maxHeaderFieldCount: 100))
        let limiter = ConnectionLimiter(maximumPerAddress: configuration.maxConnectionsPerAddress)
        let handshakeTimeout = TimeAmount.nanoseconds(Int64(configuration.idleTimeout / .nanoseconds(1)))
        let metrics = self.metrics
        let server: HTTPServerBuilder
        if let tls = configuration.tls {
            let tlsConfiguration = try tls.serverConfiguration()
            let http2 = HTTP2ChannelConfiguration(idleTimeout: configuration.idleTimeout, streamConfiguration: http1)
            server = HTTPServerBuilder { responder in
                ConnectionGatedChannel(
                    base: try HTTP2UpgradeChannel(tlsConfiguration: tlsConfiguration, configuration: http2, responder: responder),
                    limiter: limiter, handshakeTimeout: handshakeTimeout, metrics: metrics)
            }
        } else {
            server = HTTPServerBuilder { responder in
                ConnectionGatedChannel(
                    base: HTTP1Channel(responder: responder, configuration: http1),
                    limiter: limiter, handshakeTimeout: handshakeTimeout, metrics: metrics)
            }
        }
        let application = Application(
            router: router, server: server,
            configuration: .init(address: .hostname(host, port: configuration.port), serverName: "qrng"),
            onServerRunning: { channel in onListening(host, channel.localAddress?.port ?? 0) },
            logger: logger)
        let group = ServiceGroup(configuration: .init(services: [application], logger: logger))
        serviceGroup.withLock { $0 = group }
        if stopRequested.load(ordering: .relaxed) { return }
        // Expired keys are zeroed within a quarter of their lifetime (a second at most) even if nobody asks;
        // a slave asking for one is refused at once regardless. At the end every key left is zeroed.
        let sweeper = configuration.keyDelivery.map { settings in
            Task { [weak self] in
                let interval = min(Duration.seconds(1), settings.keyLifetime / 4)
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    self?.expireKeys()
                }
            }
        }
        defer {
            sweeper?.cancel()
            if let held = keyStore?.removeAll(), held > 0 {
                configuration.keyEventLog?("shutdown: zeroed \(held) undelivered key\(held == 1 ? "" : "s")")
            }
        }
        try await group.run()
    }

    /// The route a request is counted under: a key-delivery path with its SAE ID replaced by the parameter's
    /// name, so that the metrics' label values stay few.
    static func routeLabel(_ path: String) -> String {
        guard let route = keyDeliveryRoute(path) else { return path }
        let role = route.operation == "dec_keys" ? "{master_SAE_ID}" : "{slave_SAE_ID}"
        return keyDeliveryPrefix + role + "/" + route.operation
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

    /// A request and who sent it.
    struct Call: Sendable {
        let request: Request
        let client: ClientIdentity
    }

    /// Runs a route's handler, turning a refusal into its JSON error, then counts and logs the request.
    private func measured(
        _ route: String, _ call: Call, _ handler: (Call) async throws(RouteError) -> Response
    ) async -> Response {
        let start = ContinuousClock.now
        let response: Response
        do {
            try admit(call)
            response = try await handler(call)
        } catch {
            response = self.error(error, path: call.request.uri.path)
        }
        finish(call, route: route, response, since: start)
        return response
    }

    /// Lets a request in if its client is allowed and has a request token left.
    private func admit(_ call: Call) throws(RouteError) {
        try refuse(configuration.quotas.admitRequest(from: call.client), for: call.client, parameter: nil)
    }

    /// Takes `bytes` of the client's byte quota before a handler draws them; `parameter` is the one that asked.
    func charge(bytes: Int, to call: Call, parameter: String) throws(RouteError) {
        try refuse(configuration.quotas.admit(bytes: bytes, for: call.client), for: call.client, parameter: parameter)
    }

    private func refuse(_ admission: ClientQuotas.Admission, for client: ClientIdentity, parameter: String?) throws(RouteError) {
        switch admission {
        case .admitted:
            return
        case .unknownClient:
            throw RouteError(.forbidden, "\(client) is not among the clients this service serves")
        case .overQuota(let quota, let retryAfter):
            metrics.recordQuotaRejection(of: client, quota: quota)
            throw RouteError(
                .tooManyRequests, "\(client) is over its \(quota) quota; retry in \(retryAfter) s", retryAfter: retryAfter)
        case .beyondBurst(let capacity):
            throw RouteError(
                .badRequest, parameter: parameter,
                "\(parameter ?? "the request") asks for more than \(client)'s quota allows at once (\(capacity) bytes)")
        }
    }

    /// Counts a request by route, client and status, and writes its access-log line: who, what, the outcome and
    /// how long it took, never the bytes themselves.
    private func finish(_ call: Call, route: String, _ response: Response, since start: ContinuousClock.Instant) {
        let duration = ContinuousClock.now - start
        metrics.record(route: route, client: call.client, status: response.status, duration: duration)
        guard let accessLog = configuration.accessLog else { return }
        let milliseconds = Double(duration.components.attoseconds) / 1e15 + Double(duration.components.seconds) * 1e3
        let length = response.body.contentLength.map(String.init) ?? "-"
        accessLog(
            "client=\(call.client) \(call.request.method.rawValue) \(call.request.uri.path) status=\(response.status.code) "
                + "length=\(length) ms=\((milliseconds * 1000).rounded() / 1000)")
    }
}

/// Refuses, before any handler runs, what no route of this API takes: a method the route does not answer (405
/// with `Allow`, rather than the router's 404: the resource is there, only not for that method) and a request body
/// larger than the route reads (413): none over ``maxBodyBytes`` for GET, which reads none and for which a large
/// body is only a cost; a POST's handler reads its own, up to its limit.
struct RequestGate: RouterMiddleware {
    /// The methods `path` answers; `nil` for a path the gate leaves to the router.
    let allowedMethods: @Sendable (String) -> [HTTPRequest.Method]?
    let refuse: @Sendable (Request, ClientIdentity, RouteError) -> Response

    static let maxBodyBytes = 1024

    func handle(
        _ request: Request, context: ClientRequestContext,
        next: (Request, ClientRequestContext) async throws -> Response
    ) async throws -> Response {
        guard let methods = allowedMethods(request.uri.path) else { return try await next(request, context) }
        guard methods.contains(request.method) else {
            let allowed = methods.map(\.rawValue).joined(separator: ", ")
            var response = refuse(request, await context.client(), RouteError(
                .methodNotAllowed, "\(request.uri.path) answers \(allowed) only, not \(request.method.rawValue)"))
            response.headers[.allow] = allowed
            return response
        }
        if request.method == .post { return try await next(request, context) }
        let tooLarge = RouteError(.contentTooLarge, "this API takes no request body over \(Self.maxBodyBytes) bytes")
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > Self.maxBodyBytes {
            return closing(refuse(request, await context.client(), tooLarge))
        }
        if request.headers[.transferEncoding] != nil {
            do {
                _ = try await request.body.collect(upTo: Self.maxBodyBytes)
            } catch {
                return closing(refuse(request, await context.client(), tooLarge))
            }
        }
        return try await next(request, context)
    }

    /// The connection closes after the refusal, rather than reading the rest of an unwanted body.
    private func closing(_ response: Response) -> Response {
        var response = response
        response.headers[.connection] = "close"
        return response
    }
}
