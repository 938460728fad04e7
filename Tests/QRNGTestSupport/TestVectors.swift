import Foundation
import QRNG

// Shared by every test target: the known-answer files of testvectors/ and seeded random inputs.

/// One record of a `.rsp` known-answer file: `key = value` lines, records separated by blank lines, `#` comments.
package struct VectorRecord: CustomStringConvertible {
    package let fields: [String: String]
    package let line: Int

    package func string(_ key: String) throws -> String {
        guard let value = fields[key] else { throw VectorError("record at line \(line) has no '\(key)'") }
        return value
    }

    package func int(_ key: String) throws -> Int {
        guard let value = Int(try string(key)) else { throw VectorError("'\(key)' at line \(line) is not an integer") }
        return value
    }

    package func double(_ key: String) throws -> Double {
        guard let value = Double(try string(key)) else { throw VectorError("'\(key)' at line \(line) is not a number") }
        return value
    }

    package func bytes(_ key: String) throws -> [UInt8] {
        let hex = Array(try string(key).utf8)
        guard hex.count % 2 == 0 else { throw VectorError("'\(key)' at line \(line) has an odd number of hex digits") }
        return try stride(from: 0, to: hex.count, by: 2).map { index in
            guard let byte = UInt8(String(decoding: hex[index..<index + 2], as: UTF8.self), radix: 16) else {
                throw VectorError("'\(key)' at line \(line) is not hex")
            }
            return byte
        }
    }

    /// A bit string packed MSB-first in hex, `count` bits long.
    package func bits(_ key: String, count: Int) throws -> BitBuffer {
        BitBuffer(packedBytes: try bytes(key), count: count)
    }

    package var description: String { "record at line \(line): " + fields.keys.sorted().joined(separator: ",") }
}

package struct VectorError: Error, CustomStringConvertible {
    package let description: String
    package init(_ description: String) { self.description = description }
}

package enum TestVectors {
    /// The repository's `testvectors/` folder, found by walking up from this source file.
    package static let directory: URL = {
        var url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while url.path != "/" {
            let candidate = url.appendingPathComponent("testvectors")
            if FileManager.default.fileExists(atPath: candidate.path) { return candidate }
            url.deleteLastPathComponent()
        }
        fatalError("testvectors/ not found above \(#filePath)")
    }()

    package static func records(_ relativePath: String) throws -> [VectorRecord] {
        let text = try String(contentsOf: directory.appendingPathComponent(relativePath), encoding: .utf8)
        var records: [VectorRecord] = []
        var fields: [String: String] = [:]
        var start = 0
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("#") || line.hasPrefix("[") { continue }  // comments, CAVP section headers
            if line.isEmpty {
                if !fields.isEmpty { records.append(VectorRecord(fields: fields, line: start)) }
                fields = [:]
                continue
            }
            guard let equals = line.firstIndex(of: "=") else {
                throw VectorError("\(relativePath):\(index + 1): expected 'key = value'")
            }
            if fields.isEmpty { start = index + 1 }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            fields[key] = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
        }
        if !fields.isEmpty { records.append(VectorRecord(fields: fields, line: start)) }
        return records
    }
}

/// Random bit strings for property tests, from a fixed seed.
extension BitBuffer {
    package static func random(count: Int, using generator: inout Xoshiro256StarStar) -> BitBuffer {
        let words = (0..<((count + 63) / 64)).map { _ in generator.next() }
        return BitBuffer(words: words, count: count)
    }
}
