import Testing

@testable import QRNG
@testable import QRNGAssessment
import QRNGTestSupport

/// The packed run counter and the comparison masks behind the permutation tests' run statistics, against the
/// obvious loop over one comparison at a time.
@Suite struct BitRunsTests {
    static func naiveRuns(_ bits: [Bool]) -> (runs: Int, longest: Int, ones: Int) {
        guard !bits.isEmpty else { return (0, 0, 0) }
        var (runs, longest, run) = (1, 1, 1)
        for i in 1..<bits.count {
            if bits[i] == bits[i - 1] {
                run += 1
            } else {
                runs += 1
                run = 1
            }
            longest = max(longest, run)
        }
        return (runs, longest, bits.filter { $0 }.count)
    }

    static func pack(_ bits: [Bool]) -> [UInt64] {
        var words = [UInt64](repeating: 0, count: (bits.count + 63) / 64)
        for (i, bit) in bits.enumerated() where bit { words[i / 64] |= 1 << UInt64(i % 64) }
        return words
    }

    /// Sequences with short runs, long runs that cross words, a single run, and lengths around word boundaries;
    /// bits past `count` in the last word set, to show they are ignored.
    @Test func runsMatchTheNaiveCount() {
        var generator = Xoshiro256StarStar(seed: 11)
        for length in [1, 2, 63, 64, 65, 127, 128, 129, 1000, 4099] {
            for meanRun in [1.0, 3.0, 40.0, 200.0] {
                var bits: [Bool] = []
                var bit = Bool.random(using: &generator)
                while bits.count < length {
                    let run = 1 + Int(Double.random(in: 0..<1, using: &generator) * 2 * meanRun)
                    bits.append(contentsOf: repeatElement(bit, count: min(run, length - bits.count)))
                    bit.toggle()
                }
                var words = Self.pack(bits)
                words[words.count - 1] |= length % 64 == 0 ? 0 : ~0 << UInt64(length % 64)
                let got = words.withUnsafeBufferPointer { BitRuns.measure($0, count: length) }
                let expected = Self.naiveRuns(bits)
                #expect(got == expected, "length \(length), mean run \(meanRun)")
            }
        }
        #expect(BitRuns.measure([UInt64.max, UInt64.max].withUnsafeBufferPointer { $0 }, count: 128) == (1, 128, 128))
    }

    @Test(arguments: [false, true])
    func masksMatchTheComparisons(vectorized: Bool) {
        if vectorized && !CPUFeatures.hasAVX2 { return }
        var generator = Xoshiro256StarStar(seed: 12)
        for length in [0, 1, 2, 64, 65, 200, 1031] {
            // Values on both sides of the unsigned/signed boundary, with ties.
            let values = (0..<length).map { _ in
                [0, 1, 0x7FFF, 0x8000, 0xFFFF, 500][Int.random(in: 0..<6, using: &generator)] as UInt16
            }
            var below: [UInt64] = []
            var descents: [UInt64] = []
            values.withUnsafeBufferPointer { v in
                BitRuns.maskBelow(v, threshold: 0x8000, into: &below, vectorized: vectorized)
                BitRuns.maskDescents(v, into: &descents, vectorized: vectorized)
            }
            #expect(below == Self.pack(values.map { $0 < 0x8000 }), "below, length \(length)")
            let expectedDescents = length < 2 ? [] : Self.pack((0..<(length - 1)).map { values[$0] > values[$0 + 1] })
            #expect(descents == expectedDescents, "descents, length \(length)")
        }
    }
}
