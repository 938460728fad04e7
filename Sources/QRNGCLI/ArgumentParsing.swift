import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
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

/// The values a numeric option accepts, checked as the option is parsed: every numeric option of every command
/// goes through one of these, so that `nan`, `inf`, a negative count or a value off the physical scale is an
/// error naming the option (ArgumentParser puts it before the message), the value and the range, and never a
/// value that reaches the library, where it could trap or, worse, be used.
///
/// Used as an option's transform: `@Option(transform: NumericDomain(above: 0, through: 100).double)`. Relations
/// between options (m ≤ n, a claimed min-entropy within the sample width) stay in the commands' `validate()`.
struct NumericDomain: Sendable {
    let lower: Double
    let lowerIncluded: Bool
    let upper: Double
    let upperIncluded: Bool

    /// Values from `range.lowerBound` to `range.upperBound`, both included.
    init(_ range: ClosedRange<Double>) {
        self.init(lower: range.lowerBound, lowerIncluded: true, upper: range.upperBound, upperIncluded: true)
    }

    /// Values from `lowerBound` (included) to `upperBound` (excluded).
    init(_ range: Range<Double>) {
        self.init(lower: range.lowerBound, lowerIncluded: true, upper: range.upperBound, upperIncluded: false)
    }

    /// Values above `lower` (excluded) up to `upper` (included).
    init(above lower: Double, through upper: Double) {
        self.init(lower: lower, lowerIncluded: false, upper: upper, upperIncluded: true)
    }

    /// Values above `lower` up to `upper`, both excluded.
    init(above lower: Double, below upper: Double) {
        self.init(lower: lower, lowerIncluded: false, upper: upper, upperIncluded: false)
    }

    private init(lower: Double, lowerIncluded: Bool, upper: Double, upperIncluded: Bool) {
        self.lower = lower
        self.lowerIncluded = lowerIncluded
        self.upper = upper
        self.upperIncluded = upperIncluded
    }

    /// The range in interval notation, e.g. `(0, 100]`.
    var interval: String {
        "\(lowerIncluded ? "[" : "(")\(Self.format(lower)), \(Self.format(upper))\(upperIncluded ? "]" : ")")"
    }

    func contains(_ value: Double) -> Bool {
        (lowerIncluded ? value >= lower : value > lower) && (upperIncluded ? value <= upper : value < upper)
    }

    /// Parses a finite number in the domain.
    func double(_ text: String) throws -> Double {
        let trimmed = text.trimmingWhitespace()
        guard let value = Double(trimmed) else { throw ValidationError("expected a number in \(interval)") }
        guard value.isFinite, contains(value) else { throw ValidationError("must be in \(interval), got \(trimmed)") }
        return value == 0 ? 0 : value  // −0 is 0
    }

    /// Parses a whole number in the domain.
    func integer<Value: FixedWidthInteger>(_ text: String) throws -> Value {
        let trimmed = text.trimmingWhitespace()
        guard let value = Value(trimmed) else {
            if let number = Double(trimmed), number.isFinite, number == number.rounded(), !contains(number) {
                throw ValidationError("must be in \(interval), got \(trimmed)")
            }
            throw ValidationError("expected a whole number in \(interval)")
        }
        guard contains(Double(value)) else { throw ValidationError("must be in \(interval), got \(trimmed)") }
        return value
    }

    /// Parses a byte count with its suffixes (``parseByteCount(_:)``) in the domain.
    func byteCount(_ text: String) throws -> Int {
        let value = try parseByteCount(text)
        guard contains(Double(value)) else {
            throw ValidationError("must be in \(interval) bytes, got \(text.trimmingWhitespace())")
        }
        return value
    }

    /// Parses two numbers in the domain separated by a comma, such as the two detectors' values.
    func pair(_ text: String) throws -> [Double] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw ValidationError("expected two numbers in \(interval) separated by a comma") }
        return try parts.map { try double(String($0)) }
    }

    /// A bound as a user would write it: 1000000, 1e9, 0.5, 2^62.
    static func format(_ value: Double) -> String {
        if value == value.rounded() && abs(value) < 1e7 { return String(Int64(value)) }
        if value > 0, value.significandBitPattern == 0 { return "2^\(value.exponent)" }
        let decade = log10(abs(value)).rounded()
        if abs(value) == pow(10, decade) { return "\(value < 0 ? "-" : "")1e\(Int(decade))" }
        return "\(value)"
    }
}
