import Dispatch
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import QRNG

// The handlers of the `/v1` routes. Each checks its parameters before it takes a bit, so that a refused request
// costs the pool nothing, and zeroes its own copies of what it served once the response holds them.
extension RandomnessService {
    func random(_ call: Call) async throws(RouteError) -> Response {
        let query = call.request.uri.queryParameters
        let count = try query.integer("bytes", in: 1...configuration.maxRequestBytes, meaning: "how many random bytes to send")
        let format = try query.choice("format", of: ["octets", "hex", "base64", "json"], default: "octets")
        // type and size shape the JSON only, but a bad value is refused whatever the format: a typo is not
        // silently ignored.
        let type = try query.choice("type", of: ["uint8", "uint16", "hex16"], default: "uint8")
        let size = query["size"] == nil ? nil : try query.integer("size", in: 1...configuration.maxRequestBytes, meaning: "bytes per hex16 block")
        let layout = format == "json" ? try JSONLayout.parse(type: type, size: size, bytes: count) : .uint8
        try checkOutputFlows()
        try charge(bytes: count, to: call, parameter: "bytes")
        var bits: BitBuffer
        do {
            bits = try await pool.take(bits: 8 * count)
        } catch {
            throw RouteError(.serviceUnavailable, "no randomness: \(error.message)")
        }
        defer { bits.removeAll() }
        countServed(bytes: count, to: call.client)
        // Octets go straight from the pool's bits into the response buffer; the text formats need the bytes.
        if format == "octets" { return octets(count: count) { bits.copyPackedBytes(into: $0) } }
        var bytes = bits.packedBytes()
        defer { bytes.withUnsafeMutableBytes { secureZero($0) } }
        switch format {
        case "hex": return hexText(bytes)
        case "base64": return base64Text(bytes)
        default: return json(layout.document(bytes, source: sourceLabel))
        }
    }

    /// BB84 basis choices from ``EntropyPool/basisChoices(count:)`` (one bit each) or, for P ≠ ½,
    /// ``EntropyPool/biasedBasisChoices(count:probabilityOfRectilinear:precisionBits:)`` (P exact to 2⁻³²).
    func basisChoices(_ call: Call) async throws(RouteError) -> Response {
        let query = call.request.uri.queryParameters
        let count = try query.integer(
            "count", in: 1...8 * configuration.maxRequestBytes, meaning: "how many basis choices to send")
        let requestedProbability = try query.probability("pz", default: 0.5)
        let format = try query.choice("format", of: ["json", "octets"], default: "json")
        try checkOutputFlows()
        let precisionBits = 32
        let probability = (requestedProbability * 0x1p32).rounded() / 0x1p32
        // A fair choice costs one bit, a biased one two on average.
        try charge(bytes: ((probability == 0.5 ? 1 : 2) * count + 7) / 8, to: call, parameter: "count")
        var choices = try await offloaded { [pool] () throws(QRNGError) in
            probability == 0.5
                ? try pool.basisChoices(count: count)
                : try pool.biasedBasisChoices(
                    count: count, probabilityOfRectilinear: probability, precisionBits: precisionBits)
        }
        defer { choices.withUnsafeMutableBytes { secureZero($0) } }
        countServed(bytes: (count + 7) / 8, to: call.client)
        if format == "octets" {
            var packed = [UInt8](repeating: 0, count: (count + 7) / 8)
            defer { packed.withUnsafeMutableBytes { secureZero($0) } }
            for (index, basis) in choices.enumerated() where basis == .diagonal {
                packed[index >> 3] |= 0x80 >> UInt8(index & 7)
            }
            var response = octets(packed)
            response.headers[Self.countHeader] = String(count)
            return response
        }
        var letters = [UInt8](repeating: UInt8(ascii: "Z"), count: count)
        defer { letters.withUnsafeMutableBytes { secureZero($0) } }
        for (index, basis) in choices.enumerated() where basis == .diagonal { letters[index] = UInt8(ascii: "X") }
        return json([
            "success": true, "source": sourceLabel, "count": count, "pz": probability,
            "bases": String(decoding: letters, as: UTF8.self),
        ])
    }

    /// A seed from ``EntropyPool/hashSeed(bits:)``, packed most significant bit first; the last byte's unused
    /// low bits are zero.
    func hashSeed(_ call: Call) async throws(RouteError) -> Response {
        let query = call.request.uri.queryParameters
        let bits = try query.integer("bits", in: 1...8 * configuration.maxRequestBytes, meaning: "the seed's length in bits")
        let format = try query.choice("format", of: ["json", "hex", "octets"], default: "json")
        try checkOutputFlows()
        try charge(bytes: (bits + 7) / 8, to: call, parameter: "bits")
        let seed = try await offloaded { [pool] () throws(QRNGError) in try pool.hashSeed(bits: bits) }
        var bytes = seed.packedBytes()
        defer { bytes.withUnsafeMutableBytes { secureZero($0) } }
        countServed(bytes: bytes.count, to: call.client)
        switch format {
        case "hex": return hexText(bytes)
        case "octets":
            var response = octets(bytes)
            response.headers[Self.bitsHeader] = String(bits)
            return response
        default: return json(["success": true, "source": sourceLabel, "bits": bits, "seed": hexString(bytes)])
        }
    }

    func health(_ call: Call) -> Response {
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
        let sourceProblem = configuration.sourceProblem?()
        if let sourceProblem { document["sourceProblem"] = sourceProblem }
        let flowing = state == .healthy && (pool.closedReason == nil || pool.availableBits >= 8) && sourceProblem == nil
        return json(document, status: flowing ? .ok : .serviceUnavailable)
    }

    /// Refuses with 503 while the health tests gate output: bits in the pool were approved, but a client asking
    /// now should learn that the source is failing rather than drain what is left.
    func checkOutputFlows() throws(RouteError) {
        if let problem = configuration.sourceProblem?() {
            throw RouteError(.serviceUnavailable, "the source is not flowing: \(problem)")
        }
        guard let statistics = healthState(), statistics.healthState != .healthy else { return }
        let why = statistics.lastFailure.map { ": \($0)" } ?? ""
        throw RouteError(.serviceUnavailable, "health tests \(statistics.healthState)\(why)")
    }

    func countServed(bytes: Int, to client: ClientIdentity) {
        counters.withLock {
            $0.requests += 1
            $0.bytesServed += UInt64(bytes)
        }
        metrics.recordServed(bytes: bytes, to: client)
    }

    func scrape(_ call: Call) -> Response {
        metrics.scrape(pool: pool, statistics: healthState(), keysHeld: keyStore?.count)
    }

    /// Runs one of the library's blocking consumer calls on a thread of its own, so that a request waiting for
    /// the pool to refill holds no thread of the server's.
    private func offloaded<Value: Sendable>(
        _ work: @escaping @Sendable () throws(QRNGError) -> Value
    ) async throws(RouteError) -> Value {
        let outcome = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Value, QRNGError>, Never>) in
            DispatchQueue.global().async {
                continuation.resume(returning: Result { () throws(QRNGError) in try work() })
            }
        }
        do {
            return try outcome.get()
        } catch {
            throw RouteError(.serviceUnavailable, "no randomness: \(error.message)")
        }
    }

    static let countHeader = HTTPField.Name("QRNG-Count")!
    static let bitsHeader = HTTPField.Name("QRNG-Bits")!
}
