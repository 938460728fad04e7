import Foundation
#if canImport(Glibc)
import Glibc
#endif
@testable import QRNG
@testable import QRNGStatistics
import QRNGTestSupport
import Testing

/// The special functions, the FFT and Berlekamp–Massey against closed forms and naive definitions.
@Suite struct StatisticsMathTests {
    // MARK: Incomplete gamma and log gamma

    /// Γ(n) = (n − 1)! and Γ(½) = √π.
    @Test(arguments: [1, 2, 3, 5, 10, 20, 50, 100, 171])
    func logGammaOfIntegersIsLogFactorial(n: Int) {
        let expected = (1..<n).reduce(0.0) { $0 + log(Double($1)) }
        let value = SpecialFunctions.logGamma(Double(n))
        #expect(abs(value - expected) <= 1e-13 * max(1, abs(expected)),
                "lnΓ(\(n)) = \(value), ln((n−1)!) = \(expected)")
    }

    /// Against the C library's lgamma (which the battery avoids only because it writes a global).
    @Test func logGammaMatchesTheCLibrary() {
        for x in [0.01, 0.25, 0.5, 1.5, 2.5, 7.25, 14.9, 15, 15.1, 99.5, 1000.25, 16384, 1e6] {
            let value = SpecialFunctions.logGamma(x)
            var sign: Int32 = 0
            let expected = lgamma_r(x, &sign)
            #expect(abs(value - expected) <= 2e-14 * max(1, abs(expected)), "lnΓ(\(x)) = \(value) vs \(expected)")
        }
    }

    /// Q(k, x) = e^−x Σ_{j<k} x^j/j! for whole k, summed in the test with Kahan's care only where needed.
    @Test(arguments: [1, 2, 3, 4, 8, 16, 64, 256])
    func igamcOfIntegerOrderIsPoissonTail(k: Int) {
        for x in [0.01, 0.5, 1, 2.5, 7, Double(k) * 0.9, Double(k), Double(k) * 1.1, Double(k) + 30] {
            var term = 1.0
            var sum = 1.0
            for j in 1..<max(k, 1) where k > 1 {
                term *= x / Double(j)
                sum += term
            }
            let expected = exp(-x) * sum
            let value = SpecialFunctions.igamc(Double(k), x)
            #expect(abs(value - expected) <= 1e-12 * max(expected, 1e-300) + 1e-300,
                    "igamc(\(k), \(x)) = \(value), expected \(expected)")
            #expect(abs(SpecialFunctions.igam(Double(k), x) + value - 1) < 4e-14)
        }
    }

    /// Q(½, x) = erfc(√x), and for x far in the tail the value keeps its relative precision.
    @Test func igamcOfOrderOneHalfIsErfc() {
        for x in [1e-6, 0.1, 0.5, 1, 2, 5, 10, 50, 200, 700] {
            let expected = erfc(x.squareRoot())
            let value = SpecialFunctions.igamc(0.5, x)
            #expect(abs(value - expected) <= 1e-13 * expected, "igamc(0.5, \(x)) = \(value), erfc(√x) = \(expected)")
        }
    }

    /// The recurrence Q(a + 1, x) = Q(a, x) + x^a e^−x / Γ(a + 1), over the orders the battery uses (up to 2^15).
    @Test func igamcSatisfiesItsRecurrence() {
        for a in [0.25, 1.5, 2.5, 4.5, 63.5, 1024, 16384] {
            for factor in [0.5, 0.9, 1, 1.1, 1.5] {
                let x = a * factor + 0.3
                let step = exp(a * log(x) - x - SpecialFunctions.logGamma(a + 1))
                let left = SpecialFunctions.igamc(a + 1, x)
                let right = SpecialFunctions.igamc(a, x) + step
                // ln Γ(a) near 10⁵ leaves about 10⁻¹¹ of relative precision in the prefactor e^(a ln x − x − ln Γ(a)).
                #expect(abs(left - right) <= 1e-9 * max(left, 1e-300), "Q(\(a) + 1, \(x)): \(left) vs \(right)")
            }
        }
    }

    @Test func igamcEdges() {
        #expect(SpecialFunctions.igamc(3, 0) == 1)
        #expect(SpecialFunctions.igamc(0, 3) == 1)
        #expect(SpecialFunctions.igamc(2.5, 1e6) == 0)
        #expect(SpecialFunctions.igam(2.5, -1) == 0)
    }

    // MARK: FFT

    static func naiveDFT(_ x: [Complex]) -> [Complex] {
        let n = x.count
        return (0..<n).map { k in
            var sum = Complex(0, 0)
            for j in 0..<n { sum = sum + x[j] * Complex.unitRoot((j * k) % n, n) }
            return sum
        }
    }

    /// Lengths with every radix (4, 2, 3, 5), generic primes up to 64 and primes above it (Bluestein).
    @Test(arguments: Array(1...40) + [49, 60, 64, 67, 77, 97, 121, 125, 128, 143, 169, 243, 250, 256, 311, 625, 1000,
                                      1024, 1031, 1200, 2048])
    func fftMatchesTheDefinition(length: Int) {
        var generator = Xoshiro256StarStar(seed: UInt64(length))
        let input = (0..<length).map { _ in
            Complex(generator.nextOpenUnitInterval() * 2 - 1, generator.nextOpenUnitInterval() * 2 - 1)
        }
        var output = input
        FourierTransform(length: length).forward(input, into: &output)
        let expected = Self.naiveDFT(input)
        let worst = zip(output, expected).map { ($0 - $1).magnitudeSquared.squareRoot() }.max() ?? 0
        #expect(worst < 1e-9 * Double(length), "length \(length): largest error \(worst)")
    }

    @Test(arguments: [2, 3, 10, 11, 64, 100, 101, 1000, 1001, 4094])
    func realPowerSpectrumMatchesTheDefinition(length: Int) {
        var generator = Xoshiro256StarStar(seed: 99 + UInt64(length))
        let x = (0..<length).map { _ in generator.next() & 1 == 1 ? 1.0 : -1.0 }
        let power = RealPowerSpectrum(length: length).powerSpectrum(of: x)
        let expected = Self.naiveDFT(x.map { Complex($0, 0) }).prefix(length / 2).map(\.magnitudeSquared)
        #expect(power.count == length / 2)
        let worst = zip(power, expected).map { abs($0 - $1) }.max() ?? 0
        #expect(worst < 1e-8 * Double(length * length), "length \(length): largest error \(worst)")
    }

    /// The count from packed bits equals the count over the power spectrum of ±1 values.
    @Test(arguments: [1000, 1001, 4096, 5000])
    func spectrumFromBitsMatchesSpectrumFromSigns(length: Int) {
        var generator = Xoshiro256StarStar(seed: 7 + UInt64(length))
        let bits = BitBuffer.random(count: length, using: &generator)
        let x = (0..<length).map { bits[$0] ? 1.0 : -1.0 }
        let spectrum = RealPowerSpectrum(length: length)
        let threshold = log(20.0) * Double(length)
        let fromSigns = spectrum.powerSpectrum(of: x).filter { $0 < threshold }.count
        let fromBits = PackedBits(bits).withWords { spectrum.countBelow(threshold, signsOf: $0) }
        #expect(fromBits == fromSigns)
    }

    // MARK: Berlekamp–Massey

    /// The algorithm of §2.10.4 bit by bit, for comparison.
    static func naiveLinearComplexity(_ s: [Int]) -> Int {
        var c = [1] + [Int](repeating: 0, count: s.count)
        var b = c
        var l = 0
        var m = -1
        for n in 0..<s.count {
            var d = s[n]
            if l > 0 { for i in 1...l { d ^= c[i] & s[n - i] } }
            guard d == 1 else { continue }
            let t = c
            for j in 0..<s.count where b[j] == 1 && j + n - m <= s.count { c[j + n - m] ^= 1 }
            if l <= n / 2 {
                l = n + 1 - l
                m = n
                b = t
            }
        }
        return l
    }

    @Test func berlekampMasseyMatchesTheBitwiseAlgorithm() {
        var generator = Xoshiro256StarStar(seed: 2010)
        for length in Array(1...130) + [191, 192, 193, 255, 256, 257, 500, 1000] {
            for trial in 0..<3 {
                let bits = BitBuffer.random(count: length + 70, using: &generator)
                let start = (trial * 29) % 70
                let sequence = (start..<start + length).map { bits[$0] ? 1 : 0 }
                var solver = BerlekampMassey(maximumLength: length)
                let fast = PackedBits(bits).withWords { solver.linearComplexity($0, from: start, count: length) }
                #expect(fast == Self.naiveLinearComplexity(sequence), "length \(length), start \(start)")
            }
        }
    }

    /// Sequences from an LFSR of length L have linear complexity L (once 2L bits are seen); an all-zero block 0.
    @Test func berlekampMasseyFindsTheLengthOfAnLFSR() {
        var generator = Xoshiro256StarStar(seed: 11)
        for length in [1, 5, 31, 64, 65, 100, 200] {
            // A random recurrence s_k = Σ c_i s_{k−i} with c_L = 1 and a nonzero start generates complexity L.
            var taps = (0..<length).map { _ in Int(generator.next() & 1) }
            taps[length - 1] = 1
            var s = (0..<length).map { _ in Int(generator.next() & 1) }
            s[0] = 1
            while s.count < 3 * length {
                var next = 0
                for i in 1...length { next ^= taps[i - 1] & s[s.count - i] }
                s.append(next)
            }
            var bits = BitBuffer()
            for bit in s { bits.append(bit == 1) }
            var solver = BerlekampMassey(maximumLength: s.count)
            let complexity = PackedBits(bits).withWords { solver.linearComplexity($0, from: 0, count: s.count) }
            #expect(complexity == Self.naiveLinearComplexity(s))
            #expect(complexity <= length)
        }
        var solver = BerlekampMassey(maximumLength: 500)
        #expect(PackedBits(BitBuffer(zeros: 500)).withWords { solver.linearComplexity($0, from: 0, count: 500) } == 0)
    }
}
