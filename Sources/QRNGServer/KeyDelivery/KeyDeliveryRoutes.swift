import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import QRNG

// ETSI GS QKD 014 V1.1.1, the REST key delivery API, answered from the pool:
//
// - `GET /api/v1/keys/{slave_SAE_ID}/status` (§5.2): the Status of the caller (master) towards that slave.
// - `GET|POST /api/v1/keys/{slave_SAE_ID}/enc_keys` (§5.3): new keys for the caller, held for that slave (and the
//   request's `additional_slave_SAE_IDs`); GET takes `number` and `size`, POST a Key request body.
// - `GET|POST /api/v1/keys/{master_SAE_ID}/dec_keys` (§5.4): keys that master made for the caller, each once;
//   GET takes one `key_ID`, POST a Key IDs body.
//
// An SAE is the subject of its client certificate (``ClientIdentity``). Errors carry the standard's Error body,
// `message` and `details`; a refused request takes nothing from the pool.
extension RandomnessService {
    /// The routes' common prefix.
    static let keyDeliveryPrefix = "/api/v1/keys/"
    /// A POST body may list `max_key_per_request` key IDs; 64 KiB holds over a thousand.
    static let keyDeliveryMaxBodyBytes = 64 << 10

    /// The operation a key-delivery path names (`status`, `enc_keys` or `dec_keys`) and its SAE ID, decoded;
    /// `nil` for any other path.
    static func keyDeliveryRoute(_ path: String) -> (saeID: String, operation: String)? {
        guard path.hasPrefix(keyDeliveryPrefix) else { return nil }
        let rest = path.dropFirst(keyDeliveryPrefix.count).split(separator: "/", omittingEmptySubsequences: false)
        guard rest.count == 2, ["status", "enc_keys", "dec_keys"].contains(rest[1]),
            let saeID = String(rest[0]).removingPercentEncoding, !saeID.isEmpty
        else { return nil }
        return (saeID, String(rest[1]))
    }

    func keyStatus(_ call: Call) async throws(RouteError) -> Response {
        let (settings, store) = try keyDelivery()
        let master = try callingSAE(call)
        let slave = try pathSAE(call, role: "slave_SAE_ID", caller: master)
        return json([
            "source_KME_ID": settings.kmeID, "target_KME_ID": settings.kmeID,
            "master_SAE_ID": master, "slave_SAE_ID": slave,
            "key_size": settings.keySize,
            "stored_key_count": store.heldCount(for: .init(master: master, slave: slave)),
            "max_key_count": settings.maxStoredKeys, "max_key_per_request": settings.maxKeysPerRequest,
            "max_key_size": settings.maxKeySize, "min_key_size": settings.minKeySize,
            "max_SAE_ID_count": settings.maxAdditionalSlaves,
        ])
    }

    func encKeys(_ call: Call) async throws(RouteError) -> Response {
        let (settings, store) = try keyDelivery()
        let master = try callingSAE(call)
        let slave = try pathSAE(call, role: "slave_SAE_ID", caller: master)
        let request = call.request.method == .post ? try await KeyRequest(decoding: body(of: call)) : try KeyRequest(query: call.request.uri.queryParameters)
        if !request.extensionMandatory.isEmpty {
            throw RouteError(
                .badRequest, parameter: "extension_mandatory",
                "extension_mandatory lists \(request.extensionMandatory.map { "'\($0)'" }.joined(separator: ", ")), "
                    + "which this KME does not support",
                details: request.extensionMandatory.map { ["extension_mandatory_unsupported": $0] })
        }
        let number = request.number ?? 1
        guard (1...settings.maxKeysPerRequest).contains(number) else {
            throw RouteError(
                .badRequest, parameter: "number",
                "number must be 1 to max_key_per_request (\(settings.maxKeysPerRequest)), got \(number)")
        }
        let size = request.size ?? settings.keySize
        guard (settings.minKeySize...settings.maxKeySize).contains(size), size % 8 == 0 else {
            throw RouteError(
                .badRequest, parameter: "size",
                "size must be a multiple of 8 bits from min_key_size (\(settings.minKeySize)) to max_key_size "
                    + "(\(settings.maxKeySize)), got \(size)")
        }
        let additional = request.additionalSlaves
        guard additional.count <= settings.maxAdditionalSlaves else {
            throw RouteError(
                .badRequest, parameter: "additional_slave_SAE_IDs",
                "additional_slave_SAE_IDs names \(additional.count) SAEs, more than max_SAE_ID_count "
                    + "(\(settings.maxAdditionalSlaves))")
        }
        var slaves = [slave]
        for other in additional {
            try checkSAE(other, role: "additional_slave_SAE_IDs", caller: master)
            guard !slaves.contains(other) else {
                throw RouteError(
                    .badRequest, parameter: "additional_slave_SAE_IDs", "additional_slave_SAE_IDs repeats '\(other)'")
            }
            slaves.append(other)
        }
        try checkOutputFlows()
        let keyBytes = size / 8
        try charge(bytes: number * keyBytes, to: call, parameter: "number")
        let reservation: KeyStore.Reservation
        do {
            reservation = try store.reserve(number)
        } catch {
            throw RouteError(
                .serviceUnavailable,
                "the KME holds as many keys as it may (max_key_count \(settings.maxStoredKeys)); retry once slaves "
                    + "have fetched or keys have expired")
        }
        var bits: BitBuffer
        do {
            bits = try await pool.take(bits: 8 * number * keyBytes)
        } catch {
            store.release(reservation)
            throw RouteError(.serviceUnavailable, "no randomness: \(error.message)")
        }
        let drawn = KeyMaterial(count: number * keyBytes) { bits.copyPackedBytes(into: $0) }
        bits.removeAll()
        let keys = store.deposit(reservation, material: drawn, keyBytes: keyBytes, master: master, slaves: slaves)
        countServed(bytes: number * keyBytes, to: call.client)
        recordKeys(.created, master: master, slaves: slaves, count: number, size: size)
        return keyContainer(keys)
    }

    func decKeys(_ call: Call) async throws(RouteError) -> Response {
        let (settings, store) = try keyDelivery()
        let slave = try callingSAE(call)
        let master = try pathSAE(call, role: "master_SAE_ID", caller: slave)
        let ids = call.request.method == .post
            ? try await KeyIDs(decoding: body(of: call)).ids : try KeyIDs(query: call.request.uri.queryParameters).ids
        guard (1...settings.maxKeysPerRequest).contains(ids.count) else {
            throw RouteError(
                .badRequest, parameter: "key_IDs",
                "key_IDs must list 1 to max_key_per_request (\(settings.maxKeysPerRequest)) keys, got \(ids.count)")
        }
        let keys: [KeyStore.Key]
        do {
            keys = try store.withdraw(ids, by: slave, from: master)
        } catch .unavailable(let id) {
            // One answer for unknown, delivered, expired and someone else's: it says nothing about other keys.
            throw RouteError(
                .badRequest, parameter: "key_ID",
                "key_ID \(id.lowercased) is not available to \(slave) from \(master) (unknown, already delivered, "
                    + "expired or not made for it); no key was delivered",
                details: [["key_ID": id.lowercased]])
        } catch .repeated(let id) {
            throw RouteError(
                .badRequest, parameter: "key_ID", "key_ID \(id.lowercased) is asked for twice; no key was delivered",
                details: [["key_ID": id.lowercased]])
        } catch {
            throw RouteError(.serviceUnavailable, "the KME could not deliver the keys")
        }
        recordKeys(.delivered, master: master, slaves: [slave], count: keys.count, size: nil)
        return keyContainer(keys)
    }

    /// Lets go of the keys whose lifetime is over, and counts them.
    func expireKeys() {
        guard let store = keyStore else { return }
        for (pair, count) in store.expire() { recordKeys(.expired, master: pair.master, slaves: [pair.slave], count: count, size: nil) }
    }

    // MARK: Helpers

    private func keyDelivery() throws(RouteError) -> (KeyDeliverySettings, KeyStore) {
        guard let settings = configuration.keyDelivery, let keyStore else {
            throw RouteError(.notFound, "this service is not a key management entity")
        }
        return (settings, keyStore)
    }

    /// The calling SAE: the subject of its client certificate.
    private func callingSAE(_ call: Call) throws(RouteError) -> String {
        guard call.client.kind == .certificate else {
            throw RouteError(
                .unauthorized, "an SAE is known by its client certificate, and this connection presented none")
        }
        return call.client.name
    }

    /// The SAE ID in the path, which must be an SAE this KME serves other than the caller.
    private func pathSAE(_ call: Call, role: String, caller: String) throws(RouteError) -> String {
        guard let (saeID, _) = Self.keyDeliveryRoute(call.request.uri.path) else {
            throw RouteError(.badRequest, parameter: role, "the path does not name a \(role)")
        }
        try checkSAE(saeID, role: role, caller: caller)
        return saeID
    }

    private func checkSAE(_ saeID: String, role: String, caller: String) throws(RouteError) {
        guard !saeID.isEmpty, saeID.utf8.count <= 256, !saeID.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw RouteError(.badRequest, parameter: role, "\(role) must be 1 to 256 bytes without control characters")
        }
        guard saeID != caller else {
            throw RouteError(.badRequest, parameter: role, "\(role) '\(saeID)' is the caller itself")
        }
        if configuration.quotas.listed != nil,
            configuration.quotas.quota(of: ClientIdentity(kind: .certificate, name: saeID)) == nil
        {
            throw RouteError(.badRequest, parameter: role, "\(role) '\(saeID)' is not an SAE this KME serves")
        }
    }

    private func body(of call: Call) async throws(RouteError) -> ByteBuffer {
        do {
            return try await call.request.body.collect(upTo: Self.keyDeliveryMaxBodyBytes)
        } catch {
            throw RouteError(
                .contentTooLarge, "a request body is at most \(Self.keyDeliveryMaxBodyBytes) bytes")
        }
    }

    /// The Key container (§6.3): `{"keys":[{"key_ID":…,"key":…},…]}`, with each key's base64 written straight
    /// into the zeroing response buffer.
    private func keyContainer(_ keys: [KeyStore.Key]) -> Response {
        let opening = Array(#"{"keys":["#.utf8), closing = Array("]}\n".utf8)
        let idField = Array(#"{"key_ID":""#.utf8), keyField = Array(#"","key":""#.utf8), endOfKey = Array(#""}"#.utf8)
        let entryBytes = keys.map { idField.count + 36 + keyField.count + base64Length(of: $0.material.count) + endOfKey.count }
        let count = opening.count + entryBytes.reduce(0, +) + max(0, keys.count - 1) + closing.count
        let buffer = ZeroingAllocator.buffer(count: count) { output in
            var offset = 0
            func append(_ bytes: [UInt8]) {
                UnsafeMutableRawBufferPointer(rebasing: output[offset..<offset + bytes.count]).copyBytes(from: bytes)
                offset += bytes.count
            }
            append(opening)
            for (index, key) in keys.enumerated() {
                if index > 0 { append([UInt8(ascii: ",")]) }
                append(idField)
                append(Array(key.id.lowercased.utf8))
                append(keyField)
                key.material.withUnsafeBytes { material in
                    let length = base64Length(of: material.count)
                    writeBase64Digits(of: material, into: UnsafeMutableRawBufferPointer(rebasing: output[offset..<offset + length]))
                    offset += length
                }
                append(endOfKey)
            }
            append(closing)
            precondition(offset == count, "key container length miscounted")
        }
        return Response(
            status: .ok, headers: headers(contentType: "application/json"), body: ResponseBody(byteBuffer: buffer))
    }

    enum KeyEvent: String { case created, delivered, expired }

    /// Counts `count` keys by event and SAE pair, and logs them once, however many slaves share them: counts,
    /// sizes and SAE IDs, never key material.
    private func recordKeys(_ event: KeyEvent, master: String, slaves: [String], count: Int, size: Int?) {
        for slave in slaves { metrics.recordKeys(event.rawValue, master: master, slave: slave, count: count) }
        let sizeText = size.map { " of \($0) bits" } ?? ""
        configuration.keyEventLog?(
            "\(event.rawValue) \(count) key\(count == 1 ? "" : "s")\(sizeText) for \(master)→\(slaves.joined(separator: ", "))")
    }
}

extension UUID {
    /// RFC 4122 wants UUIDs written in lower case; Foundation writes upper.
    var lowercased: String { uuidString.lowercased() }
}

/// A Key request (§6.2), from a POST body or, for GET, the query.
struct KeyRequest {
    var number: Int?
    var size: Int?
    var additionalSlaves: [String] = []
    /// The names of the mandatory extensions asked for.
    var extensionMandatory: [String] = []

    init(query: Hummingbird.Parameters) throws(RouteError) {
        func integer(_ name: String) throws(RouteError) -> Int? {
            guard let text = query[Substring(name)] else { return nil }
            guard let value = Int(text) else {
                throw RouteError(.badRequest, parameter: name, "\(name) must be a whole number, got '\(text)'")
            }
            return value
        }
        number = try integer("number")
        size = try integer("size")
    }

    init(decoding body: ByteBuffer) throws(RouteError) {
        let document = try JSONBody(body, fields: [
            "number", "size", "additional_slave_SAE_IDs", "extension_mandatory", "extension_optional",
        ])
        number = try document.integer("number")
        size = try document.integer("size")
        additionalSlaves = try document.strings("additional_slave_SAE_IDs")
        extensionMandatory = try document.extensionNames("extension_mandatory")
        _ = try document.extensionNames("extension_optional")
    }
}

/// Key IDs (§6.4), from a POST body or, for GET, the query's one `key_ID`.
struct KeyIDs {
    var ids: [UUID]

    init(query: Hummingbird.Parameters) throws(RouteError) {
        guard let text = query["key_ID"] else {
            throw RouteError(.badRequest, parameter: "key_ID", "key_ID=UUID is required: the key to fetch")
        }
        ids = [try Self.uuid(String(text))]
    }

    init(decoding body: ByteBuffer) throws(RouteError) {
        let document = try JSONBody(body, fields: ["key_IDs", "key_IDs_extension"])
        guard let list = document.object["key_IDs"] as? [Any] else {
            throw RouteError(
                .badRequest, parameter: "key_IDs", #"key_IDs is required: an array of {"key_ID": "UUID"} objects"#)
        }
        ids = try list.enumerated().map { (index, entry) throws(RouteError) -> UUID in
            guard let entry = entry as? [String: Any], let text = entry["key_ID"] as? String else {
                throw RouteError(
                    .badRequest, parameter: "key_IDs[\(index)].key_ID", "key_IDs[\(index)] must be an object with a key_ID string")
            }
            return try Self.uuid(text)
        }
    }

    private static func uuid(_ text: String) throws(RouteError) -> UUID {
        guard text.utf8.count == 36, let id = UUID(uuidString: text) else {
            throw RouteError(.badRequest, parameter: "key_ID", "key_ID must be a UUID (8-4-4-4-12 hex digits), got '\(text.prefix(64))'")
        }
        return id
    }
}

/// A request body: a JSON object whose fields are all known (the standard's POST always has one; `{}` asks for
/// the defaults).
struct JSONBody {
    let object: [String: Any]

    init(_ body: ByteBuffer, fields: Set<String>) throws(RouteError) {
        let bytes = body.readableBytesView
        if bytes.allSatisfy({ [0x20, 0x09, 0x0A, 0x0D].contains($0) }) {
            throw RouteError(.badRequest, "a POST takes its request as a JSON object in the body ({} for the defaults)")
        }
        guard let parsed = try? JSONSerialization.jsonObject(with: Data(bytes)), let object = parsed as? [String: Any] else {
            throw RouteError(.badRequest, "the request body must be a JSON object (RFC 8259)")
        }
        if let unknown = object.keys.sorted().first(where: { !fields.contains($0) }) {
            throw RouteError(
                .badRequest, parameter: unknown,
                "'\(unknown)' is not a field of this request; it takes \(fields.sorted().joined(separator: ", "))")
        }
        self.object = object
    }

    /// A whole number, or `nil` when absent or null.
    func integer(_ name: String) throws(RouteError) -> Int? {
        guard let value = object[name], !(value is NSNull) else { return nil }
        // JSONSerialization gives booleans as numbers too; a boolean is not a count.
        guard let number = value as? NSNumber, !Self.isBoolean(number), let integer = Int(exactly: number.doubleValue)
        else {
            throw RouteError(.badRequest, parameter: name, "\(name) must be a whole number")
        }
        return integer
    }

    /// An array of strings, or empty when absent or null.
    func strings(_ name: String) throws(RouteError) -> [String] {
        guard let value = object[name], !(value is NSNull) else { return [] }
        guard let strings = value as? [String] else {
            throw RouteError(.badRequest, parameter: name, "\(name) must be an array of strings")
        }
        return strings
    }

    /// The names in an array of extension objects (`[{"name": value}, …]`), or empty when absent or null.
    func extensionNames(_ name: String) throws(RouteError) -> [String] {
        guard let value = object[name], !(value is NSNull) else { return [] }
        guard let objects = value as? [[String: Any]] else {
            throw RouteError(.badRequest, parameter: name, "\(name) must be an array of objects")
        }
        // An extension is named by its key: an empty object names none, and is no extension at all.
        if let empty = objects.firstIndex(where: \.isEmpty) {
            throw RouteError(.badRequest, parameter: name, "\(name)[\(empty)] is an empty object: it names no extension")
        }
        return objects.flatMap { $0.keys.sorted() }
    }

    private static func isBoolean(_ number: NSNumber) -> Bool {
        String(cString: number.objCType) == "c" || type(of: number) == type(of: NSNumber(value: true))
    }
}
