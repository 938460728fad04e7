import HTTPTypes
import Hummingbird
import NIOCore
import Prometheus
import QRNG
import Synchronization

/// The service's Prometheus metrics (swift-prometheus 2), served as text at `GET /metrics`.
///
/// - `qrng_http_requests_total{route, client, status}` and `qrng_http_request_duration_seconds{route}` (a histogram) for
///   every request;
/// - `qrng_http_served_bytes_total`: random bytes sent; `qrng_http_client_served_bytes_total{client}` by client
///   (``ClientIdentity``, e.g. `certificate:alice` or `address:192.0.2.7`);
/// - at each scrape, from the pool and the pipeline: `qrng_pool_fill_bits`, `qrng_health_healthy` (1 while
///   output flows), `qrng_health_failures_count` and `qrng_health_rejected_samples_count{test}` (the samples each
///   test's failures discarded).
final class ServiceMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let servedBytes: Counter
    private let poolFill: Gauge
    private let healthy: Gauge
    private let failures: Gauge

    /// Upper bounds of the latency histogram's buckets.
    static let latencyBuckets: [Duration] = [
        .microseconds(100), .microseconds(500), .milliseconds(1), .milliseconds(5), .milliseconds(10),
        .milliseconds(50), .milliseconds(100), .milliseconds(500), .seconds(1), .seconds(5),
    ]

    init() {
        servedBytes = registry.makeCounter(
            descriptor: .init(namespace: "qrng", subsystem: "http", metricName: "served", unitName: "bytes_total",
                              helpText: "Random bytes sent over HTTP"))
        poolFill = registry.makeGauge(
            descriptor: .init(namespace: "qrng", subsystem: "pool", metricName: "fill", unitName: "bits",
                              helpText: "Bits waiting in the pool"))
        healthy = registry.makeGauge(
            descriptor: .init(namespace: "qrng", subsystem: "health", metricName: "healthy", unitName: "",
                              helpText: "1 while the health tests pass and output flows, else 0"))
        failures = registry.makeGauge(
            descriptor: .init(namespace: "qrng", subsystem: "health", metricName: "failures", unitName: "count",
                              helpText: "Health-test failures and monitor alarms so far"))
    }

    /// Client labels: past 256 distinct clients, new ones share `other`, so that a crowd of addresses cannot grow
    /// the exposition without bound.
    private let clientLabels = CappedLabels(maximum: 256)
    /// Handshake failure reasons, capped the same way at 32.
    private let handshakeReasons = CappedLabels(maximum: 32)

    func label(_ client: ClientIdentity) -> String { clientLabels.label(client.description) }

    /// Counts a request to `route` by `client` with its status and duration.
    func record(route: String, client: ClientIdentity, status: HTTPResponse.Status, duration: Duration) {
        registry.makeCounter(
            descriptor: .init(namespace: "qrng", subsystem: "http", metricName: "requests", unitName: "total",
                              helpText: "HTTP requests by route, client identity and status"),
            labels: [("route", route), ("client", label(client)), ("status", String(status.code))]
        ).increment()
        registry.makeDurationHistogram(
            descriptor: .init(namespace: "qrng", subsystem: "http", metricName: "request_duration", unitName: "seconds",
                              helpText: "Time to answer an HTTP request"),
            labels: [("route", route)], buckets: Self.latencyBuckets
        ).record(duration)
    }

    func recordQuotaRejection(of client: ClientIdentity, quota: String) {
        registry.makeCounter(
            descriptor: .init(namespace: "qrng", subsystem: "http", metricName: "quota_rejections", unitName: "total",
                              helpText: "Requests refused with 429, by client identity and quota (bytes or requests)"),
            labels: [("client", label(client)), ("quota", quota)]
        ).increment()
    }

    func recordRefusedConnection() {
        registry.makeCounter(
            descriptor: .init(namespace: "qrng", subsystem: "http", metricName: "connections_refused", unitName: "total",
                              helpText: "Connections closed at once: their address already had the most open"))
        .increment()
    }

    func recordHandshakeFailure(reason: String) {
        let label = handshakeReasons.label(reason)
        registry.makeCounter(
            descriptor: .init(namespace: "qrng", subsystem: "tls", metricName: "handshake_failures", unitName: "total",
                              helpText: "TLS handshakes that failed or timed out, by reason"),
            labels: [("reason", label)]
        ).increment()
    }

    /// SAE pairs, capped like clients: past 256 pairs, new ones are counted as `other`→`other`.
    private let pairLabels = CappedLabels(maximum: 256)

    /// Counts keys `event` (created, delivered, expired) for the pair `master` → `slave`.
    func recordKeys(_ event: String, master: String, slave: String, count: Int) {
        let capped = pairLabels.label("\(master)\u{0}\(slave)") == "other"
        registry.makeCounter(
            descriptor: .init(namespace: "qrng", subsystem: "kme", metricName: "keys", unitName: "total",
                              helpText: "ETSI GS QKD 014 keys created, delivered and expired, by master and slave SAE"),
            labels: [("event", event), ("master", capped ? "other" : master), ("slave", capped ? "other" : slave)]
        ).increment(by: Int64(count))
    }

    func recordServed(bytes: Int, to client: ClientIdentity) {
        servedBytes.increment(by: Int64(bytes))
        registry.makeCounter(
            descriptor: .init(namespace: "qrng", subsystem: "http", metricName: "client_served", unitName: "bytes_total",
                              helpText: "Random bytes sent over HTTP, by client identity"),
            labels: [("client", label(client))]
        ).increment(by: Int64(bytes))
    }

    /// The exposition text, with the pool's and the pipeline's state as of now.
    func scrape(pool: EntropyPool, statistics: PipelineStatistics?, keysHeld: Int?) -> Response {
        if let keysHeld {
            registry.makeGauge(
                descriptor: .init(namespace: "qrng", subsystem: "kme", metricName: "stored_keys", unitName: "",
                                  helpText: "Keys held for slave SAEs, waiting to be fetched"))
            .set(to: Double(keysHeld))
        }
        poolFill.set(to: Double(pool.availableBits))
        healthy.set(to: (statistics?.healthState ?? .healthy) == .healthy && pool.closedReason == nil ? 1 : 0)
        failures.set(to: Double(statistics?.failureCount ?? 0))
        for (test, samples) in statistics?.samples.rejected ?? [:] {
            registry.makeGauge(
                descriptor: .init(namespace: "qrng", subsystem: "health", metricName: "rejected_samples",
                                  unitName: "count", helpText: "Samples discarded by each test's failures"),
                labels: [("test", test.rawValue)]
            ).set(to: Double(samples))
        }
        var fields = HTTPFields()
        fields[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        return Response(
            status: .ok, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
    }
}

/// Label values with a bound: the first `maximum` distinct values stand for themselves, later ones are `other`.
final class CappedLabels: Sendable {
    let maximum: Int
    private let seen = Mutex(Set<String>())

    init(maximum: Int) {
        self.maximum = maximum
    }

    func label(_ value: String) -> String {
        seen.withLock { seen in
            if seen.contains(value) { return value }
            guard seen.count < maximum else { return "other" }
            seen.insert(value)
            return value
        }
    }
}
