#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The special functions that turn SP 800-22's statistics into P-values.
///
/// SP 800-22 Rev 1a §5.5.3 names the Cephes library's `igamc` and `erfc` and the normal distribution Φ. `erfc`
/// comes from the C library (correctly rounded to within an ulp or two). The incomplete gamma functions are
/// written here in the Cephes way, a power series below the mode and a continued fraction above it, because
/// the P-values must be usable far into the tails (down to 10⁻³⁰⁰) and SP 800-22's P-values are defined by
/// exactly this pair of expansions. `logGamma` is ours too: the C library's `lgamma` writes the global
/// `signgam`, a data race when sequences are tested on several threads.
package enum SpecialFunctions {
    /// 2⁻⁵³, the relative precision the series and continued fraction stop at.
    static let machineEpsilon = 0x1p-53
    /// ln(Double.greatestFiniteMagnitude): below −maxLog, e^x underflows.
    static let maxLog = 709.782712893383973096
    /// Rescaling threshold for the continued fraction's numerators and denominators.
    static let big = 0x1p52
    static let bigInverse = 0x1p-52

    /// The regularized upper incomplete gamma function Q(a, x) = Γ(a, x) / Γ(a), SP 800-22's `igamc`.
    ///
    /// Q(a, x) is 1 for x ≤ 0 or a ≤ 0, as in Cephes, so a test with no degrees of freedom passes rather than
    /// trapping.
    package static func igamc(_ a: Double, _ x: Double) -> Double {
        if x <= 0 || a <= 0 { return 1 }
        if x < 1 || x < a { return 1 - igam(a, x) }
        let logPrefactor = a * log(x) - x - logGamma(a)
        if logPrefactor < -maxLog { return 0 }
        let prefactor = exp(logPrefactor)

        // Legendre's continued fraction for Γ(a, x) e^x x^−a, evaluated by the forward recurrence on numerators
        // (p) and denominators (q), which are rescaled whenever they grow large.
        var y = 1 - a
        var z = x + y + 1
        var c = 0.0
        var pPrevious = 1.0, qPrevious = x
        var p = x + 1, q = z * x
        var value = p / q
        while true {
            c += 1
            y += 1
            z += 2
            let yc = y * c
            let pNext = p * z - pPrevious * yc
            let qNext = q * z - qPrevious * yc
            var change = 1.0
            if qNext != 0 {
                let ratio = pNext / qNext
                change = abs((value - ratio) / ratio)
                value = ratio
            }
            (pPrevious, p, qPrevious, q) = (p, pNext, q, qNext)
            if abs(p) > big {
                pPrevious *= bigInverse
                p *= bigInverse
                qPrevious *= bigInverse
                q *= bigInverse
            }
            if change <= machineEpsilon { break }
        }
        return value * prefactor
    }

    /// The regularized lower incomplete gamma function P(a, x) = γ(a, x) / Γ(a) = 1 − Q(a, x).
    package static func igam(_ a: Double, _ x: Double) -> Double {
        if x <= 0 || a <= 0 { return 0 }
        if x > 1 && x > a { return 1 - igamc(a, x) }
        let logPrefactor = a * log(x) - x - logGamma(a)
        if logPrefactor < -maxLog { return 0 }
        // Power series x^a e^−x / Γ(a + 1) · Σ x^k / ((a + 1)⋯(a + k)).
        var r = a
        var term = 1.0
        var sum = 1.0
        repeat {
            r += 1
            term *= x / r
            sum += term
        } while term / sum > machineEpsilon
        return sum * exp(logPrefactor) / a
    }

    /// ln Γ(x) for x > 0.
    ///
    /// Shifts x above 15 with Γ(x + 1) = x Γ(x), then uses Stirling's series to the x⁻¹³ term, whose next term
    /// is below 10⁻¹⁷ there; the result is good to a few ulps, which is all `igamc`'s prefactor needs.
    package static func logGamma(_ x: Double) -> Double {
        precondition(x > 0, "logGamma is only needed, and only defined here, for x > 0")
        var shifted = x
        var product = 1.0
        while shifted < 15 {
            product *= shifted
            shifted += 1
        }
        let inverse = 1 / shifted
        let inverseSquare = inverse * inverse
        // Bernoulli coefficients B₂ₖ / (2k (2k − 1)) for k = 1…7.
        var series = -691.0 / 360_360
        series = series * inverseSquare + 1.0 / 1188
        series = series * inverseSquare - 1.0 / 1680
        series = series * inverseSquare + 1.0 / 1260
        series = series * inverseSquare - 1.0 / 360
        series = series * inverseSquare + 1.0 / 12
        series *= inverse
        let halfLogTwoPi = 0.918_938_533_204_672_741_78
        return (shifted - 0.5) * log(shifted) - shifted + halfLogTwoPi + series - log(product)
    }

    /// The complementary error function.
    @inlinable
    package static func erfc(_ x: Double) -> Double {
        #if canImport(Glibc)
        Glibc.erfc(x)
        #else
        Musl.erfc(x)
        #endif
    }

    /// Φ(x), the standard normal distribution function.
    package static func normalCDF(_ x: Double) -> Double {
        0.5 * erfc(-x / 2.0.squareRoot())
    }
}
