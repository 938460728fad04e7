/// Writes `bytes` as lower-case hex digits, two per byte, at the start of `destination` (which must hold
/// 2 × `bytes.count`): the one hex encoder of the package, for journal checksums and for served randomness.
package func writeHexDigits<Bytes: Collection<UInt8>>(of bytes: Bytes, into destination: UnsafeMutableRawBufferPointer) {
    precondition(destination.count >= 2 * bytes.count, "no room for the hex digits")
    let digits: StaticString = "0123456789abcdef"
    digits.withUTF8Buffer { digits in
        var offset = 0
        for byte in bytes {
            destination[offset] = digits[Int(byte >> 4)]
            destination[offset + 1] = digits[Int(byte & 15)]
            offset += 2
        }
    }
}

/// `bytes` in lower-case hex; the scratch copy of the digits is zeroed, since the bytes may be random output.
package func hexString<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> String {
    var text = [UInt8](repeating: 0, count: 2 * bytes.count)
    defer { text.withUnsafeMutableBytes { secureZero($0) } }
    text.withUnsafeMutableBytes { writeHexDigits(of: bytes, into: $0) }
    return String(decoding: text, as: UTF8.self)
}
