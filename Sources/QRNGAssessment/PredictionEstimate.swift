#if canImport(Glibc)
import Glibc
#endif
import QRNG

/// What a predictor (§6.3.7–§6.3.10) counted: N predictions, C of them correct, and the longest run of correct
/// predictions.
struct PredictorTally {
    var predictions: Int
    var correct: Int
    var longestRun: Int
}

extension PredictorTally {
    init(predictions: Int, score: PredictionScore) {
        self.init(predictions: predictions, correct: score.correct, longestRun: score.longestRun)
    }
}

/// A predictor's running score while it steps through the samples: how many predictions were right, and the
/// longest run of right ones. A step with no prediction records nothing (MultiMMC leaves the run as it is).
struct PredictionScore {
    private(set) var correct = 0
    private(set) var longestRun = 0
    private var run = 0

    @inline(__always) mutating func record(_ right: Bool) {
        if right { recordCorrect() } else { recordMiss() }
    }

    @inline(__always) mutating func recordCorrect() {
        correct += 1
        run += 1
        longestRun = max(longestRun, run)
    }

    @inline(__always) mutating func recordMiss() { run = 0 }
}

/// SP 800-90B §6.3.7–§6.3.10 step "compute the min-entropy": turns a predictor's tally into an estimate.
///
/// P_global = C/N and its upper bound P_global' = min(1, P_global + z·√(P_global(1 − P_global)/(N − 1))), or
/// 1 − 0.01^{1/N} when C = 0. P_local is the p with 0.99 = the probability of no run longer than r − 1 = longest run
/// in N trials, from the standard's closed form with x the fixed point of x = 1 + q·pʳ·x^{r+1}. H = −log2 of the
/// largest of P_global', P_local and 1/k.
///
/// Following the tool: k is the number of distinct symbols observed (2 for the bit string); P_local is searched only
/// when it can matter, that is when the probability at max(1/k, P_global') is still above 0.99, by the tool's
/// bisection on [max(1/k, P_global'), 1]; and the fixed point and the probability are computed in `long double`.
func predictionEstimate(_ estimator: Estimate.Estimator, _ tally: PredictorTally, alphabetSize k: Int) -> Estimate {
    let n = tally.predictions
    let c = tally.correct
    let r = tally.longestRun + 1
    let pGlobal = Double(c) / Double(n)
    let pGlobalPrime = pGlobal > 0 ? AssessmentMath.upperBound(pGlobal, count: n) : 1.0 - pow(0.01, 1.0 / Double(n))
    var largest = max(1.0 / Double(k), pGlobalPrime)
    var pLocal: Double?
    let target = log(0.99)
    if largest < 1.0 && noLongRunLogProbability(p: largest, r: r, n: n) > target {
        let found = AssessmentMath.bisectDecreasing(low: largest, high: 1.0, target: target, onSearchFailure: 1.0) {
            noLongRunLogProbability(p: $0, r: r, n: n)
        }
        pLocal = found
        largest = max(largest, found)
    }
    var details: [(String, Double)] = [
        ("C", Double(c)), ("N", Double(n)), ("r", Double(r)), ("P_global", pGlobal), ("P_global'", pGlobalPrime),
    ]
    if let pLocal { details.append(("P_local", pLocal)) }
    return Estimate(estimator, -log2(largest), details)
}

/// log of the probability that N Bernoulli(p) trials have no run of r successes (§6.3.7 step 7's formula):
/// log(1 − p·x) − log((r + 1 − r·x)·q) − (N + 1)·log(x), x the fixed point of x = 1 + q·pʳ·x^{r+1} reached from 1
/// (at most 66 steps, stopping when it moves by less than one `long double` ulp, as in the tool).
func noLongRunLogProbability(p pDouble: Double, r rInt: Int, n nInt: Int) -> Double {
    let p = Extended(pDouble)
    let r = Extended(rInt)
    let q = 1 - p
    var x: Extended = 1
    var previous: Extended = 0
    let pr = extendedPow(p, r)
    var step = 0
    while step <= 65 && (x - previous) > extendedEpsilon * x {
        previous = x
        x = 1 + q * pr * extendedPow(x, r + 1)
        step += 1
    }
    let value = extendedLog(1 - p * x) - extendedLog((r + 1 - r * x) * q) - (Extended(nInt) + 1) * extendedLog(x)
    return Double(value)
}
