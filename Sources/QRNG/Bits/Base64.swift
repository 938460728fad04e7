/// The length of `byteCount` bytes in padded base64 (RFC 4648 §4).
package func base64Length(of byteCount: Int) -> Int { (byteCount + 2) / 3 * 4 }

/// Writes `bytes` in padded base64 (RFC 4648 §4) at the start of `destination`, which must hold
/// ``base64Length(of:)`` bytes: written in place, so that random output leaves no unzeroed copy behind (Foundation's
/// encoder needs the bytes in a `Data` of its own first).
package func writeBase64Digits(of bytes: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer) {
    precondition(destination.count >= base64Length(of: bytes.count), "no room for the base64 digits")
    let alphabet: StaticString = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    alphabet.withUTF8Buffer { alphabet in
        var input = 0
        var output = 0
        while input < bytes.count {
            let remaining = bytes.count - input
            let group = UInt32(bytes[input]) << 16
                | (remaining > 1 ? UInt32(bytes[input + 1]) << 8 : 0)
                | (remaining > 2 ? UInt32(bytes[input + 2]) : 0)
            destination[output] = alphabet[Int(group >> 18)]
            destination[output + 1] = alphabet[Int(group >> 12 & 63)]
            destination[output + 2] = remaining > 1 ? alphabet[Int(group >> 6 & 63)] : UInt8(ascii: "=")
            destination[output + 3] = remaining > 2 ? alphabet[Int(group & 63)] : UInt8(ascii: "=")
            input += 3
            output += 4
        }
    }
}
