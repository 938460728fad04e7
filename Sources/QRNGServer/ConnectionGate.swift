import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOSSL
import NIOTLS
import Synchronization

/// Open connections per client address, and how many were refused for being over the limit.
///
/// Counted at accept time, before any TLS handshake, so the address is all there is to go by (as with nginx's
/// `limit_conn` on the remote address).
final class ConnectionLimiter: Sendable {
    let maximumPerAddress: Int
    private let open = Mutex([String: Int]())

    init(maximumPerAddress: Int) {
        self.maximumPerAddress = maximumPerAddress
    }

    /// Counts a new connection from `address`; `false` (and nothing counted) when it already has the maximum.
    func admit(_ address: String) -> Bool {
        open.withLock { open in
            let count = open[address, default: 0]
            guard count < maximumPerAddress else { return false }
            open[address] = count + 1
            return true
        }
    }

    func release(_ address: String) {
        open.withLock { open in
            let count = open[address, default: 1] - 1
            open[address] = count > 0 ? count : nil
        }
    }
}

/// A connection refused for being over its address's limit.
struct TooManyConnections: Error {}

/// A server child channel that admits a connection only while its address is under the limit, and on TLS
/// connections adds ``TLSHandshakeGuard`` after the TLS handler.
struct ConnectionGatedChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value

    let base: Base
    let limiter: ConnectionLimiter
    let handshakeTimeout: TimeAmount
    let metrics: ServiceMetrics

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let address = channel.remoteAddress?.ipAddress ?? "unknown"
        guard limiter.admit(address) else {
            metrics.recordRefusedConnection()
            // A failed setup alone leaves the socket open.
            channel.close(promise: nil)
            return channel.eventLoop.makeFailedFuture(TooManyConnections())
        }
        // However the connection ends, its place is given back.
        channel.closeFuture.whenComplete { [limiter] _ in limiter.release(address) }
        return base.setup(channel: channel, logger: logger).flatMapThrowing { [handshakeTimeout, metrics] value in
            let pipeline = channel.pipeline.syncOperations
            if let tls = try? pipeline.handler(type: NIOSSLServerHandler.self) {
                try pipeline.addHandler(
                    TLSHandshakeGuard(timeout: handshakeTimeout, metrics: metrics), position: .after(tls))
            }
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

/// Closes a TLS connection whose handshake has not completed within the timeout (a client that opens a socket
/// and sends nothing, or a byte at a time, holds it only that long), and counts failed handshakes by reason.
final class TLSHandshakeGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    let timeout: TimeAmount
    let metrics: ServiceMetrics
    private var deadline: Scheduled<Void>?
    private var handshakeDone = false

    init(timeout: TimeAmount, metrics: ServiceMetrics) {
        self.timeout = timeout
        self.metrics = metrics
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        let metrics = self.metrics
        deadline = context.eventLoop.scheduleTask(in: timeout) {
            metrics.recordHandshakeFailure(reason: "timeout")
            channel.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event {
            handshakeDone = true
            deadline?.cancel()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !handshakeDone {
            deadline?.cancel()
            metrics.recordHandshakeFailure(reason: Self.reason(error))
        }
        context.fireErrorCaught(error)
    }

    /// A short, stable name for a handshake error: BoringSSL's reason code (`peer_did_not_return_a_certificate`,
    /// `certificate_verify_failed`, …) or the NIOSSL error's case.
    static func reason(_ error: any Error) -> String {
        let text = String(describing: error)
        // BoringSSL errors read "error:100000c0:SSL routines:OPENSSL_internal:REASON".
        if let range = text.range(of: "OPENSSL_internal:") {
            let reason = text[range.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "_" }
            if !reason.isEmpty { return reason.lowercased() }
        }
        let name = text.prefix { $0.isLetter || $0.isNumber }
        return name.isEmpty ? "other" : String(name)
    }
}
