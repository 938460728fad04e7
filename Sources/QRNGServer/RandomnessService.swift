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
    private let healthState: @Sendable () -> PipelineStatistics?
    private let serviceGroup = Mutex<ServiceGroup?>(nil)
    private let counters = Mutex(Statistics())

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
    private let metrics = ServiceMetrics()

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
        router.get("/v1/random") { request, _ in await self.measured("/v1/random") { await self.random(request) } }
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

    /// Runs a route's handler and counts the request, its status and its duration.
    private func measured(_ route: String, _ handler: () async -> Response) async -> Response {
        let start = ContinuousClock.now
        let response = await handler()
        metrics.record(route: route, status: response.status, duration: ContinuousClock.now - start)
        return response
    }

    private func random(_ request: Request) async -> Response {
        let query = request.uri.queryParameters
        guard let requested = query["bytes"] else {
            return error(.badRequest, parameter: "bytes", "bytes=N is required: how many random bytes to send")
        }
        guard let count = Int(requested), count >= 1, count <= configuration.maxRequestBytes else {
            return error(
                .badRequest, parameter: "bytes",
                "bytes must be a whole number in 1...\(configuration.maxRequestBytes), got '\(requested)'")
        }
        let format = query["format"].map(String.init) ?? "octets"
        guard ["octets", "hex", "base64", "json"].contains(format) else {
            return error(.badRequest, parameter: "format", "format is hex, base64 or json, got '\(format)'")
        }
        var layout = JSONLayout.uint8
        if format == "json" {
            switch JSONLayout.parse(type: query["type"], size: query["size"], bytes: count) {
            case .success(let parsed): layout = parsed
            case .failure(let failure): return error(.badRequest, parameter: failure.parameter, failure.message)
            }
        }
        if let gated = gatedResponse() { return gated }
        var bits: BitBuffer
        do {
            bits = try await pool.take(bits: 8 * count)
        } catch {
            return self.error(.serviceUnavailable, parameter: nil, "no randomness: \(error.message)")
        }
        var bytes = bits.packedBytes()
        bits.removeAll()
        counters.withLock {
            $0.requests += 1
            $0.bytesServed += UInt64(count)
        }
        metrics.recordServed(bytes: count)
        defer { bytes.withUnsafeMutableBytes { secureZero($0) } }
        switch format {
        case "hex":
            return text(hex(bytes), contentType: "text/plain; charset=utf-8")
        case "base64":
            return text(Data(bytes).base64EncodedString(), contentType: "text/plain; charset=utf-8")
        case "json":
            return json(layout.document(bytes, source: sourceLabel))
        default:
            var response = Response(status: .ok, headers: headers(contentType: "application/octet-stream"))
            response.body = ResponseBody(byteBuffer: ByteBuffer(bytes: bytes))
            return response
        }
    }

    private func health() -> Response {
        let statistics = healthState()
        var document: [String: Any] = ["source": sourceLabel, "provenance": pool.provenance.description]
        let state = statistics?.healthState ?? .healthy
        document["state"] = "\(state)"
        document["healthy"] = state == .healthy
        document["failures"] = statistics?.failureCount ?? 0
        document["poolBits"] = pool.availableBits
        if let failure = statistics?.lastFailure {
            document["lastFailure"] = [
                "test": failure.test.rawValue, "sampleOffset": failure.sampleOffset, "value": failure.value,
                "threshold": failure.threshold, "permanent": failure.permanent, "description": "\(failure)",
            ] as [String: Any]
        }
        if let reason = pool.closedReason { document["closed"] = reason.message }
        let flowing = state == .healthy && (pool.closedReason == nil || pool.availableBits >= 8)
        return json(document, status: flowing ? .ok : .serviceUnavailable)
    }

    /// 503 while the health tests gate output: bits in the pool were approved, but a client asking now should
    /// learn that the source is failing rather than drain what is left.
    private func gatedResponse() -> Response? {
        guard let statistics = healthState(), statistics.healthState != .healthy else { return nil }
        let why = statistics.lastFailure.map { ": \($0)" } ?? ""
        return error(.serviceUnavailable, parameter: nil, "health tests \(statistics.healthState)\(why)")
    }

    // MARK: Responses

    private func headers(contentType: String) -> HTTPFields {
        var fields = HTTPFields()
        fields[.contentType] = contentType
        fields[.cacheControl] = "no-store"
        fields[Self.sourceHeader] = sourceLabel
        return fields
    }

    static let sourceHeader = HTTPField.Name("QRNG-Source")!

    private func text(_ body: String, contentType: String) -> Response {
        Response(
            status: .ok, headers: headers(contentType: contentType),
            body: ResponseBody(byteBuffer: ByteBuffer(string: body + "\n")))
    }

    private func json(_ document: [String: Any], status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys])) ?? Data("{}".utf8)
        var body = ByteBuffer(bytes: data)
        body.writeString("\n")
        return Response(status: status, headers: headers(contentType: "application/json"), body: ResponseBody(byteBuffer: body))
    }

    private func error(_ status: HTTPResponse.Status, parameter: String?, _ message: String) -> Response {
        var document: [String: Any] = ["success": false, "error": message, "source": sourceLabel]
        if let parameter { document["parameter"] = parameter }
        return json(document, status: status)
    }

    private func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(2 * bytes.count)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 15)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}

/// The JSON layouts of ANU's QRNG API: `uint8` (one number per byte), `uint16` (big-endian pairs) and `hex16`
/// (blocks of `size` bytes as hex strings).
enum JSONLayout: Equatable {
    case uint8
    case uint16
    case hex16(size: Int)

    struct Failure: Error {
        let parameter: String
        let message: String
    }

    static func parse(type: Substring?, size: Substring?, bytes: Int) -> Result<JSONLayout, Failure> {
        switch type ?? "uint8" {
        case "uint8":
            return .success(.uint8)
        case "uint16":
            guard bytes % 2 == 0 else {
                return .failure(Failure(parameter: "bytes", message: "type=uint16 needs an even number of bytes, got \(bytes)"))
            }
            return .success(.uint16)
        case "hex16":
            let blockText = size ?? "2"
            guard let block = Int(blockText), block >= 1, bytes % block == 0 else {
                return .failure(Failure(
                    parameter: "size", message: "size must be a whole number of bytes that divides bytes=\(bytes), got '\(blockText)'"))
            }
            return .success(.hex16(size: block))
        default:
            return .failure(Failure(parameter: "type", message: "type is uint8, uint16 or hex16, got '\(type ?? "")'"))
        }
    }

    func document(_ bytes: [UInt8], source: String) -> [String: Any] {
        var document: [String: Any] = ["success": true, "source": source]
        switch self {
        case .uint8:
            document["type"] = "uint8"
            document["length"] = bytes.count
            document["size"] = 1
            document["data"] = bytes.map(Int.init)
        case .uint16:
            document["type"] = "uint16"
            document["length"] = bytes.count / 2
            document["size"] = 2
            document["data"] = stride(from: 0, to: bytes.count, by: 2).map { Int(bytes[$0]) << 8 | Int(bytes[$0 + 1]) }
        case .hex16(let size):
            document["type"] = "hex16"
            document["length"] = bytes.count / size
            document["size"] = size
            document["data"] = stride(from: 0, to: bytes.count, by: size).map { start in
                bytes[start..<start + size].map { String(format: "%02x", $0) }.joined()
            }
        }
        return document
    }
}
