import Foundation
import QRNG

/// The JSON layouts of ANU's QRNG API: `uint8` (one number per byte), `uint16` (big-endian pairs) and `hex16`
/// (blocks of `size` bytes as hex strings).
enum JSONLayout: Equatable {
    case uint8
    case uint16
    case hex16(size: Int)

    /// The layout of `type` (already one of the three) with blocks of `size` bytes (hex16; 2 when `nil`), for
    /// `bytes` bytes: uint16 needs an even count, hex16 a size that divides it.
    static func parse(type: String, size: Int?, bytes: Int) throws(RouteError) -> JSONLayout {
        switch type {
        case "uint16":
            guard bytes % 2 == 0 else {
                throw RouteError(.badRequest, parameter: "bytes", "type=uint16 needs an even number of bytes, got \(bytes)")
            }
            return .uint16
        case "hex16":
            let block = size ?? 2
            guard bytes % block == 0 else {
                throw RouteError(
                    .badRequest, parameter: "size", "size must be a whole number of bytes that divides bytes=\(bytes), got \(block)")
            }
            return .hex16(size: block)
        default:
            return .uint8
        }
    }

    func document(_ bytes: [UInt8], source: String) -> [String: Any] {
        var document: [String: Any] = ["success": true, "source": source]
        switch self {
        case .uint8:
            document["type"] = "uint8"
            document["length"] = bytes.count
            document["size"] = 1
            document["data"] = bytes.map(Int.init)
        case .uint16:
            document["type"] = "uint16"
            document["length"] = bytes.count / 2
            document["size"] = 2
            document["data"] = stride(from: 0, to: bytes.count, by: 2).map { Int(bytes[$0]) << 8 | Int(bytes[$0 + 1]) }
        case .hex16(let size):
            document["type"] = "hex16"
            document["length"] = bytes.count / size
            document["size"] = size
            document["data"] = stride(from: 0, to: bytes.count, by: size).map { start in
                hexString(bytes[start..<start + size])
            }
        }
        return document
    }
}
