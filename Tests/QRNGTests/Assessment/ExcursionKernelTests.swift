import Testing

@testable import QRNG

/// The AVX2 excursion kernel against the loop that takes one sample at a time: the same double, exactly, on
/// samples of every width and on every length around its eight-sample steps.
@Suite struct ExcursionKernelTests {
    static func samples(_ count: Int, below bound: UInt64, seed: UInt64) -> [UInt16] {
        var generator = Xoshiro256StarStar(seed: seed)
        return (0..<count).map { _ in UInt16(truncatingIfNeeded: generator.next() % bound) }
    }

    static func bothWays(_ samples: [UInt16]) -> (kernel: Double, portable: Double) {
        let mean = samples.isEmpty ? 0 : Double(samples.reduce(0) { $0 + Int($1) }) / Double(samples.count)
        let context = StatisticContext(alphabetSize: 256, rawMean: mean, median: 0)
        return samples.withUnsafeBufferPointer { ($0.isEmpty ? 0 : context.excursion($0), context.portableExcursion($0)) }
    }

    @Test(.enabled(if: StatisticContext.hasAVX2)) func sameDoubleAsOneAtATime() {
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
}
