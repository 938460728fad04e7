/// Uniform draws from {0, …, n − 1} without modulo bias, using few random bits.
///
/// A draw of w bits is read as a number x; when x < nᵈ (the largest power of n not above 2ʷ) it gives d
/// base-n digits, each uniform and independent, else it is rejected and w fresh bits are read. The width w
/// (1 to 64) is chosen to minimise the expected bits for the whole request, w·⌈count/d⌉ / (nᵈ/2ʷ): one
/// six-state choice reads 2 bits at a time (3 of 4 values kept), a handful read bytes (five choices from 243
/// of the 256 values), millions read 46 bits for 29 choices: 1.63 bits per choice against the log2 3 = 1.585
/// minimum.
struct DigitPlan: Sendable, Hashable {
    let base: UInt64
    let width: Int
    let digitsPerDraw: Int
    /// nᵈ: draws at or above it are rejected.
    let limit: UInt64

    init(base: UInt64, count: Int) {
        precondition(base >= 2, "a uniform choice needs at least two values")
        var best = (cost: Double.infinity, width: 64, digits: 1, limit: base)
        for width in 1...64 {
            var digits = 0
            var power: UInt64 = 1
            while true {
                let (next, overflow) = power.multipliedReportingOverflow(by: base)
                if overflow || (width < 64 && next > UInt64(1) << UInt64(width)) { break }
                power = next
                digits += 1
            }
            guard digits > 0 else { continue }
            let acceptance = Double(power) / (width == 64 ? 0x1p64 : Double(UInt64(1) << UInt64(width)))
            let draws = (max(count, 1) + digits - 1) / digits
            let cost = Double(width * draws) / acceptance
            if cost < best.cost - 1e-12 { best = (cost, width, digits, power) }
        }
        self.base = base
        self.width = best.width
        self.digitsPerDraw = best.digits
        self.limit = best.limit
    }

    /// Expected random bits per digit.
    var bitsPerDigit: Double {
        let range = width == 64 ? 0x1p64 : Double(UInt64(1) << UInt64(width))
        return Double(width) / (Double(digitsPerDraw) * Double(limit) / range)
    }

    /// Calls `emit` with `count` uniform digits read through `reader`.
    func draw(_ count: Int, from reader: PoolBitReader, _ emit: (UInt64) -> Void) throws(QRNGError) {
        var produced = 0
        while produced < count {
            var value = try reader.read(width)
            guard value < limit else { continue }
            for _ in 0..<min(digitsPerDraw, count - produced) {
                emit(value % base)
                value /= base
                produced += 1
            }
        }
    }
}

extension EntropyPool {
    /// Returns `count` integers drawn uniformly from `range`, without modulo bias.
    ///
    /// Uses about log2 of the range's size in fresh bits per value (see the draw plan above); bits read but
    /// not used are zeroed and dropped, never handed to anyone.
    /// - Throws: ``QRNGError/Code/invalidArgument`` for a negative count or an empty range; the pool's closing
    ///   reason.
    public func uniformIntegers(count: Int, in range: ClosedRange<Int>) throws(QRNGError) -> [Int] {
        guard count >= 0 else { throw .invalidArgument("count", "must not be negative, got \(count)") }
        let size = UInt64(bitPattern: Int64(range.upperBound &- range.lowerBound)) &+ 1
        if size == 0 {  // the whole of Int: every 64-bit word is a value
            return try randomWords(count: count).map { Int(bitPattern: UInt($0)) }
        }
        if size == 1 { return Array(repeating: range.lowerBound, count: count) }
        let plan = DigitPlan(base: size, count: count)
        let reader = PoolBitReader(pool: self, expectedBits: Int(Double(count) * plan.bitsPerDigit))
        var values: [Int] = []
        values.reserveCapacity(count)
        try plan.draw(count, from: reader) { values.append(range.lowerBound &+ Int(bitPattern: UInt($0))) }
        return values
    }

    /// Returns `count` uniform choices among the three bases of the six-state protocol, without modulo bias.
    public func sixStateBasisChoices(count: Int) throws(QRNGError) -> [SixStateBasis] {
        guard count >= 0 else { throw .invalidArgument("choice count", "must not be negative, got \(count)") }
        let plan = DigitPlan(base: 3, count: count)
        let reader = PoolBitReader(pool: self, expectedBits: Int(Double(count) * plan.bitsPerDigit))
        var choices: [SixStateBasis] = []
        choices.reserveCapacity(count)
        try plan.draw(count, from: reader) { choices.append(SixStateBasis(rawValue: UInt8($0))!) }
        return choices
    }

    /// Returns `count` BB84 basis choices that are rectilinear with probability `probabilityOfRectilinear`
    /// rounded to a multiple of 2^−`precisionBits`, exactly: the efficient BB84 protocol's biased choice.
    ///
    /// Each choice compares fresh uniform bits u₁u₂… with the binary digits p₁p₂…p_k of the probability, one at
    /// a time: the first position where they differ decides (u < p: rectilinear), and u = p over all k digits
    /// means u ≥ p (diagonal). P(rectilinear) is then exactly p, and a choice reads only the bits up to that
    /// first difference: two on average, whatever p, and never more than k.
    ///
    /// - Parameters:
    ///   - count: The number of choices.
    ///   - probabilityOfRectilinear: p_Z, in [0, 1].
    ///   - precisionBits: k, 1 to 64; p_Z is rounded to the nearest multiple of 2⁻ᵏ.
    public func biasedBasisChoices(count: Int, probabilityOfRectilinear: Double, precisionBits: Int = 32)
        throws(QRNGError) -> [Basis]
    {
        guard count >= 0 else { throw .invalidArgument("choice count", "must not be negative, got \(count)") }
        guard probabilityOfRectilinear >= 0 && probabilityOfRectilinear <= 1 else {
            throw .invalidArgument("probability", "p_Z must be in [0, 1], got \(probabilityOfRectilinear)")
        }
        guard (1...64).contains(precisionBits) else {
            throw .invalidArgument("precision bits", "must be 1 to 64, got \(precisionBits)")
        }
        // p's k binary digits, left-aligned; p = 1 is all k digits one plus the carry: every u < 1.
        let scaled = (probabilityOfRectilinear * (precisionBits == 64 ? 0x1p64 : Double(UInt64(1) << UInt64(precisionBits))))
            .rounded()
        if scaled >= (precisionBits == 64 ? 0x1p64 : Double(UInt64(1) << UInt64(precisionBits))) {
            return Array(repeating: .rectilinear, count: count)
        }
        let digits = precisionBits == 64 ? UInt64(scaled) : UInt64(scaled) << UInt64(64 - precisionBits)
        let reader = PoolBitReader(pool: self, expectedBits: 2 * count)
        var choices: [Basis] = []
        choices.reserveCapacity(count)
        for _ in 0..<count {
            let difference = try reader.peek(precisionBits) ^ digits
            let position = difference.leadingZeroBitCount
            if position >= precisionBits {
                reader.advance(precisionBits)
                choices.append(.diagonal)
            } else {
                reader.advance(position + 1)
                // At the first difference p has a one exactly when u has a zero, that is when u < p.
                choices.append((digits >> UInt64(63 - position)) & 1 == 1 ? .rectilinear : .diagonal)
            }
        }
        return choices
    }
}
