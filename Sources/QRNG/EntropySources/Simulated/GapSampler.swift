#if canImport(Glibc)
import Glibc
#endif

/// Draws the number of empty pulses before the next click together with that click's outcome.
///
/// The gap is geometric, P(k) = (1 − q)ᵏ·q with q = P(click), and the outcome is D0, D1 or both in proportion
/// to their probabilities, independent of the gap. Gaps below `tableGaps` and their outcomes are drawn jointly
/// from one alias table with a single random number; the rare longer gaps use the table's tail category and
/// then the inverse transform (memorylessness makes the remainder geometric again).
struct GapSampler: Sendable, Hashable {
    private let table: AliasTable
    private let tableGaps: Int
    /// log(1 − q); zero when no pulse can click.
    private let logOfNoClick: Double
    private let outcomes: AliasTable

    init(_ probabilities: ClickProbabilities) {
        let click = 1 - probabilities.none
        let conditional = [probabilities.d0, probabilities.d1, probabilities.both].map { click > 0 ? $0 / click : 0 }
        let outcomes: [ClickOutcome] = [.d0, .d1, .both]
        logOfNoClick = click > 0 ? log1p(-click) : 0
        // Enough gaps that the tail is rarer than 2⁻¹⁰, but no more than 4096 table entries.
        let wanted = logOfNoClick < 0 ? Int((-10 * M_LN2 / logOfNoClick).rounded(.up)) : 1
        tableGaps = max(1, min(wanted, 1365))
        var weights: [Double] = []
        var values: [UInt64] = []
        for gap in 0..<tableGaps {
            // Gap 0 spelled out: when every pulse clicks, log(1 − q) is −∞ and 0·(−∞) is not a number.
            let pGap = (gap == 0 ? 1 : exp(Double(gap) * logOfNoClick)) * click
            for (outcome, probability) in zip(outcomes, conditional) {
                weights.append(pGap * probability)
                values.append(Self.pack(gap: UInt64(gap), outcome))
            }
        }
        weights.append(exp(Double(tableGaps) * logOfNoClick))  // P(gap ≥ tableGaps)
        values.append(Self.tail)
        table = AliasTable(weights: weights, values: values)
        self.outcomes = AliasTable(
            weights: click > 0 ? conditional : [1, 0, 0], values: outcomes.map { UInt64($0.rawValue) })
    }

    /// A gap and an outcome in one word: the gap above the low 8 bits.
    private static func pack(gap: UInt64, _ outcome: ClickOutcome) -> UInt64 { gap << 8 | UInt64(outcome.rawValue) }
    private static let tail = UInt64.max

    /// The next gap (`UInt64.max` when no pulse can click) and outcome.
    @inline(__always)
    func draw(using generator: inout Xoshiro256StarStar) -> (UInt64, ClickOutcome) {
        let value = table.draw(generator.next())
        if value != Self.tail {
            return (value >> 8, ClickOutcome(rawValue: UInt8(truncatingIfNeeded: value))!)
        }
        guard logOfNoClick < 0 else { return (.max, .none) }
        let extra = (log(generator.nextOpenUnitInterval()) / logOfNoClick).rounded(.down)
        let gap = extra < 0x1p62 ? UInt64(tableGaps) + UInt64(extra) : 1 << 62
        return (gap, ClickOutcome(rawValue: UInt8(truncatingIfNeeded: outcomes.draw(generator.next())))!)
    }
}
