/// A measurement basis of the BB84 protocol.
public enum Basis: UInt8, Sendable, Hashable, CaseIterable {
    /// The rectilinear (Z) basis: horizontal and vertical polarisation.
    case rectilinear = 0
    /// The diagonal (X) basis: ±45° polarisation.
    case diagonal = 1
}

extension EntropyPool {
    /// Returns `count` uniform BB84 basis choices, one fresh bit each: 0 → rectilinear, 1 → diagonal.
    ///
    /// - Throws: The pool's closing reason, when it closes first.
    public func basisChoices(count: Int) throws(QRNGError) -> [Basis] {
        guard count >= 0 else { throw .invalidArgument("choice count", "must not be negative, got \(count)") }
        var bits = try take(bits: count)
        defer { bits.removeAll() }
        return bits.words.withUnsafeBufferPointer { words in
            (0..<count).map { index in
                (words[index >> 6] >> UInt64(63 - (index & 63))) & 1 == 0 ? .rectilinear : .diagonal
            }
        }
    }
}
