internal import CQRNGOpenSSL

/// Overwrites `buffer` with zeros in a way the optimiser may not remove (OpenSSL's `OPENSSL_cleanse`).
///
/// Used wherever random bits that were handed out, or are about to be freed, must not linger in memory.
public func secureZero(_ buffer: UnsafeMutableRawBufferPointer) {
    guard let base = buffer.baseAddress, buffer.count > 0 else { return }
    OPENSSL_cleanse(base, buffer.count)
}
