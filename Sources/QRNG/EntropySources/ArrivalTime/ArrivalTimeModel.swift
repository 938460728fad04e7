#if canImport(Glibc)
import Glibc
#endif

/// A physical model of photon arrival times, from which an ``ArrivalTimeSource`` computes the min-entropy of its
/// samples (PHYSICS.md §4): −log2 of the probability of the most likely sample value.
///
/// A sample is ⌊Δ / w⌋ mod 2ᵏ, with Δ the measured time and w the bin width, so the model's distribution of Δ is
/// cut into bins and the bins are summed by residue mod 2ᵏ. Times are in picoseconds.
public enum ArrivalTimeModel: Sendable, Hashable {
    /// Time after the sync pulse: the emitter decays exponentially with lifetime τ after a fixed delay, the
    /// detector adds Gaussian jitter of standard deviation σ, and times are observed modulo the sync period
    /// (a photon from late in one period, or one that jitter moves before its own sync, is timed from the
    /// neighbouring sync). Δ = (delay + Exp(τ) + N(0, σ²)) mod period.
    case emissionDecay(lifetime: Double, jitter: Double, delay: Double, syncPeriod: Double)
    /// Time between successive detections: a Poissonian (continuous-wave) stream of `ratePerSecond` detections
    /// with a detector dead time, Δ = deadTime + Exp(rate).
    case exponentialIntervals(ratePerSecond: Double, deadTime: Double)

    /// The probability of each sample value 0 ..< 2^`bits` for bins of `binWidth` picoseconds.
    public func sampleProbabilities(binWidth: Double, bits: Int) throws(QRNGError) -> [Double] {
        guard binWidth > 0 && binWidth.isFinite else { throw .invalidArgument("bin width", "must be positive") }
        guard (1...16).contains(bits) else { throw .invalidArgument("bits", "must be 1 to 16") }
        switch self {
        case .emissionDecay(let lifetime, let jitter, let delay, let period):
            return try Self.decay(
                lifetime: lifetime, jitter: jitter, delay: delay, period: period, binWidth: binWidth, bits: bits)
        case .exponentialIntervals(let rate, let deadTime):
            return try Self.intervals(rate: rate * 1e-12, deadTime: deadTime, binWidth: binWidth, bits: bits)
        }
    }

    /// The min-entropy per sample in bits: −log2 of the largest of ``sampleProbabilities(binWidth:bits:)``.
    public func minEntropy(binWidth: Double, bits: Int) throws(QRNGError) -> Double {
        let largest = try sampleProbabilities(binWidth: binWidth, bits: bits).max()!
        return -log2(largest)
    }

    /// Exponential intervals after a dead time d, in closed form: bin j₀ = ⌊d/w⌋ holds 1 − e^−λ((j₀+1)w − d), every
    /// later bin j holds e^−λ(jw − d)·(1 − e^−λw), and the bins of one residue form a geometric series.
    private static func intervals(rate: Double, deadTime: Double, binWidth w: Double, bits: Int) throws(QRNGError)
        -> [Double]
    {
        guard rate > 0 && rate.isFinite else { throw .invalidArgument("rate", "must be positive") }
        guard deadTime >= 0 && deadTime.isFinite else { throw .invalidArgument("dead time", "must be 0 or more") }
        let residues = 1 << bits
        let firstBin = (deadTime / w).rounded(.down)
        let firstResidue = Int(firstBin.truncatingRemainder(dividingBy: Double(residues)))
        let oneBin = -expm1(-rate * w)
        let cycle = -expm1(-rate * w * Double(residues))
        var probabilities = [Double](repeating: 0, count: residues)
        for residue in 0..<residues {
            // The first bin after j₀ with this residue.
            let step = ((residue - firstResidue - 1) % residues + residues) % residues + 1
            let bin = firstBin + Double(step)
            probabilities[residue] = exp(-rate * (bin * w - deadTime)) * oneBin / cycle
        }
        probabilities[firstResidue] += -expm1(-rate * ((firstBin + 1) * w - deadTime))
        return probabilities
    }

    /// The decay model, by its cumulative distribution wrapped onto one sync period, evaluated at every bin edge.
    private static func decay(
        lifetime tau: Double, jitter sigma: Double, delay: Double, period: Double, binWidth w: Double, bits: Int
    ) throws(QRNGError) -> [Double] {
        guard tau > 0 && tau.isFinite else { throw .invalidArgument("lifetime", "must be positive") }
        guard sigma >= 0 && sigma.isFinite else { throw .invalidArgument("jitter", "must be 0 or more") }
        guard delay.isFinite else { throw .invalidArgument("delay", "must be finite") }
        guard period > 0 && period.isFinite else { throw .invalidArgument("sync period", "must be positive") }
        let binCount = (period / w).rounded(.up)
        // Periods over which the distribution has mass: 12σ either side, 50τ of tail (e^−50 is negligible).
        let firstPeriod = ((delay - 12 * sigma) / period).rounded(.down) - 1
        let lastPeriod = ((delay + 12 * sigma + 50 * tau) / period).rounded(.up) + 1
        // Checked in floating point first, so that absurd parameters are an error rather than an Int overflow.
        guard binCount * (lastPeriod - firstPeriod + 1) <= 5e7, abs(firstPeriod) < 1e9, abs(lastPeriod) < 1e9 else {
            throw .invalidArgument("bin width", "the model needs too many evaluations: use wider bins")
        }
        let (bins, first, last) = (Int(binCount), Int(firstPeriod), Int(lastPeriod))
        func cdf(_ x: Double) -> Double { decayDistribution(at: x - delay, lifetime: tau, jitter: sigma) }
        /// P(Δ < x) for x in [0, period].
        func wrapped(_ x: Double) -> Double {
            var total = 0.0
            for n in first...last { total += cdf(Double(n) * period + x) - cdf(Double(n) * period) }
            return total
        }
        let residues = 1 << bits
        var probabilities = [Double](repeating: 0, count: residues)
        var below = 0.0
        for bin in 0..<bins {
            let edge = wrapped(min(Double(bin + 1) * w, period))
            probabilities[bin % residues] += max(0, edge - below)
            below = edge
        }
        return probabilities
    }

    /// P(Exp(τ) + N(0, σ²) ≤ z): the distribution function of the exponentially modified Gaussian, the emission
    /// decay as a detector with jitter sees it (times in picoseconds).
    public static func decayDistribution(at z: Double, lifetime tau: Double, jitter sigma: Double) -> Double {
        guard sigma > 0 else { return z <= 0 ? 0 : -expm1(-z / tau) }
        let normal = 0.5 * erfc(-z / (sigma * 2.0.squareRoot()))
        // The second term is exp(A)·Φ(B) with A = −z/τ + σ²/2τ², B = z/σ − σ/τ. For very negative B it is
        // computed as φ(z/σ)·R(−B), R being Mills' ratio, since A − B²/2 = −z²/2σ² and exp(A) alone overflows.
        let b = z / sigma - sigma / tau
        let tail: Double
        if b > -5 {
            tail = exp(-z / tau + sigma * sigma / (2 * tau * tau)) * 0.5 * erfc(-b / 2.0.squareRoot())
        } else {
            let phi = exp(-0.5 * (z / sigma) * (z / sigma)) / (2 * Double.pi).squareRoot()
            tail = phi * millsRatio(-b)
        }
        return min(1, max(0, normal - tail))
    }

    /// Mills' ratio (1 − Φ(x))/φ(x) for x ≥ 5, by its continued fraction 1/(x + 1/(x + 2/(x + 3/(x + …)))).
    private static func millsRatio(_ x: Double) -> Double {
        var fraction = x
        for k in stride(from: 60, through: 1, by: -1) { fraction = x + Double(k) / fraction }
        return 1 / fraction
    }
}
