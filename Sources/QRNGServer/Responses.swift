import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import QRNG

/// A request the service refuses: its status, the query parameter at fault if any, and why.
struct RouteError: Error {
    let status: HTTPResponse.Status
    let parameter: String?
    let message: String

    init(_ status: HTTPResponse.Status, parameter: String? = nil, _ message: String) {
        self.status = status
        self.parameter = parameter
        self.message = message
    }
}

extension Hummingbird.Parameters {
    /// The whole number `name` in `range`; absent, malformed or out of range, a 400 naming it.
    func integer(_ name: String, in range: ClosedRange<Int>, meaning: String) throws(RouteError) -> Int {
        guard let text = self[Substring(name)] else {
            throw RouteError(.badRequest, parameter: name, "\(name)=N is required: \(meaning)")
        }
        guard let value = Int(text), range.contains(value) else {
            throw RouteError(
                .badRequest, parameter: name,
                "\(name) must be a whole number in \(range.lowerBound)...\(range.upperBound), got '\(text)'")
        }
        return value
    }

    /// The probability `name`, a decimal number in [0, 1], or `defaultValue` when absent.
    func probability(_ name: String, default defaultValue: Double) throws(RouteError) -> Double {
        guard let text = self[Substring(name)] else { return defaultValue }
        guard let value = Double(text), value.isFinite, (0...1).contains(value) else {
            throw RouteError(.badRequest, parameter: name, "\(name) must be a probability in [0, 1], got '\(text)'")
        }
        return value
    }

    /// The value of `name`, one of `choices`, or `defaultValue` when absent.
    func choice(_ name: String, of choices: [String], default defaultValue: String) throws(RouteError) -> String {
        guard let text = self[Substring(name)] else { return defaultValue }
        guard choices.contains(String(text)) else {
            throw RouteError(
                .badRequest, parameter: name,
                "\(name) is \(choices.dropLast().joined(separator: ", ")) or \(choices.last ?? ""), got '\(text)'")
        }
        return String(text)
    }
}

// The response bodies. Every response carries `Cache-Control: no-store` (random bytes must not be cached and
// served again) and `QRNG-Source`.
extension RandomnessService {
    func headers(contentType: String) -> HTTPFields {
        var fields = HTTPFields()
        fields[.contentType] = contentType
        fields[.cacheControl] = "no-store"
        fields[Self.sourceHeader] = sourceLabel
        return fields
    }

    static let sourceHeader = HTTPField.Name("QRNG-Source")!

    func octets(_ bytes: [UInt8]) -> Response {
        Response(
            status: .ok, headers: headers(contentType: "application/octet-stream"),
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    func text(_ body: String) -> Response {
        Response(
            status: .ok, headers: headers(contentType: "text/plain; charset=utf-8"),
            body: ResponseBody(byteBuffer: ByteBuffer(string: body + "\n")))
    }

    func json(_ document: [String: Any], status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys])) ?? Data("{}".utf8)
        var body = ByteBuffer(bytes: data)
        body.writeString("\n")
        return Response(status: status, headers: headers(contentType: "application/json"), body: ResponseBody(byteBuffer: body))
    }

    /// The JSON error of a refused request: `success` false, `error`, and `parameter` when one is at fault.
    func error(_ refusal: RouteError) -> Response {
        var document: [String: Any] = ["success": false, "error": refusal.message, "source": sourceLabel]
        if let parameter = refusal.parameter { document["parameter"] = parameter }
        return json(document, status: refusal.status)
    }

    func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(2 * bytes.count)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 15)])
        }
        defer { text.withUnsafeMutableBytes { secureZero($0) } }
        return String(decoding: text, as: UTF8.self)
    }
}
