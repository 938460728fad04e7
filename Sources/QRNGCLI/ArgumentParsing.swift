import ArgumentParser
import QRNG

/// Parses a byte count such as `1000000`, `64K`, `1M`, `1MB` or `2GiB`.
///
/// As in dd: `K`, `M`, `G`, `T` and `KiB`, `MiB`, `GiB`, `TiB` are powers of 1024; `KB`, `MB`, `GB`, `TB` are
/// powers of 1000. Case is ignored.
func parseByteCount(_ text: String) throws -> Int {
    let trimmed = text.trimmingWhitespace()
    let digits = trimmed.prefix { $0.isNumber }
    let suffix = trimmed.dropFirst(digits.count).lowercased()
    if trimmed.hasPrefix("-") { throw ValidationError("a byte count cannot be negative, got '\(text)'") }
    guard !digits.isEmpty, let value = Int(digits) else {
        throw ValidationError("expected a byte count such as 1000000, 64K or 1M, got '\(text)'")
    }
    let powers = ["": 0, "k": 1, "m": 2, "g": 3, "t": 4]
    let multiplier: Int
    if let power = powers[suffix] {
        multiplier = 1 << (10 * power)
    } else if suffix.hasSuffix("ib"), let power = powers[String(suffix.dropLast(2))], power > 0 {
        multiplier = 1 << (10 * power)
    } else if suffix.hasSuffix("b"), let power = powers[String(suffix.dropLast())], power > 0 {
        multiplier = (0..<power).reduce(1) { result, _ in result * 1000 }
    } else {
        throw ValidationError("unknown size suffix '\(trimmed.dropFirst(digits.count))' in '\(text)'; use K, M, G, T, KB, MB, …")
    }
    let (bytes, overflow) = value.multipliedReportingOverflow(by: multiplier)
    guard !overflow else { throw ValidationError("byte count '\(text)' is too large") }
    return bytes
}

/// Parses a probability such as `2^-30` or `1e-9`, naming the option in the error.
func parseProbability(_ text: String, option: String) throws -> ErrorProbability {
    do {
        return try ErrorProbability(parsing: text)
    } catch {
        throw ValidationError("\(option): \(error.message)")
    }
}

/// Parses a 64-bit unsigned seed.
func parseSeed(_ text: String) throws -> UInt64 {
    guard let seed = UInt64(text.trimmingWhitespace()) else {
        throw ValidationError("a seed is a whole number from 0 to \(UInt64.max), got '\(text)'")
    }
    return seed
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        String(drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}
