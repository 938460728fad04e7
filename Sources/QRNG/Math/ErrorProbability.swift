#if canImport(Glibc)
import Glibc
#endif

/// A small probability of error, such as a health test's false-positive probability α or an extractor's
/// distance ε from uniform, kept as −log2 of its value.
///
/// These probabilities are usually powers of two (α = 2⁻³⁰, ε = 2⁻¹⁰⁰), and keeping the exponent makes them
/// exact and lets values far below the smallest `Double` (2⁻¹⁰⁷⁴) be used.
public struct ErrorProbability: Sendable, Hashable, CustomStringConvertible {
    /// −log2 of the probability, positive.
    public let negativeLog2: Double

    /// The probability 2^`exponent`, for a negative `exponent` such as −30.
    public init(log2 exponent: Double) throws(QRNGError) {
        guard exponent.isFinite && exponent < 0 else {
            throw .invalidArgument("probability", "must be in (0, 1), got 2^\(exponent)")
        }
        self.negativeLog2 = -exponent
    }

    /// The probability `value`, in (0, 1).
    public init(_ value: Double) throws(QRNGError) {
        guard value > 0 && value < 1 else {
            throw .invalidArgument("probability", "must be in (0, 1), got \(value)")
        }
        self.negativeLog2 = -log2(value)
    }

    /// Parses `2^-30`, `1e-9` or `0.000001`.
    public init(parsing text: String) throws(QRNGError) {
        let trimmed = text.filter { !$0.isWhitespace }
        if trimmed.hasPrefix("2^"), let exponent = Double(trimmed.dropFirst(2)) {
            try self.init(log2: exponent)
        } else if let value = Double(trimmed) {
            try self.init(value)
        } else {
            throw .invalidArgument("probability", "expected a probability such as 2^-30 or 1e-9, got '\(text)'")
        }
    }

    /// α = 2⁻³⁰, qrng's default false-positive probability for the health tests (SP 800-90B §4.3 recommends
    /// 2⁻²⁰ to 2⁻⁴⁰).
    public static let defaultAlpha = try! ErrorProbability(log2: -30)

    /// ε = 2⁻¹⁰⁰, qrng's default distance from uniform for seeded extractors.
    public static let defaultEpsilon = try! ErrorProbability(log2: -100)

    /// The probability itself (zero when below the smallest `Double`).
    public var value: Double { exp2(-negativeLog2) }

    public var description: String {
        negativeLog2 == negativeLog2.rounded() ? "2^-\(Int(negativeLog2))" : "\(value)"
    }
}
