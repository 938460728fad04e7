/// Walker's alias method (in Vose's stable construction): draws one of a fixed set of values with given
/// probabilities, using one 64-bit random number and no branch on the outcome.
///
/// The column comes from the high word of `u·n` and the coin that chooses between the column's own value and
/// its alias from the low word, so each value's probability is exact to about n·2⁻⁶⁴.
struct AliasTable: Sendable, Hashable {
    /// Per column: the coin threshold, the column's own value and its alias's, side by side.
    private let columns: [Column]

    private struct Column: Sendable, Hashable {
        var threshold: UInt64
        var own: UInt64
        var alias: UInt64
    }

    /// Builds the table drawing `values[i]` with probability proportional to `weights[i]` (non-negative, not all
    /// zero).
    init(weights: [Double], values: [UInt64]) {
        precondition(!weights.isEmpty && weights.count == values.count, "one weight per value")
        let total = weights.reduce(0, +)
        precondition(total > 0 && weights.allSatisfy { $0 >= 0 }, "alias weights must be non-negative, not all zero")
        let n = weights.count
        var scaled = weights.map { $0 / total * Double(n) }
        var small: [Int] = []
        var large: [Int] = []
        for (index, value) in scaled.enumerated() {
            if value < 1 { small.append(index) } else { large.append(index) }
        }
        var columns = (0..<n).map { Column(threshold: .max, own: values[$0], alias: values[$0]) }
        while let lesser = small.popLast(), let greater = large.last {
            columns[lesser].threshold = UInt64(scaled[lesser] * 0x1p64)
            columns[lesser].alias = values[greater]
            scaled[greater] -= 1 - scaled[lesser]
            if scaled[greater] < 1 {
                large.removeLast()
                small.append(greater)
            }
        }
        // Whatever is left has weight one up to rounding: it always keeps its own value.
        self.columns = columns
    }

    /// The value chosen by the uniform 64-bit `random`.
    @inline(__always)
    func draw(_ random: UInt64) -> UInt64 {
        columns.withUnsafeBufferPointer { columns in
            let (column, coin) = random.multipliedFullWidth(by: UInt64(columns.count))
            let entry = columns[Int(column)]
            // A mask instead of a branch: the coin is a fair guess for the branch predictor.
            let keepOwn: UInt64 = coin < entry.threshold ? .max : 0
            return entry.alias ^ ((entry.own ^ entry.alias) & keepOwn)
        }
    }
}
