/// A measurement basis of the BB84 protocol.
public enum Basis: UInt8, Sendable, Hashable, CaseIterable {
    /// The rectilinear (Z) basis: horizontal and vertical polarisation.
    case rectilinear = 0
    /// The diagonal (X) basis: ±45° polarisation.
    case diagonal = 1
}

/// A measurement basis of the six-state protocol.
public enum SixStateBasis: UInt8, Sendable, Hashable, CaseIterable {
    /// The rectilinear (Z) basis.
    case rectilinear = 0
    /// The diagonal (X) basis.
    case diagonal = 1
    /// The circular (Y) basis.
    case circular = 2
}

extension EntropyPool {
    /// Returns `count` uniform BB84 basis choices, one fresh bit each: 0 → rectilinear, 1 → diagonal.
    ///
    /// - Throws: The pool's closing reason, when it closes first.
    public func basisChoices(count: Int) throws(QRNGError) -> [Basis] {
        guard count >= 0 else { throw .invalidArgument("choice count", "must not be negative, got \(count)") }
        var choices = [Basis](repeating: .rectilinear, count: count)
        // `withUnsafeMutableBufferPointer` rethrows untyped errors, so the typed error travels in a `Result`.
        let outcome = choices.withUnsafeMutableBufferPointer { buffer in
            Result { () throws(QRNGError) in try basisChoices(into: buffer) }
        }
        try outcome.get()
        return choices
    }

    /// Fills `destination` with uniform BB84 basis choices, one fresh bit each, without allocating.
    ///
    /// Bits are expanded eight at a time through a table, so bulk requests run at memory speed.
    /// - Throws: The pool's closing reason, when it closes first; `destination` is then left unspecified.
    public func basisChoices(into destination: UnsafeMutableBufferPointer<Basis>) throws(QRNGError) {
        let count = destination.count
        guard count > 0 else { return }
        var bits = try take(bits: count)
        defer { bits.removeAll() }
        let raw = UnsafeMutableRawBufferPointer(destination)
        bits.words.withUnsafeBufferPointer { words in
            byteExpansion.withUnsafeBufferPointer { table in
                var offset = 0
                for word in words {
                    var value = word
                    for _ in 0..<8 where offset < count {
                        let expanded = table[Int(value >> 56)].littleEndian
                        if count - offset >= 8 {
                            raw.storeBytes(of: expanded, toByteOffset: offset, as: UInt64.self)
                        } else {
                            withUnsafeBytes(of: expanded) { bytes in
                                for index in 0..<(count - offset) { raw[offset + index] = bytes[index] }
                            }
                        }
                        offset += 8
                        value <<= 8
                    }
                }
            }
        }
    }
}

/// For each byte, eight bytes of 0 or 1 in memory order, the byte's most significant bit first.
private let byteExpansion: [UInt64] = (0..<256).map { byte in
    var expanded: UInt64 = 0
    for bit in 0..<8 where (byte >> (7 - bit)) & 1 == 1 {
        expanded |= 1 << UInt64(8 * bit)  // stored little-endian: byte `bit` lands at memory offset `bit`
    }
    return expanded
}
