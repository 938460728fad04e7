import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import QRNG

/// The output of another qrng node, pulled over HTTPS (`GET /v1/random`) into a local buffer: a ``ByteFeed`` for
/// a machine without hardware, which health-tests these bytes like any source's and serves them locally.
///
/// A background task keeps up to ``Configuration/bufferBytes`` fetched ahead. When the node cannot be reached or
/// answers with an error (503 while its health tests gate output, 429 over its quota), the task retries with
/// exponential backoff (honouring `Retry-After`), ``problem`` says why, and reads wait: output stops rather than
/// fall back to anything weaker. The node's `QRNG-Source` header sets the feed's provenance at the first answer;
/// should it change later (a device node turning simulated), the feed ends with an error rather than pass
/// simulated bytes off as quantum.
public final class RemoteFeed: ByteFeed, @unchecked Sendable {
    // Every mutable field below is guarded by `condition`.

    /// Where the node is and how to reach it.
    public struct Configuration: Sendable {
        /// The node's base URL, `https://HOST:PORT` (`http://` on loopback only).
        public var url: String
        /// This machine's certificate chain and key (PEM files), for a node that requires mutual TLS.
        public var certificateChain: String?
        public var privateKey: String?
        /// The CA (PEM) to verify the node's certificate against, instead of the system's.
        public var trustedCA: String?
        /// Bytes per request.
        public var requestBytes = 64 << 10
        /// The most bytes fetched ahead of the pipeline.
        public var bufferBytes = 1 << 20
        /// The longest wait between retries.
        public var maximumBackoff: Duration = .seconds(5)

        public init(url: String) {
            self.url = url
        }
    }

    public let name: String
    public let configuration: Configuration
    private let client: HTTPClient
    private let log: @Sendable (String) -> Void
    private let condition = NSCondition()
    private var buffered = ZeroingByteQueue()
    private var kind: Provenance.Kind?
    private var remoteDetail = ""
    private var currentProblem: String?
    private var failure: QRNGError?
    private var stopped = false

    /// Starts fetching from the node and waits for its first answer, which says what it is; `log` gets a line
    /// whenever the node stops or resumes answering.
    public init(_ configuration: Configuration, log: @escaping @Sendable (String) -> Void) throws(QRNGError) {
        self.configuration = configuration
        self.log = log
        guard let url = URL(string: configuration.url), let scheme = url.scheme, let host = url.host,
            ["https", "http"].contains(scheme), url.path.isEmpty || url.path == "/"
        else {
            throw .invalidArgument("--source", "a remote source is https://HOST:PORT, got '\(configuration.url)'")
        }
        if scheme == "http" && !["127.0.0.1", "::1", "localhost"].contains(host) && !host.hasPrefix("127.") {
            throw .invalidArgument(
                "--source", "\(configuration.url): plaintext is for loopback only; random bytes travel over https")
        }
        self.name = configuration.url.hasSuffix("/") ? String(configuration.url.dropLast()) : configuration.url
        var tls = TLSConfiguration.makeClientConfiguration()
        do {
            if let ca = configuration.trustedCA {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(ca))
            }
            if let chain = configuration.certificateChain, let key = configuration.privateKey {
                tls.certificateChain = try NIOSSLCertificate.fromPEMFile(chain).map { .certificate($0) }
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
            }
        } catch {
            throw .invalidArgument("--source-cert", "\(configuration.url): cannot read the TLS files: \(error)")
        }
        var clientConfiguration = HTTPClient.Configuration(tlsConfiguration: tls)
        clientConfiguration.timeout = .init(connect: .seconds(10), read: .seconds(30))
        clientConfiguration.redirectConfiguration = .disallow
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)
        let thread = Thread { [weak self] in self?.fetch() }
        thread.name = "qrng remote \(name)"
        thread.start()
        condition.lock()
        while kind == nil && failure == nil && !stopped { condition.wait() }
        let failed = failure
        condition.unlock()
        if let failed {
            stop()
            throw failed
        }
    }

    public var provenance: Provenance {
        condition.lock()
        defer { condition.unlock() }
        return Provenance(kind: kind ?? .device, detail: "remote qrng node \(name) (\(remoteDetail))")
    }

    /// Why the feed is not flowing now (the node unreachable or refusing), or `nil` while it answers.
    public var problem: String? {
        condition.lock()
        defer { condition.unlock() }
        return currentProblem
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(QRNGError) -> Int {
        condition.lock()
        defer { condition.unlock() }
        while buffered.count == 0 && failure == nil && !stopped { condition.wait() }
        if let failure { throw failure }
        let count = buffered.take(into: buffer)
        condition.broadcast()
        return count
    }

    /// Stops fetching and wakes every reader, which then sees the end of the feed.
    public func stop() {
        condition.lock()
        stopped = true
        buffered.removeAll()
        condition.broadcast()
        condition.unlock()
        try? client.syncShutdown()
    }

    // MARK: Fetching

    /// The fetch loop, on a thread of its own: it blocks on each response and on room in the buffer, which no
    /// task of the cooperative pool (which serves HTTP) may do.
    private func fetch() {
        let minimumBackoff = Duration.milliseconds(100)
        var backoff = minimumBackoff
        let url = "\(name)/v1/random?bytes=\(configuration.requestBytes)"
        while waitForRoom() {
            var retryAfter: Duration = .zero
            do {
                let request = try HTTPClient.Request(url: url)
                let response = try client.execute(request: request, deadline: .now() + .seconds(30)).wait()
                var body = response.body ?? ByteBuffer()
                defer { body.withUnsafeMutableReadableBytes { secureZero($0) } }
                guard response.status == .ok else {
                    retryAfter = response.headers.first(name: "Retry-After").flatMap { Int($0) }.map { .seconds($0) } ?? .zero
                    let message = Self.errorMessage(body)
                    throw Refusal(description: "HTTP \(response.status.code)\(message.map { ": \($0)" } ?? "")")
                }
                guard body.readableBytes == configuration.requestBytes else {
                    throw Refusal(description: "a response of \(body.readableBytes) bytes, not \(configuration.requestBytes)")
                }
                try deliver(body, source: response.headers.first(name: "QRNG-Source") ?? "device")
                backoff = minimumBackoff
            } catch let error as QRNGError {
                fail(error)
                return
            } catch {
                let delay = max(backoff, retryAfter)
                report("\(error)", retryingIn: delay)
                if !pause(for: delay) { return }
                backoff = min(backoff * 2, configuration.maximumBackoff)
            }
        }
    }

    private struct Refusal: Error, CustomStringConvertible {
        let description: String
    }

    /// Waits until a request's worth fits in the buffer; `false` once stopped.
    private func waitForRoom() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while !stopped && buffered.count + configuration.requestBytes > configuration.bufferBytes {
            condition.wait()
        }
        return !stopped
    }

    /// Waits `delay` before a retry, or less if stopped meanwhile; `false` once stopped.
    private func pause(for delay: Duration) -> Bool {
        let seconds = Double(delay.components.seconds) + Double(delay.components.attoseconds) * 1e-18
        let deadline = Date(timeIntervalSinceNow: seconds)
        condition.lock()
        defer { condition.unlock() }
        while !stopped && condition.wait(until: deadline) {}
        return !stopped
    }

    private func deliver(_ body: ByteBuffer, source: String) throws(QRNGError) {
        let answered: Provenance.Kind = source == "simulated" ? .simulated : source == "recording" ? .file : .device
        condition.lock()
        defer { condition.unlock() }
        if let kind, kind != answered {
            throw QRNGError(
                .invalidInput,
                "\(name) now serves \(source) bytes, not \(Self.label(kind)) as when this node connected: the feed stops")
        }
        if kind == nil { remoteDetail = "QRNG-Source: \(source)" }
        kind = answered
        body.withUnsafeReadableBytes { buffered.append($0) }
        if let problem = currentProblem {
            log("source \(name): answering again after '\(problem)'")
            currentProblem = nil
        }
        condition.broadcast()
    }

    private func report(_ problem: String, retryingIn delay: Duration) {
        condition.lock()
        defer { condition.unlock() }
        guard !stopped else { return }
        if currentProblem != problem {
            log("source \(name): \(problem); output waits, retrying (next in \(delay))")
        }
        currentProblem = problem
    }

    private func fail(_ error: QRNGError) {
        condition.lock()
        failure = error
        currentProblem = error.message
        condition.broadcast()
        condition.unlock()
        log("source \(name): \(error.message)")
    }

    private static func label(_ kind: Provenance.Kind) -> String {
        switch kind {
        case .simulated: "simulated"
        case .file: "recording"
        case .device: "device"
        }
    }

    /// The `error` (or `message`) of a JSON error body, if there is one.
    private static func errorMessage(_ body: ByteBuffer) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any] else {
            return nil
        }
        return (object["error"] ?? object["message"]) as? String
    }
}
