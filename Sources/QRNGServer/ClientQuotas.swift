import Foundation
import QRNG
import Synchronization

/// How much one client may draw: requests and random bytes per second, each with a burst allowance.
public struct ClientQuota: Sendable, Hashable, Codable {
    /// Random bytes per second, sustained.
    public var bytesPerSecond: Double
    /// Requests per second, sustained, on every route.
    public var requestsPerSecond: Double
    /// How many seconds' worth a client may take at once after being idle: the buckets' depth.
    public var burstSeconds: Double

    /// 1 MiB/s and 100 requests/s with 8 s of burst per client: one client can take a 1 MiB response eight times
    /// in a row, but not hold the pool for long against the others.
    public static let `default` = ClientQuota(bytesPerSecond: 1_048_576, requestsPerSecond: 100, burstSeconds: 8)

    public init(bytesPerSecond: Double, requestsPerSecond: Double, burstSeconds: Double) {
        self.bytesPerSecond = bytesPerSecond
        self.requestsPerSecond = requestsPerSecond
        self.burstSeconds = burstSeconds
    }

    /// The most bytes a client can ever get at once.
    public var byteCapacity: Double { bytesPerSecond * burstSeconds }
    var requestCapacity: Double { max(1, requestsPerSecond * burstSeconds) }
}

/// Which clients may draw and how much: token buckets per ``ClientIdentity``.
///
/// A client's buckets start full and refill at its quota's rates; a request takes one request token when it
/// arrives and its bytes' worth when it is about to draw. Without a clients list every identity is allowed with
/// the default quota; with one, an identity not listed is refused.
public final class ClientQuotas: Sendable {
    /// Allowed identities (their descriptions, e.g. `certificate:alice`) and their quotas; `nil`: everyone.
    let listed: [String: ClientQuota]?
    let defaultQuota: ClientQuota
    private let table = Mutex(Table())
    /// Past this many tracked clients, those whose buckets have refilled are forgotten (a full bucket is the
    /// same as none), so that a crowd of addresses cannot grow the table without bound.
    static let pruneThreshold = 10_000

    struct Table {
        var buckets: [ClientIdentity: Bucket] = [:]
        /// The size at which the next pruning pass runs: twice what the last one kept, so that a table of clients
        /// all still active is not scanned again on every request.
        var pruneAt = ClientQuotas.pruneThreshold
    }

    struct Bucket {
        var bytes: Double
        var requests: Double
        var updated: ContinuousClock.Instant
    }

    /// The outcome of asking for tokens.
    public enum Admission: Sendable, Equatable {
        case admitted
        /// Not listed in the clients file.
        case unknownClient
        /// Over a quota; `retryAfter` seconds (rounded up) until the tokens are there.
        case overQuota(quota: String, retryAfter: Int)
        /// More bytes than the client's bucket can ever hold.
        case beyondBurst(capacity: Int)
    }

    public init(defaultQuota: ClientQuota = .default, listed: [String: ClientQuota]? = nil) {
        self.defaultQuota = defaultQuota
        self.listed = listed
    }

    /// The quota of `client`, or `nil` when a clients list does not name it.
    public func quota(of client: ClientIdentity) -> ClientQuota? {
        guard let listed else { return defaultQuota }
        return listed[client.description]
    }

    /// Takes one request token for `client`.
    public func admitRequest(from client: ClientIdentity, at now: ContinuousClock.Instant = .now) -> Admission {
        guard let quota = quota(of: client) else { return .unknownClient }
        return withBucket(of: client, quota: quota, at: now) { bucket in
            guard bucket.requests >= 1 else {
                return .overQuota(quota: "requests", retryAfter: Self.seconds((1 - bucket.requests) / quota.requestsPerSecond))
            }
            bucket.requests -= 1
            return .admitted
        }
    }

    /// Takes `bytes` byte tokens for `client`, all or none.
    public func admit(bytes: Int, for client: ClientIdentity, at now: ContinuousClock.Instant = .now) -> Admission {
        guard let quota = quota(of: client) else { return .unknownClient }
        guard Double(bytes) <= quota.byteCapacity else { return .beyondBurst(capacity: Int(quota.byteCapacity)) }
        return withBucket(of: client, quota: quota, at: now) { bucket in
            guard bucket.bytes >= Double(bytes) else {
                return .overQuota(quota: "bytes", retryAfter: Self.seconds((Double(bytes) - bucket.bytes) / quota.bytesPerSecond))
            }
            bucket.bytes -= Double(bytes)
            return .admitted
        }
    }

    private func withBucket(
        of client: ClientIdentity, quota: ClientQuota, at now: ContinuousClock.Instant, _ body: (inout Bucket) -> Admission
    ) -> Admission {
        table.withLock { table in
            if table.buckets.count > table.pruneAt {
                let forgotten = Duration.seconds(quota.burstSeconds)
                table.buckets = table.buckets.filter { now - $0.value.updated < forgotten }
                table.pruneAt = max(Self.pruneThreshold, 2 * table.buckets.count)
            }
            var bucket = table.buckets[client] ?? Bucket(bytes: quota.byteCapacity, requests: quota.requestCapacity, updated: now)
            let elapsed = max(0, Self.seconds(of: now - bucket.updated))
            bucket.bytes = min(quota.byteCapacity, bucket.bytes + elapsed * quota.bytesPerSecond)
            bucket.requests = min(quota.requestCapacity, bucket.requests + elapsed * quota.requestsPerSecond)
            bucket.updated = now
            let admission = body(&bucket)
            table.buckets[client] = bucket
            return admission
        }
    }

    private static func seconds(of duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
    }

    /// Whole seconds, rounded up, at least 1: what `Retry-After` takes.
    private static func seconds(_ value: Double) -> Int { max(1, Int(value.rounded(.up))) }

    /// Reads a clients file: a JSON object mapping identities (as in the access log: `certificate:alice`,
    /// `address:192.0.2.7`) to quotas, any field of which may be left out to take `defaults`' value.
    ///
    /// ```json
    /// {"certificate:alice": {"bytesPerSecond": 65536}, "certificate:bob": {}}
    /// ```
    public static func load(clientsFile path: String, defaults: ClientQuota) throws(QRNGError) -> [String: ClientQuota] {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw QRNGError(.invalidInput, "cannot read the clients file: \(error.localizedDescription)",
                            context: .init(file: path, field: "--clients"))
        }
        guard let object = try? JSONSerialization.jsonObject(with: data), let clients = object as? [String: Any] else {
            throw QRNGError(.invalidInput, "the clients file must be one JSON object: identity → quota",
                            context: .init(file: path, field: "--clients"))
        }
        var quotas: [String: ClientQuota] = [:]
        for (identity, entry) in clients {
            guard identity.hasPrefix("certificate:") || identity.hasPrefix("address:") else {
                throw QRNGError(.invalidInput, "an identity is certificate:NAME or address:IP, got '\(identity)'",
                                context: .init(file: path, field: identity))
            }
            guard let fields = entry as? [String: Any] else {
                throw QRNGError(.invalidInput, "a client's quota is a JSON object", context: .init(file: path, field: identity))
            }
            var quota = defaults
            for (key, value) in fields {
                guard let number = (value as? NSNumber)?.doubleValue, number.isFinite, number > 0,
                    !(value is Bool)
                else {
                    throw QRNGError(.invalidInput, "\(key) must be a positive number",
                                    context: .init(file: path, field: "\(identity).\(key)"))
                }
                switch key {
                case "bytesPerSecond": quota.bytesPerSecond = number
                case "requestsPerSecond": quota.requestsPerSecond = number
                case "burstSeconds": quota.burstSeconds = number
                default:
                    throw QRNGError(.invalidInput, "unknown field; a quota has bytesPerSecond, requestsPerSecond, burstSeconds",
                                    context: .init(file: path, field: "\(identity).\(key)"))
                }
            }
            quotas[identity] = quota
        }
        return quotas
    }
}
