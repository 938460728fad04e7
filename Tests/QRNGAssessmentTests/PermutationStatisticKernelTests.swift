import CQRNGAssessmentKernels
import Testing

@testable import QRNG
@testable import QRNGAssessment
import QRNGTestSupport

/// The AVX2 kernels of the permutation-test statistics against the portable loops: the excursion's double,
/// exactly, on samples of every width and every length around its eight-sample steps; the periodicity and
/// covariance counts at the five lags on samples below 256, around the kernel's steps and its 4,096-step blocks.
@Suite struct PermutationStatisticKernelTests {
    static func samples(_ count: Int, below bound: UInt64, seed: UInt64) -> [UInt16] {
        var generator = Xoshiro256StarStar(seed: seed)
        return (0..<count).map { _ in UInt16(truncatingIfNeeded: generator.next() % bound) }
    }

    static func bothWays(_ samples: [UInt16]) -> (kernel: Double, portable: Double) {
        let mean = samples.isEmpty ? 0 : Double(samples.reduce(0) { $0 + Int($1) }) / Double(samples.count)
        let context = StatisticContext(alphabetSize: 256, rawMean: mean, median: 0)
        return samples.withUnsafeBufferPointer { ($0.isEmpty ? 0 : context.excursion($0), context.portableExcursion($0)) }
    }

    @Test(.enabled(if: CPUFeatures.hasAVX2)) func sameDoubleAsOneAtATime() {
        for count in 0...40 {
            for (bound, seed) in [(2, 1), (256, 2), (65536, 3)] {
                let (kernel, portable) = Self.bothWays(Self.samples(count, below: UInt64(bound), seed: UInt64(seed + count)))
                #expect(kernel == portable, "\(count) samples below \(bound)")
            }
        }
        for (bound, seed) in [(2, 4), (256, 5), (65536, 6)] {
            let samples = Self.samples(1_000_003, below: UInt64(bound), seed: UInt64(seed))
            let (kernel, portable) = Self.bothWays(samples)
            #expect(kernel == portable, "10⁶ samples below \(bound)")
            #expect(kernel > 0)
        }
        // A drift that peaks in the middle of an eight-sample step, with a mean that is not a whole number.
        let ramp = (0..<1003).map { UInt16($0 < 501 ? 200 : 0) }
        let (kernel, portable) = Self.bothWays(ramp)
        #expect(kernel == portable)
    }

    @Test(.enabled(if: CPUFeatures.hasAVX2)) func lagStatisticsInOnePass() {
        let context = StatisticContext(alphabetSize: 256, rawMean: 0, median: 0)
        var lengths = Array(0...100)
        lengths += [16 * 4096 + 47, 16 * 4096 + 48, 16 * 4096 + 49, 2 * 16 * 4096 + 63, 1_000_000]
        for count in lengths {
            for (bound, seed) in [(9, 1), (256, 2)] {
                let samples = Self.samples(count, below: UInt64(bound), seed: UInt64(seed + count))
                var matches = [UInt64](repeating: 0, count: 5)
                var products = [UInt64](repeating: 0, count: 5)
                samples.withUnsafeBufferPointer { s in
                    if let base = s.baseAddress { qrng_lag_statistics_u8_avx2(base, s.count, &matches, &products) }
                    for (index, lag) in PermutationTests.lags.enumerated() {
                        #expect(Int(matches[index]) == context.periodicity(s, lag: lag), "\(count) below \(bound), lag \(lag)")
                        #expect(products[index] == context.covariance(s, lag: lag), "\(count) below \(bound), lag \(lag)")
                    }
                }
            }
        }
        // All 255: the largest products, summed in 32-bit lanes for a whole 4,096-step block.
        let largest = [UInt16](repeating: 255, count: 3 * 16 * 4096 + 5)
        var matches = [UInt64](repeating: 0, count: 5)
        var products = [UInt64](repeating: 0, count: 5)
        largest.withUnsafeBufferPointer { qrng_lag_statistics_u8_avx2($0.baseAddress!, $0.count, &matches, &products) }
        for (index, lag) in PermutationTests.lags.enumerated() {
            #expect(matches[index] == UInt64(largest.count - lag))
            #expect(products[index] == UInt64(largest.count - lag) * 255 * 255)
        }
    }
}
