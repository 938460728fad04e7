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
    /// For 429: whole seconds until the request would be admitted, sent as `Retry-After`.
    var retryAfter: Int?
    /// More about the fault, for the `details` of an ETSI GS QKD 014 Error.
    var details: [[String: String]]

    init(
        _ status: HTTPResponse.Status, parameter: String? = nil, _ message: String, retryAfter: Int? = nil,
        details: [[String: String]] = []
    ) {
        self.status = status
        self.parameter = parameter
        self.message = message
        self.retryAfter = retryAfter
        self.details = details
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

    /// `count` bytes written by `fill`, as `application/octet-stream`.
    func octets(count: Int, _ fill: (UnsafeMutableRawBufferPointer) -> Void) -> Response {
        body(ZeroingAllocator.buffer(count: count, fill), contentType: "application/octet-stream")
    }

    func octets(_ bytes: [UInt8]) -> Response {
        octets(count: bytes.count) { body in bytes.withUnsafeBytes { body.copyMemory(from: $0) } }
    }

    /// `bytes` in lower-case hex and a newline, as text, written straight into the body.
    func hexText(_ bytes: [UInt8]) -> Response {
        let buffer = ZeroingAllocator.buffer(count: 2 * bytes.count + 1) { text in
            writeHexDigits(of: bytes, into: text)
            text[2 * bytes.count] = UInt8(ascii: "\n")
        }
        return body(buffer, contentType: "text/plain; charset=utf-8")
    }

    /// `bytes` in base64 and a newline, as text.
    func base64Text(_ bytes: [UInt8]) -> Response {
        let length = base64Length(of: bytes.count)
        let buffer = ZeroingAllocator.buffer(count: length + 1) { text in
            bytes.withUnsafeBytes { writeBase64Digits(of: $0, into: text) }
            text[length] = UInt8(ascii: "\n")
        }
        return body(buffer, contentType: "text/plain; charset=utf-8")
    }

    func json(_ document: [String: Any], status: HTTPResponse.Status = .ok) -> Response {
        var data = (try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys])) ?? Data("{}".utf8)
        data.append(UInt8(ascii: "\n"))
        defer { data.withUnsafeMutableBytes { secureZero($0) } }
        var response = body(copying: data, contentType: "application/json")
        response.status = status
        return response
    }

    private func body(copying data: Data, contentType: String) -> Response {
        let buffer = data.withUnsafeBytes { source in
            ZeroingAllocator.buffer(count: source.count) { $0.copyMemory(from: source) }
        }
        return body(buffer, contentType: contentType)
    }

    private func body(_ buffer: ByteBuffer, contentType: String) -> Response {
        Response(status: .ok, headers: headers(contentType: contentType), body: ResponseBody(byteBuffer: buffer))
    }

    /// The JSON error of a refused request to `path`: `success` false, `error`, and `parameter` when one is at
    /// fault; on the key-delivery routes, ETSI GS QKD 014's Error (§6.5), `message` and `details`, and 401
    /// rather than 403 for an SAE this KME does not serve, as the standard has it.
    func error(_ refusal: RouteError, path: String) -> Response {
        var document: [String: Any]
        var status = refusal.status
        if path.hasPrefix(Self.keyDeliveryPrefix) {
            document = ["message": refusal.message]
            let details = (refusal.parameter.map { [["parameter": $0]] } ?? []) + refusal.details
            if !details.isEmpty { document["details"] = details }
            if status == .forbidden { status = .unauthorized }
        } else {
            document = ["success": false, "error": refusal.message, "source": sourceLabel]
            if let parameter = refusal.parameter { document["parameter"] = parameter }
        }
        if let retryAfter = refusal.retryAfter { document["retryAfter"] = retryAfter }
        var response = json(document, status: status)
        if let retryAfter = refusal.retryAfter { response.headers[.retryAfter] = String(retryAfter) }
        return response
    }}
