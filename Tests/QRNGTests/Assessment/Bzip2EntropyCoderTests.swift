import Testing

@testable import QRNG

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
    /// enough that its code needs more than eight digits (and so more than one table word).
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
        // The coder reads up to 64 bytes past the positions and stores up to 16 past the values.
        let padded = positions + [UInt8](repeating: 0xff, count: 64)
        return padded.withUnsafeBufferPointer { padded in
            if symbolCount <= 254 {
                var values = [UInt8](repeating: 0, count: positions.count + 32)
                let count = Bzip2EntropyCoder.codeZeroRuns(
                    of: padded.baseAddress!, count: positions.count, symbolCount: symbolCount, into: &values)
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
}
