import Testing

@testable import QRNG
@testable import QRNGAssessment
import QRNGTestSupport

/// The entropy coder's fast paths against plain definitions of what they compute.
@Suite struct Bzip2EntropyCoderTests {
    /// MTF values by their definition: a run of r zeros is the bits of r + 1 below its top bit, least significant
    /// first; any other position p is p + 1; EOB closes the block.
    static func referenceZeroRuns(_ positions: [UInt8], symbolCount: Int) -> [Int] {
        var values: [Int] = []
        var run = 0
        func flush() {
            var code = run + 1
            while code > 1 {
                values.append(code & 1)
                code >>= 1
            }
            run = 0
        }
        for position in positions {
            if position == 0 {
                run += 1
            } else {
                flush()
                values.append(Int(position) + 1)
            }
        }
        flush()
        values.append(symbolCount + 1)
        return values
    }

    /// Positions below `symbolCount` with zeros at density `zeroShare` / 8, and now and then a zero run long
    /// enough that its code needs more than eight digits (and so more than one table word). At density 3/8 to 6/8
    /// runs of every length from one to beyond seven fall inside 64 positions and across their ends.
    static func randomPositions(_ count: Int, symbolCount: Int, zeroShare: UInt64, generator: inout Xoshiro256StarStar)
        -> [UInt8]
    {
        var positions: [UInt8] = []
        while positions.count < count {
            if generator.next() % 64 == 0 {
                let length = Int(generator.next() % 3_000)
                positions.append(contentsOf: repeatElement(0, count: length))
            } else if generator.next() % 8 < zeroShare || symbolCount == 1 {
                positions.append(0)
            } else {
                positions.append(UInt8(1 + generator.next() % UInt64(symbolCount - 1)))
            }
        }
        return Array(positions.prefix(count))
    }

    static func coded(_ positions: [UInt8], symbolCount: Int) -> [Int] {
        // The coder reads up to 64 bytes past the positions and stores up to 64 past the values.
        let padded = positions + [UInt8](repeating: 0xff, count: 64)
        return padded.withUnsafeBufferPointer { padded in
            if symbolCount <= 254 {
                var values = [UInt8](repeating: 0, count: positions.count + 80)
                let count = Bzip2EntropyCoder.codeZeroRuns(
                    of: padded.baseAddress!, count: positions.count, symbolCount: symbolCount, into: &values)
                var portable = [UInt8](repeating: 0, count: positions.count + 80)
                let portableCount = Bzip2EntropyCoder.codeZeroRunsByStretches(
                    of: padded.baseAddress!, count: positions.count, symbolCount: symbolCount, into: &portable)
                // Both paths, or the portable one twice where there is no AVX-512.
                #expect(portable.prefix(portableCount) == values.prefix(count), "portable path")
                return values.prefix(count).map(Int.init)
            } else {
                var values = [UInt16](repeating: 0, count: positions.count + 32)
                let count = Bzip2EntropyCoder.codeZeroRuns(
                    of: padded.baseAddress!, count: positions.count, symbolCount: symbolCount, into: &values)
                return values.prefix(count).map(Int.init)
            }
        }
    }

    @Test func zeroRunsMatchTheirDefinition() {
        var generator = Xoshiro256StarStar(seed: 46)
        for symbolCount in [1, 2, 3, 11, 16, 17, 100, 254, 255, 256] {
            for count in [0, 1, 63, 64, 65, 127, 128, 129, 1_000, 20_011] {
                for zeroShare: UInt64 in [0, 3, 6, 8] {
                    let positions = Self.randomPositions(
                        count, symbolCount: symbolCount, zeroShare: zeroShare, generator: &generator)
                    #expect(
                        Self.coded(positions, symbolCount: symbolCount)
                            == Self.referenceZeroRuns(positions, symbolCount: symbolCount),
                        "\(symbolCount) symbols, \(count) positions, zeros \(zeroShare)/8")
                }
            }
        }
        // Runs of every length up to 600 between single nonzero positions, so that runs end at every offset of a
        // 64-position chunk and cross chunks, with codes on both sides of the table's 256.
        var positions: [UInt8] = []
        for length in 0...600 {
            positions.append(contentsOf: repeatElement(0, count: length))
            positions.append(UInt8(1 + length % 10))
        }
        #expect(Self.coded(positions, symbolCount: 11) == Self.referenceZeroRuns(positions, symbolCount: 11))
        #expect(Self.coded(positions, symbolCount: 300) == Self.referenceZeroRuns(positions, symbolCount: 300))
    }

    /// The AVX2 and AVX-512 table choices against the portable one: random counts (groups of 50 and a shorter last one) and
    /// lengths of every alphabet size and table count, with lengths often equal across tables so that costs tie.
    @Test(.enabled(if: CPUFeatures.hasAVX2)) func tableChoiceKernelAgrees() {
        var generator = Xoshiro256StarStar(seed: 47)
        for alphabetSize in 1...16 {
            for tableCount in 2...Bzip2EntropyCoder.maximumTables {
                let groupCount = 1 + Int(generator.next() % 300)
                var histograms = [UInt8](repeating: 0, count: 16 * groupCount)
                for group in 0..<groupCount {
                    let size = group == groupCount - 1 ? 1 + Int(generator.next() % 50) : 50
                    for _ in 0..<size { histograms[16 * group + Int(generator.next() % UInt64(alphabetSize))] += 1 }
                }
                var lengths = [UInt8](repeating: 0, count: 16 * Bzip2EntropyCoder.maximumTables)
                let shared = (0..<alphabetSize).map { _ in UInt8(generator.next() % 18) }
                for table in 0..<Bzip2EntropyCoder.maximumTables {
                    for value in 0..<alphabetSize {
                        let own = UInt8(generator.next() % 18)
                        lengths[16 * table + value] = generator.next() % 2 == 0 ? shared[value] : own
                    }
                }
                var packedLengths = [UInt64](repeating: 0, count: alphabetSize)
                for value in 0..<alphabetSize {
                    for table in 0..<tableCount {
                        packedLengths[value] |= UInt64(lengths[16 * table + value]) << (10 * UInt64(table))
                    }
                }
                var expectedFrequencies = [Int32](repeating: 0, count: 16 * Bzip2EntropyCoder.maximumTables)
                var expectedSelectors = [UInt8](repeating: 0, count: groupCount)
                packedLengths.withUnsafeBufferPointer { packedLengths in
                    Bzip2EntropyCoder.chooseTablesFromHistograms(
                        histograms: histograms, groupCount: groupCount, rowWidth: 16, alphabetSize: alphabetSize,
                        tableCount: tableCount, packedLengths: packedLengths, tableFrequencies: &expectedFrequencies,
                        selectors: &expectedSelectors)
                }
                for avx512 in [false, true] where !avx512 || CPUFeatures.hasAVX512VNNI {
                    var frequencies = expectedFrequencies.map { _ in Int32(0) }
                    var selectors = expectedSelectors.map { _ in UInt8(0) }
                    Bzip2EntropyCoder.chooseTablesByKernel(
                        histograms: histograms, groupCount: groupCount, tableCount: tableCount, lengths: lengths,
                        tableFrequencies: &frequencies, selectors: &selectors, avx512: avx512)
                    let comment: Comment = "\(alphabetSize) values, \(tableCount) tables, AVX-512 \(avx512)"
                    #expect(selectors == expectedSelectors, comment)
                    #expect(frequencies == expectedFrequencies, comment)
                }
            }
        }
    }

    /// The AVX-512 group histograms and their sum against the one-hot rows summed: every alphabet up to 16, value
    /// counts round multiples of 50 and of 64.
    @Test(.enabled(if: CPUFeatures.hasAVX512BW)) func histogramKernelAgrees() {
        var generator = Xoshiro256StarStar(seed: 48)
        for alphabetSize in 1...16 {
            for valueCount in [1, 49, 50, 51, 64, 100, 127, 1_000, 4_321] {
                // Skewed towards small values, as MTF values are.
                let values = (0..<valueCount).map { _ in
                    UInt8(min(generator.next() % UInt64(alphabetSize), generator.next() % UInt64(alphabetSize)))
                }
                let groupCount = (valueCount + 49) / 50
                var expected = [UInt8](repeating: 0, count: 16 * groupCount)
                Bzip2EntropyCoder.fillGroupHistograms(
                    values: values, valueCount: valueCount, rowType: SIMD16<UInt8>.self, into: &expected)
                var expectedSums = [Int32](repeating: 0, count: 16)
                for (index, count) in expected.enumerated() { expectedSums[index % 16] += Int32(count) }
                var rows = [UInt8](repeating: 0xff, count: 16 * groupCount)
                var sums = [Int32](repeating: -1, count: 16)
                Bzip2EntropyCoder.groupHistogramsAVX512(
                    values: values, valueCount: valueCount, alphabetSize: alphabetSize, into: &rows, frequencies: &sums)
                #expect(rows == expected, "\(alphabetSize) values, \(valueCount) of them")
                #expect(sums == expectedSums, "\(alphabetSize) values, \(valueCount) of them")
            }
        }
    }
}
