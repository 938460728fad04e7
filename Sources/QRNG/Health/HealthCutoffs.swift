#if canImport(Glibc)
import Glibc
#endif

/// The parameters of SP 800-90B's two continuous health tests, computed from α and the claimed min-entropy.
///
/// - Repetition Count Test (§4.4.1): cutoff C = 1 + ⌈−log2(α) / H⌉.
/// - Adaptive Proportion Test (§4.4.2): window W = 1024 for binary samples, 512 otherwise; cutoff C = the
///   smallest c with P[B ≥ c] ≤ α for B ~ Binomial(W, 2⁻ᴴ), the standard's 1 + CRITBINOM(W, 2⁻ᴴ, 1 − α).
///
/// Nothing is tabulated: `tools/health_cutoffs.py` recomputes the same values with exact arithmetic and the
/// tests compare them, including the standard's Table 2.
public struct HealthCutoffs: Sendable, Hashable {
    /// The width of a sample in bits.
    public let bitsPerSample: Int
    /// The claimed min-entropy per sample, H, in bits.
    public let minEntropy: Double
    /// The false-positive probability of each test.
    public let alpha: ErrorProbability
    /// The Repetition Count Test's cutoff: a run of this many identical samples fails.
    public let repetitionCountCutoff: Int
    /// The Adaptive Proportion Test's window W in samples.
    public let adaptiveProportionWindow: Int
    /// The Adaptive Proportion Test's cutoff: this many copies of a window's first sample in the window fail.
    /// It can exceed the window for very low H, and then the test cannot fail.
    public let adaptiveProportionCutoff: Int

    /// Computes the cutoffs.
    ///
    /// - Throws: ``QRNGError/Code/invalidArgument`` when `bitsPerSample` is not 1...16 or `minEntropy` is not in
    ///   (0, `bitsPerSample`].
    public init(bitsPerSample: Int, minEntropy: Double, alpha: ErrorProbability = .defaultAlpha)
        throws(QRNGError)
    {
        guard (1...16).contains(bitsPerSample) else {
            throw .invalidArgument("bits per sample", "must be 1 to 16, got \(bitsPerSample)")
        }
        guard minEntropy.isFinite && minEntropy > 0 && minEntropy <= Double(bitsPerSample) else {
            throw .invalidArgument(
                "min-entropy",
                "H must be in (0, \(bitsPerSample)] bits for \(bitsPerSample)-bit samples, got \(minEntropy)")
        }
        self.bitsPerSample = bitsPerSample
        self.minEntropy = minEntropy
        self.alpha = alpha
        self.repetitionCountCutoff = 1 + Self.ceilingTolerant(alpha.negativeLog2 / minEntropy)
        self.adaptiveProportionWindow = bitsPerSample == 1 ? 1024 : 512
        self.adaptiveProportionCutoff = Self.binomialCutoff(
            trials: adaptiveProportionWindow, probability: exp2(-minEntropy), alpha: alpha)
    }

    /// ⌈x⌉, treating x within 10⁻⁹ (relative) of an integer as that integer: H is usually typed as a decimal
    /// such as 0.3 that binary floating point cannot hold, and 30 / 0.3 must give 100, not 101.
    static func ceilingTolerant(_ x: Double) -> Int {
        let nearest = x.rounded()
        return abs(x - nearest) <= 1e-9 * max(1, abs(x)) ? Int(nearest) : Int(x.rounded(.up))
    }

    /// The smallest c with P[Binomial(n, p) ≥ c] ≤ α; n + 1 when even P[X = n] exceeds α.
    ///
    /// The tail is summed from the top in log space (the terms span hundreds of orders of magnitude), so it is
    /// accurate to about 10⁻¹² relative, far below any gap between α and a neighbouring tail.
    static func binomialCutoff(trials n: Int, probability p: Double, alpha: ErrorProbability) -> Int {
        let logAlpha = -alpha.negativeLog2 * M_LN2
        let logP = log(p)
        let logQ = log1p(-p)
        func logFactorial(_ k: Int) -> Double {
            let value: Double = lgamma(Double(k + 1))
            return value
        }
        let logNFactorial = logFactorial(n)
        var logTail = -Double.infinity
        var k = n
        while k >= 0 {
            let logTerm =
                logNFactorial - logFactorial(k) - logFactorial(n - k)
                + Double(k) * logP + (k == n ? 0 : Double(n - k) * logQ)
            logTail = logAddExp(logTail, logTerm)
            if logTail > logAlpha { return k + 1 }
            k -= 1
        }
        return 0
    }
}

/// log(eˣ + eʸ) without overflow.
func logAddExp(_ x: Double, _ y: Double) -> Double {
    if x == -.infinity { return y }
    if y == -.infinity { return x }
    return max(x, y) + log1p(exp(-abs(x - y)))
}
