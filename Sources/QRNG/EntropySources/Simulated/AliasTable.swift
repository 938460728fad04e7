/// Walker's alias method (in Vose's stable construction): draws from a fixed discrete distribution with one
/// 64-bit random number, in constant time.
///
/// The index comes from the high word of `u·n` and the coin that chooses between a column and its alias from
/// the low word, so each category's probability is exact to about n·2⁻⁶⁴.
struct AliasTable: Sendable, Hashable {
    private let thresholds: [UInt64]
    private let aliases: [Int32]

    /// Builds the table for `weights` (non-negative, not all zero; they need not sum to one).
    init(weights: [Double]) {
        precondition(!weights.isEmpty && weights.count < Int(Int32.max), "an alias table needs 1 to 2³¹ weights")
        let total = weights.reduce(0, +)
        precondition(total > 0 && weights.allSatisfy { $0 >= 0 }, "alias weights must be non-negative, not all zero")
        let n = weights.count
        var scaled = weights.map { $0 / total * Double(n) }
        var small: [Int] = []
        var large: [Int] = []
        for (index, value) in scaled.enumerated() {
            if value < 1 { small.append(index) } else { large.append(index) }
        }
        var thresholds = [UInt64](repeating: .max, count: n)
        var aliases = (0..<n).map { Int32($0) }
        while let lesser = small.popLast(), let greater = large.last {
            thresholds[lesser] = scaled[lesser] >= 1 ? .max : UInt64(scaled[lesser] * 0x1p64)
            aliases[lesser] = Int32(greater)
            scaled[greater] -= 1 - scaled[lesser]
            if scaled[greater] < 1 {
                large.removeLast()
                small.append(greater)
            }
        }
        // Whatever is left has weight one up to rounding: it always keeps its own column.
        self.thresholds = thresholds
        self.aliases = aliases
    }

    /// The category chosen by the uniform 64-bit `random`.
    @inline(__always)
    func draw(_ random: UInt64) -> Int {
        let (column, coin) = random.multipliedFullWidth(by: UInt64(thresholds.count))
        let index = Int(column)
        return coin < thresholds[index] ? index : Int(aliases[index])
    }
}
