import QRNG

extension MinEntropyAssessment.Report {
    /// The report as one JSON object (no whitespace), for machines and for records of how h was obtained.
    ///
    /// Fields: `track`, `mode`, `samples`, `bits_per_sample`, `alphabet_size`, `bitstring_length`; `estimators`, with
    /// one object per §6.3 estimator (keyed by each ``Estimate/Estimator`` case's raw value) holding `h_original` and
    /// `h_bitstring` (null when that sequence was not assessed or the estimator could not run); `h_original`,
    /// `h_bitstring` (null when not assessed) and `min_entropy` per sample; and for the IID track `iid`, the §5
    /// test outcomes. Numbers are written in the shortest form that reads back to the same `Double`.
    public var json: String {
        var fields: [String] = [
            "\"track\":\"\(track.rawValue)\"", "\"mode\":\"\(mode.rawValue)\"", "\"samples\":\(sampleCount)",
            "\"bits_per_sample\":\(bitsPerSample)", "\"alphabet_size\":\(alphabetSize)",
            "\"bitstring_length\":\(bitStringLength)",
        ]
        var estimators: [String] = []
        for estimator in Estimate.Estimator.allCases {
            let original = originalEstimates.first { $0.estimator == estimator }
            let bits = bitStringEstimates.first { $0.estimator == estimator }
            if original == nil && bits == nil { continue }
            estimators.append(
                "\"\(estimator.rawValue)\":{\"h_original\":\(Self.number(original?.minEntropy)),"
                    + "\"h_bitstring\":\(Self.number(bits?.minEntropy))}")
        }
        fields.append("\"estimators\":{" + estimators.joined(separator: ",") + "}")
        fields.append("\"h_original\":\(Self.number(hOriginal))")
        fields.append("\"h_bitstring\":\(Self.number(hBitString))")
        fields.append("\"min_entropy\":\(Self.number(minEntropy))")
        if let iidTests { fields.append("\"iid\":" + iidTests.json) }
        return "{" + fields.joined(separator: ",") + "}"
    }

    /// The report as text, laid out like the reference tool's verbose output: every estimator with its
    /// intermediate values, then H_original, H_bitstring and the assessed min-entropy.
    public var text: String {
        var lines: [String] = []
        let kind = track == .nonIID ? "non-IID (SP 800-90B §6.3)" : "IID (SP 800-90B §5, §6.3.1)"
        lines.append("SP 800-90B min-entropy assessment, \(kind), \(mode.rawValue) estimate")
        lines.append(
            "\(sampleCount) samples of \(bitsPerSample) bits, \(alphabetSize) distinct values"
                + (bitStringLength > 0 ? ", \(bitStringLength) bits in the bit string" : ""))
        func section(_ label: String, _ estimates: [Estimate], unit: String) {
            guard !estimates.isEmpty else { return }
            lines.append("")
            lines.append("\(label):")
            for estimate in estimates {
                let value = estimate.minEntropy.map { Self.fixed($0) + " / \(unit)" } ?? "not run"
                lines.append("  §\(estimate.estimator.section) \(estimate.estimator.title) Estimate = \(value)")
                if !estimate.details.isEmpty {
                    lines.append("      " + estimate.details.map { "\($0.name) = \(Self.number($0.value))" }
                        .joined(separator: ", "))
                }
            }
        }
        section("Literal (original samples)", originalEstimates, unit: "\(bitsPerSample) bit(s)")
        section("Bitstring", bitStringEstimates, unit: "1 bit(s)")
        if let iidTests {
            lines.append("")
            lines.append(contentsOf: iidTests.lines)
        }
        lines.append("")
        if let hOriginal { lines.append("H_original: \(Self.fixed(hOriginal))") }
        if let hBitString { lines.append("H_bitstring: \(Self.fixed(hBitString))") }
        if let hOriginal, let hBitString {
            lines.append("min(H_original, \(bitsPerSample) X H_bitstring): "
                + Self.fixed(min(hOriginal, Double(bitsPerSample) * hBitString)))
        } else if mode == .conditioned, let hBitString {
            lines.append("h': \(Self.fixed(hBitString))")
        }
        lines.append("Assessed min-entropy: \(Self.fixed(minEntropy)) bits per sample "
            + "(\(Self.fixed(minEntropyPerBit)) per bit)")
        return lines.joined(separator: "\n")
    }

    static func number(_ value: Double?) -> String {
        guard let value else { return "null" }
        guard value.isFinite else { return "null" }
        return "\(value)"
    }

    /// Six decimals, as the reference tool prints its summary lines (`%f`).
    static func fixed(_ value: Double) -> String {
        let scaled = (abs(value) * 1_000_000).rounded()
        let whole = Int(scaled / 1_000_000)
        let fraction = Int(scaled) - whole * 1_000_000
        let digits = String(fraction)
        let sign = value < 0 && scaled > 0 ? "-" : ""
        return sign + "\(whole)." + String(repeating: "0", count: 6 - digits.count) + digits
    }
}
