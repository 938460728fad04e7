#if canImport(Glibc)
import Glibc
#endif

/// The tail bounds and quantiles the photon monitors set their thresholds with.
///
/// Every threshold is fixed so that a healthy source crosses it in one window with probability at most the
/// monitors' α (see ``PhotonMonitorSettings``): by a Chernoff bound where one applies (binomial counts), by an
/// exact Poisson tail for the double clicks, and by the normal and chi-square approximations elsewhere.
enum MonitorStatistics {
    /// The Kullback–Leibler divergence D(a ‖ p) of Bernoulli(a) from Bernoulli(p), in nats.
    static func bernoulliDivergence(_ a: Double, _ p: Double) -> Double {
        func term(_ x: Double, _ y: Double) -> Double { x == 0 ? 0 : x * log(x / y) }
        return term(a, p) + term(1 - a, 1 - p)
    }

    /// The acceptance interval of a binomial proportion over `trials` trials whose true value lies in `band`:
    /// an observed proportion below `lower` or above `upper` has probability at most e^−`logBound` each.
    ///
    /// Chernoff: P[X/n ≥ a] ≤ exp(−n·D(a ‖ p)) for a > p, and the same below p; for p anywhere in the band the
    /// nearer end of the band gives the larger tail. `nil` for a side means that side cannot be crossed.
    static func binomialLimits(band: ClosedRange<Double>, trials: Double, logBound: Double)
        -> (lower: Double?, upper: Double?)
    {
        func solve(from p: Double, towards end: Double) -> Double? {
            guard p > 0 && p < 1 else { return nil }
            if trials * bernoulliDivergence(end, p) < logBound { return nil }
            return boundary(from: p, towards: end) { trials * bernoulliDivergence($0, p) < logBound }.outside
        }
        return (solve(from: band.lowerBound, towards: 0), solve(from: band.upperBound, towards: 1))
    }

    /// The values of a binomial proportion p that an observed proportion `observed` over `trials` trials leaves
    /// possible: those with n·D(observed ‖ p) below `logBound`. By Chernoff's bound the interval misses the true
    /// p with probability at most 2·e^−`logBound`.
    static func binomialConfidenceInterval(observed: Double, trials: Double, logBound: Double) -> ClosedRange<Double> {
        func solve(towards end: Double) -> Double {
            if trials * bernoulliDivergence(observed, end) < logBound { return end }
            return boundary(from: observed, towards: end) { trials * bernoulliDivergence(observed, $0) < logBound }.inside
        }
        return solve(towards: 0)...solve(towards: 1)
    }

    /// Where `isInside` stops holding between `start` (where it holds) and `end` (where it does not), to the
    /// last of 100 halvings: the nearest point found on either side.
    private static func boundary(
        from start: Double, towards end: Double, isInside: (Double) -> Bool
    ) -> (inside: Double, outside: Double) {
        var inside = start
        var outside = end
        for _ in 0..<100 {
            let middle = 0.5 * (inside + outside)
            if isInside(middle) { inside = middle } else { outside = middle }
        }
        return (inside, outside)
    }

    /// The lower confidence limit λ of a Poisson mean from `count` events: P[Poisson(λ) ≥ count] = `alpha`.
    ///
    /// P[Poisson(λ) ≥ k] is the regularized lower incomplete gamma function P(k, λ), increasing in λ.
    static func poissonLowerLimit(count: UInt64, alpha: Double) -> Double {
        guard count > 0 else { return 0 }
        let k = Double(count)
        var low = 0.0
        var high = k
        while SpecialFunctions.igam(k, high) <= alpha { high *= 2 }
        for _ in 0..<100 {
            let middle = 0.5 * (low + high)
            if SpecialFunctions.igam(k, middle) > alpha { high = middle } else { low = middle }
        }
        return low
    }

    /// z with P[Z > z] = `tail` for a standard normal Z, by bisection on erfc (accurate far into the tail).
    static func normalUpperQuantile(_ tail: Double) -> Double {
        var low = 0.0
        var high = 40.0
        for _ in 0..<200 {
            let middle = 0.5 * (low + high)
            if 0.5 * SpecialFunctions.erfc(middle / 2.0.squareRoot()) > tail { low = middle } else { high = middle }
        }
        return high
    }

    /// x with P[χ²(df) > x] = `tail`.
    static func chiSquareUpperQuantile(degreesOfFreedom df: Int, tail: Double) -> Double {
        var low = 0.0
        var high = Double(df) + 10
        while SpecialFunctions.igamc(Double(df) / 2, high / 2) > tail { high *= 2 }
        for _ in 0..<200 {
            let middle = 0.5 * (low + high)
            if SpecialFunctions.igamc(Double(df) / 2, middle / 2) > tail { low = middle } else { high = middle }
        }
        return high
    }
}
