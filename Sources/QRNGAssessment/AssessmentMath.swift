#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import QRNG

// NIST's reference tool (SP800-90B_EntropyAssessment, the C++ `ea_non_iid` / `ea_iid`) does several of its
// computations in `long double`. Where that precision can change a result it is reproduced here with `Float80`,
// which is the same x87 80-bit type on x86-64 Linux; other architectures fall back to `Double`, which changes
// results by far less than the 1e-4 bits that assessments are compared at.
#if arch(x86_64) || arch(i386)
typealias Extended = Float80

@inline(__always) func extendedPow(_ x: Extended, _ y: Extended) -> Extended { powl(x, y) }
@inline(__always) func extendedLog(_ x: Extended) -> Extended { logl(x) }
@inline(__always) func extendedLog2(_ x: Extended) -> Extended { log2l(x) }
@inline(__always) func extendedLog1p(_ x: Extended) -> Extended { log1pl(x) }
@inline(__always) func extendedSqrt(_ x: Extended) -> Extended { sqrtl(x) }
let extendedEpsilon: Extended = Float80.ulpOfOne
#else
typealias Extended = Double

@inline(__always) func extendedPow(_ x: Extended, _ y: Extended) -> Extended { pow(x, y) }
@inline(__always) func extendedLog(_ x: Extended) -> Extended { log(x) }
@inline(__always) func extendedLog2(_ x: Extended) -> Extended { log2(x) }
@inline(__always) func extendedLog1p(_ x: Extended) -> Extended { log1p(x) }
@inline(__always) func extendedSqrt(_ x: Extended) -> Extended { sqrt(x) }
let extendedEpsilon: Extended = Double.ulpOfOne
#endif

/// Constants and numerical helpers shared by the estimators.
enum AssessmentMath {
    /// The upper 99.5% point of the standard normal distribution.
    ///
    /// SP 800-90B writes 2.576 (§6.3); the reference tool uses this full-precision value (its `ZALPHA`), and so do
    /// we, because an assessor's numbers come from the tool. The difference is below 1e-6 bits in every estimate.
    static let zAlpha = 2.5758293035489008
    static let zAlphaExtended: Extended = 2.575829303548900384158

    /// The upper bound of a binomial proportion used throughout §6.3: min(1, p + z·√(p(1 − p)/(n − 1))).
    static func upperBound(_ p: Double, count n: Int) -> Double {
        min(1.0, p + zAlpha * (p * (1.0 - p) / (Double(n) - 1.0)).squareRoot())
    }

    /// Whether `a` and `b` are equal up to a relative `Double.ulpOfOne`, an absolute `Double.leastNormalMagnitude`
    /// or 4 ULPs: the stopping rule the reference tool uses for its bisections (`relEpsilonEqual`), reproduced so
    /// that the bisections stop on the same step.
    static func nearlyEqual(_ a: Double, _ b: Double) -> Bool {
        if a.isNaN || b.isNaN { return false }
        if a == b { return true }
        if a.isInfinite || b.isInfinite { return false }
        var small = abs(a)
        var large = abs(b)
        var x = a
        var y = b
        if small > large {
            swap(&small, &large)
            swap(&x, &y)
        }
        let difference = abs(y - x)
        let minimum = Double.leastNormalMagnitude
        if small < minimum || difference < minimum || difference.isInfinite || large * Double.ulpOfOne < minimum {
            return difference <= minimum
        }
        if difference <= large * Double.ulpOfOne { return true }
        if x.sign != y.sign { return false }
        return large.bitPattern - small.bitPattern <= 4
    }

    /// Solves `f(p) = target` for p in [`low`, `high`], where f decreases in p, by the reference tool's guarded
    /// bisection: it halves [lbound, hbound] until f(p) equals the target (``nearlyEqual(_:_:)``), the interval
    /// stops shrinking, or an invariant of a monotone f fails. `onSearchFailure` is what the caller's standard
    /// section says to return when the search fails; `onStall` is returned when the bisection cycles or f turns out
    /// not to be monotone, where the tool returns its upper bound.
    static func bisectDecreasing(
        low: Double, high: Double, target: Double, onSearchFailure: Double, function f: (Double) -> Double
    ) -> Double {
        var lowBound = low
        var highBound = high
        var lowValue = Double.infinity
        var highValue = -Double.infinity
        var p = (lowBound + highBound) / 2.0
        var value = f(p)
        for _ in 0..<1076 {
            if nearlyEqual(value, target) { break }
            if target < value {
                lowBound = p
                lowValue = value
            } else {
                highBound = p
                highValue = value
            }
            if lowBound >= highBound { return min(max(lowBound, highBound), high) }
            if !(inClosed(lowBound, low, high) && inClosed(highBound, low, high)) { return onSearchFailure }
            if !inClosed(target, lowValue, highValue) { return onSearchFailure }
            let previous = p
            p = (lowBound + highBound) / 2.0
            if !inOpen(p, lowBound, highBound) { return highBound }
            if previous == p { return highBound }
            value = f(p)
            if !inClosed(value, lowValue, highValue) { return highBound }
        }
        return p
    }

    private static func inClosed(_ x: Double, _ a: Double, _ b: Double) -> Bool {
        a > b ? (x >= b && x <= a) : (x >= a && x <= b)
    }

    private static func inOpen(_ x: Double, _ a: Double, _ b: Double) -> Bool {
        a > b ? (x > b && x < a) : (x > a && x < b)
    }
}
