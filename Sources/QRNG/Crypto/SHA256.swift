internal import CQRNGOpenSSL

/// SHA-256 through OpenSSL's EVP interface: the vetted hash of SP 800-90B's conditioning (§3.1.5.1.1).
///
/// The usual init / update / finalize shape around a private OpenSSL context. OpenSSL failures here can only
/// come from memory exhaustion or a broken library, so they stop the program.
public struct SHA256: ~Copyable {
    /// The digest length in bytes.
    public static let byteCount = 32

    private let context: OpaquePointer

    /// SHA-256 fetched from OpenSSL's default provider once: an implicit fetch per digest costs more than
    /// hashing a 64-byte block. Fetched algorithms are immutable and safe to share between threads.
    nonisolated(unsafe) private static let algorithm: OpaquePointer = {
        guard let algorithm = EVP_MD_fetch(nil, "SHA256", nil) else {
            fatalError("qrng: OpenSSL has no SHA-256: \(openSSLErrors())")
        }
        return algorithm
    }()

    /// Starts a new digest.
    public init() {
        guard let context = EVP_MD_CTX_new() else { fatalError("qrng: OpenSSL could not allocate a digest") }
        self.context = context
        start()
    }

    private func start() {
        guard EVP_DigestInit_ex(context, Self.algorithm, nil) == 1 else {
            fatalError("qrng: OpenSSL SHA-256 initialisation failed: \(openSSLErrors())")
        }
    }

    deinit {
        EVP_MD_CTX_free(context)
    }

    /// Adds `bytes` to the message.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        guard EVP_DigestUpdate(context, bytes.baseAddress, bytes.count) == 1 else {
            fatalError("qrng: OpenSSL SHA-256 update failed: \(openSSLErrors())")
        }
    }

    /// Adds `bytes` to the message.
    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// Ends the message and returns its 32-byte digest.
    public consuming func finalize() -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: Self.byteCount)
        digest.withUnsafeMutableBytes { finalizeAndRestart(into: $0) }
        return digest
    }

    /// Writes the message's 32-byte digest to `destination` and starts a new message on the same context,
    /// which saves an allocation per digest when many short messages are hashed.
    public mutating func finalizeAndRestart(into destination: UnsafeMutableRawBufferPointer) {
        precondition(destination.count >= Self.byteCount, "a SHA-256 digest needs 32 bytes")
        var length: UInt32 = 0
        let status = EVP_DigestFinal_ex(
            context, destination.baseAddress!.assumingMemoryBound(to: UInt8.self), &length)
        guard status == 1, length == UInt32(Self.byteCount) else {
            fatalError("qrng: OpenSSL SHA-256 finalisation failed: \(openSSLErrors())")
        }
        start()
    }

    /// The digest of `bytes`.
    public static func hash(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var digest = SHA256()
        digest.update(bytes)
        return digest.finalize()
    }

    /// Writes the digest of `bytes` to the first 32 bytes of `destination`, with OpenSSL's one-shot digest and
    /// no allocation.
    public static func hash(_ bytes: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer) {
        precondition(destination.count >= byteCount, "a SHA-256 digest needs 32 bytes")
        var length: UInt32 = 0
        let status = EVP_Digest(
            bytes.baseAddress, bytes.count, destination.baseAddress!.assumingMemoryBound(to: UInt8.self), &length,
            algorithm, nil)
        guard status == 1, length == UInt32(byteCount) else {
            fatalError("qrng: OpenSSL SHA-256 failed: \(openSSLErrors())")
        }
    }

    /// The digest of `bytes`.
    public static func hash(_ bytes: [UInt8]) -> [UInt8] {
        bytes.withUnsafeBytes { hash($0) }
    }
}

/// Drains OpenSSL's error queue into one line: the only place qrng reads it.
func openSSLErrors() -> String {
    var messages: [String] = []
    while true {
        let code = ERR_get_error()
        guard code != 0 else { break }
        var buffer = [UInt8](repeating: 0, count: 256)
        buffer.withUnsafeMutableBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { ERR_error_string_n(code, $0.baseAddress, $0.count) }
        }
        messages.append(String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self))
    }
    return messages.isEmpty ? "no OpenSSL error recorded" : messages.joined(separator: "; ")
}
