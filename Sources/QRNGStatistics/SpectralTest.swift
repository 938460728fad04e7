#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import QRNG

/// SP 800-22 §2.6: the peak heights of the sequence's discrete Fourier transform.
extension SP80022 {
    /// The discrete Fourier transform (spectral) test, §2.6.
    ///
    /// X = 2ε − 1, S = DFT(X), M = |S_k| for the first n/2 values k = 0 … n/2 − 1 (step 3: "the first n/2
    /// elements in S"), T = √(ln(1/0.05)·n), N₀ = 0.95·n/2, N₁ = #{k : M_k < T}, d = (N₁ − N₀)/√(n·0.95·0.05/4),
    /// P = erfc(|d|/√2).
    public static func discreteFourierTransform(_ bits: BitBuffer,
                                                constants: ReferenceConstants = .specification) -> TestResult {
        SpectralTest(length: bits.count, constants: constants).run(PackedBits(bits))
    }
}

/// The spectral test prepared for one sequence length: its FFT plan and threshold.
///
/// The count runs over k = 0 … ⌊n/2⌋ − 1, the zero-frequency term included, as §2.6.4 says and NIST STS
/// does. (Counting k = 1 … n/2 − 1, as some reviews of the test suggest, would need N₀ = 0.95·(n/2 − 1); we keep
/// the standard's definition.) The transform is computed exactly, at length n, never zero-padded: padding
/// would change the frequencies and so the statistic.
struct SpectralTest: Sendable {
    let length: Int
    private let spectrum: RealPowerSpectrum?
    /// T², compared with |S_k|² so that no square root is taken per frequency.
    private let thresholdSquared: Double

    init(length: Int, constants: ReferenceConstants) {
        self.length = length
        spectrum = length >= 2 ? RealPowerSpectrum(length: length) : nil
        let logTwenty = constants == .nistSTS ? 2.995732274 : log(1 / 0.05)
        thresholdSquared = logTwenty * Double(length)
    }

    func run(_ bits: PackedBits) -> TestResult {
        precondition(bits.count == length, "the plan was made for \(length) bits, not \(bits.count)")
        guard let spectrum else {
            return .notApplicable(.discreteFourierTransform, "the spectral test needs at least two bits")
        }
        let n = length
        let below = bits.withWords { spectrum.countBelow(thresholdSquared, signsOf: $0) }
        let expected = 0.95 * Double(n) / 2
        let d = (Double(below) - expected) / (Double(n) * 0.95 * 0.05 / 4).squareRoot()
        return TestResult(test: .discreteFourierTransform, subtests: [
            SubtestResult(statistic: d, pValue: SpecialFunctions.erfc(abs(d) / 2.0.squareRoot())),
        ])
    }
}
