import QRNG

/// How the service acts as an ETSI GS QKD 014 key management entity (KME): its name, the key sizes and counts it
/// allows, and how long a key waits for its slaves. Each limit is reported to SAEs by the `status` route under the
/// standard's field name, given here beside it.
public struct KeyDeliverySettings: Sendable, Hashable {
    /// The KME's name: `source_KME_ID` and `target_KME_ID` (one KME serves both ends here).
    public var kmeID: String
    /// The size of a key when a request names none, in bits: `key_size`.
    public var keySize = 256
    /// The smallest key size a request may ask for, in bits: `min_key_size`.
    public var minKeySize = 64
    /// The largest key size a request may ask for, in bits: `max_key_size`.
    public var maxKeySize = 8192
    /// The most keys one request may create or fetch: `max_key_per_request`.
    public var maxKeysPerRequest = 128
    /// The most keys held at once, over all SAE pairs; beyond, `enc_keys` gets 503: `max_key_count`.
    public var maxStoredKeys = 10_000
    /// The most additional slaves one key may be made for (key multicast): `max_SAE_ID_count`.
    public var maxAdditionalSlaves = 8
    /// How long a key waits for its slaves; after it, it is zeroed and can no longer be fetched.
    public var keyLifetime: Duration = .seconds(300)

    public init(kmeID: String) {
        self.kmeID = kmeID
    }

    /// Refuses settings no KME could honour, naming the field at fault.
    public func validate() throws(QRNGError) {
        func require(_ condition: Bool, _ field: String, _ why: String) throws(QRNGError) {
            if !condition { throw QRNGError.invalidArgument(field, why) }
        }
        try require(!kmeID.isEmpty && kmeID.utf8.count <= 256, "kmeID", "the KME ID must be 1 to 256 bytes")
        try require(minKeySize >= 8 && minKeySize % 8 == 0, "minKeySize", "must be a positive multiple of 8 bits, got \(minKeySize)")
        try require(
            maxKeySize >= minKeySize && maxKeySize % 8 == 0 && maxKeySize <= 1 << 20, "maxKeySize",
            "must be a multiple of 8 bits from the minimum key size (\(minKeySize)) to 1048576, got \(maxKeySize)")
        try require(
            (minKeySize...maxKeySize).contains(keySize) && keySize % 8 == 0, "keySize",
            "must be a multiple of 8 bits in \(minKeySize)...\(maxKeySize), got \(keySize)")
        try require((1...100_000).contains(maxKeysPerRequest), "maxKeysPerRequest", "must be in 1...100000, got \(maxKeysPerRequest)")
        try require(
            maxStoredKeys >= maxKeysPerRequest && maxStoredKeys <= 10_000_000, "maxStoredKeys",
            "must be from the keys per request (\(maxKeysPerRequest)) to 10000000, got \(maxStoredKeys)")
        try require((0...1000).contains(maxAdditionalSlaves), "maxAdditionalSlaves", "must be in 0...1000, got \(maxAdditionalSlaves)")
        try require(
            keyLifetime >= .seconds(1) && keyLifetime <= .seconds(86400 * 7), "keyLifetime",
            "must be from 1 s to 7 days, got \(keyLifetime)")
    }
}
