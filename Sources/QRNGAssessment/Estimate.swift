import QRNG

/// The result of one SP 800-90B §6.3 estimator on one sequence (the samples or their bit string).
public struct Estimate: Sendable, Hashable, CustomStringConvertible {
    /// The ten estimators of SP 800-90B §6.3, in the standard's order.
    public enum Estimator: String, CaseIterable, Sendable, Hashable {
        case mostCommonValue = "most_common_value"
        case collision
        case markov
        case compression
        case tTuple = "t_tuple"
        case longestRepeatedSubstring = "lrs"
        case multiMCW = "multi_mcw"
        case lag
        case multiMMC = "multi_mmc"
        case lz78y

        /// The estimator's name as SP 800-90B and the reference tool print it.
        public var title: String {
            switch self {
            case .mostCommonValue: "Most Common Value"
            case .collision: "Collision"
            case .markov: "Markov"
            case .compression: "Compression"
            case .tTuple: "t-Tuple"
            case .longestRepeatedSubstring: "LRS"
            case .multiMCW: "MultiMCW Prediction"
            case .lag: "Lag Prediction"
            case .multiMMC: "MultiMMC Prediction"
            case .lz78y: "LZ78Y Prediction"
            }
        }

        /// The section of SP 800-90B that defines the estimator.
        public var section: String {
            "6.3.\(Self.allCases.firstIndex(of: self)! + 1)"
        }
    }

    /// One intermediate value, named as in the reference tool's verbose output (e.g. `p-hat`, `P_global'`).
    public struct Detail: Sendable, Hashable {
        /// The value's name.
        public let name: String
        /// The value.
        public let value: Double
    }

    /// Which estimator this is.
    public let estimator: Estimator
    /// The min-entropy per symbol (per bit for the bit string), or `nil` when the estimator could not run: too few
    /// samples, or (t-tuple, LRS) no tuple repeated often enough. The reference tool then leaves it out of the
    /// minimum, and so does qrng.
    public let minEntropy: Double?
    /// The intermediate values.
    public let details: [Detail]

    init(_ estimator: Estimator, _ minEntropy: Double?, _ details: [(String, Double)] = []) {
        self.estimator = estimator
        self.minEntropy = minEntropy
        self.details = details.map { Detail(name: $0.0, value: $0.1) }
    }

    public var description: String {
        let value = minEntropy.map { String($0) } ?? "not run"
        let parts = details.map { "\($0.name) = \($0.value)" }.joined(separator: ", ")
        return "\(estimator.title) (§\(estimator.section)): \(value)" + (parts.isEmpty ? "" : " [\(parts)]")
    }
}
