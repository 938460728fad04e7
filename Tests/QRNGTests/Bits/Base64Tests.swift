import Foundation
import QRNG
import Testing

@Suite struct Base64Tests {
    private func encoded(_ bytes: [UInt8]) -> String {
        var text = [UInt8](repeating: 0, count: base64Length(of: bytes.count))
        bytes.withUnsafeBytes { source in text.withUnsafeMutableBytes { writeBase64Digits(of: source, into: $0) } }
        return String(decoding: text, as: UTF8.self)
    }

    /// RFC 4648 §10's test vectors.
    @Test func rfc4648Vectors() {
        let vectors = [
            ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ]
        for (input, output) in vectors { #expect(encoded(Array(input.utf8)) == output, "\(input)") }
    }

    /// Every length from 0 to 300 and every byte value, against Foundation's encoder.
    @Test func agreesWithFoundation() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for length in 0...300 {
            let bytes = (0..<length).map { _ -> UInt8 in
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return UInt8(truncatingIfNeeded: state >> 56)
            }
            #expect(encoded(bytes) == Data(bytes).base64EncodedString(), "length \(length)")
        }
        #expect(encoded(Array(0...255)) == Data(Array(0...255)).base64EncodedString())
    }
}
