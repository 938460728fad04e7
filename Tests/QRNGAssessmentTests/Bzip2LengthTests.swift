import Testing

@testable import QRNG
@testable import QRNGAssessment
import QRNGTestSupport

/// `Bzip2Length` against libbz2 (through `Bzip2`, which loads the system's libbz2) on inputs chosen to reach
/// every part of bzip2 that moves a bit.
@Suite struct Bzip2LengthTests {
    static func ours(_ bytes: [UInt8], blockSize: Int = 5) -> Int {
        bytes.withUnsafeBufferPointer { Bzip2Length.compressedLength(of: $0, blockSize100k: blockSize) }
    }

    static func libbz2(_ bytes: [UInt8], blockSize: Int = 5) -> Int? {
        var copy = bytes
        return copy.withUnsafeMutableBufferPointer { Bzip2.compressedLength($0, blockSize100k: Int32(blockSize)) }
    }

    /// Samples written as decimal numbers separated by single spaces, as the permutation tests write them.
    static func decimalText(_ samples: [Int]) -> [UInt8] {
        Array(samples.map(String.init).joined(separator: " ").utf8)
    }

    static func randomSamples(_ count: Int, below bound: UInt64, seed: UInt64) -> [Int] {
        var generator = Xoshiro256StarStar(seed: seed)
        return (0..<count).map { _ in Int(generator.next() % bound) }
    }

    static func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var generator = Xoshiro256StarStar(seed: seed)
        return (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next() >> 56) }
    }

    static func expectSame(_ bytes: [UInt8], blockSize: Int = 5, _ comment: Comment? = nil) {
        // The tests run only where libbz2 loads, so a nil here is libbz2 failing: never a silent pass.
        guard let expected = libbz2(bytes, blockSize: blockSize) else {
            Issue.record("libbz2 failed to compress \(bytes.count) bytes")
            return
        }
        #expect(ours(bytes, blockSize: blockSize) == expected, comment)
    }

    @Test(.enabled(if: Bzip2.isAvailable)) func quick() {
        Self.expectSame([], "empty")
        Self.expectSame([7], "one byte")
        for count in [1, 2, 3, 4, 5, 6, 7, 8, 255, 256, 259, 1000] {
            Self.expectSame([UInt8](repeating: 65, count: count), "\(count) equal bytes")
        }
        Self.expectSame(Self.randomBytes(1000, seed: 1), "random bytes")
        Self.expectSame(Self.decimalText(Self.randomSamples(1000, below: 256, seed: 2)), "decimal 8-bit")
        Self.expectSame(Self.decimalText(Self.randomSamples(30000, below: 256, seed: 3)), "decimal 8-bit")
        Self.expectSame(Self.decimalText(Self.randomSamples(30000, below: 65536, seed: 4)), "decimal 16-bit")
        Self.expectSame(Self.decimalText(Self.randomSamples(30000, below: 3, seed: 5)), "decimal ternary")
    }

    /// Runs of random lengths (1 to 300) of a few byte values: every branch of the initial run-length coding,
    /// including runs cut at 255 and runs still pending when a block fills.
    static func runs(totalBytes: Int, values: [UInt8], seed: UInt64) -> [UInt8] {
        var generator = Xoshiro256StarStar(seed: seed)
        var bytes: [UInt8] = []
        while bytes.count < totalBytes {
            let value = values[Int(generator.next() % UInt64(values.count))]
            // Short runs most of the time, so blocks hold many runs; long ones often enough to cross 255.
            let length = generator.next() % 4 == 0 ? Int(1 + generator.next() % 300) : Int(1 + generator.next() % 5)
            bytes.append(contentsOf: repeatElement(value, count: length))
        }
        return bytes
    }

    /// Words of random letters, `lengths` long, between single spaces.
    static func words(_ count: Int, lengths: ClosedRange<Int>, seed: UInt64) -> [UInt8] {
        var generator = Xoshiro256StarStar(seed: seed)
        var bytes: [UInt8] = []
        for _ in 0..<count {
            let span = UInt64(lengths.count)
            let length = lengths.lowerBound + Int(generator.next() % span)
            for _ in 0..<length { bytes.append(UInt8(97 + generator.next() % 4)) }
            bytes.append(32)
        }
        return bytes
    }

    @Test(.enabled(if: Bzip2.isAvailable)) func binaryTextAcrossBlocks() {
        // Samples 0 and 1, the permutation tests' text for binary data: two one-byte words, and libbz2's
        // worst case. 300,000 samples make 600 kB, two blocks at size 5.
        Self.expectSame(Self.decimalText(Self.randomSamples(300_000, below: 2, seed: 6)), "binary text")
        Self.expectSame(
            Self.decimalText(Self.randomSamples(60_000, below: 2, seed: 7)), blockSize: 1, "binary text, block size 1")
    }

    @Test(.enabled(if: Bzip2.isAvailable)) func everyBlockSize() {
        let text = Self.decimalText(Self.randomSamples(40_000, below: 256, seed: 8))
        for blockSize in 1...9 { Self.expectSame(text, blockSize: blockSize, "block size \(blockSize)") }
        // About 550 kB: six blocks of size 1.
        Self.expectSame(
            Self.decimalText(Self.randomSamples(150_000, below: 256, seed: 9)), blockSize: 1, "six blocks")
    }

    @Test(.enabled(if: Bzip2.isAvailable)) func runLengthCoding() {
        for seed in UInt64(10)..<14 {
            Self.expectSame(Self.runs(totalBytes: 60_000, values: [48, 49, 32], seed: seed), "runs, seed \(seed)")
        }
        // Over two blocks of size 1, so runs are pending at block ends.
        Self.expectSame(Self.runs(totalBytes: 250_000, values: [0, 1, 2, 255], seed: 14), blockSize: 1, "runs, blocks")
    }

    /// A block fills while a run is pending, at every offset of the run against the block's limit.
    @Test(.enabled(if: Bzip2.isAvailable)) func runPendingWhenBlockFills() {
        let limit = 100_000 - 19
        // No four equal bytes in a row: the coding leaves this prefix unchanged, byte for byte.
        let prefix = Self.randomBytes(limit + 20, seed: 15).enumerated().map { UInt8(truncatingIfNeeded: Int($1) | $0 & 1) }
        for before in (limit - 5)...(limit + 1) {
            for runLength in [1, 4, 5, 256] {
                var bytes = Array(prefix[0..<before])
                let runByte: UInt8 = bytes.last == 7 ? 8 : 7
                bytes.append(contentsOf: repeatElement(runByte, count: runLength))
                for tail in runLength == 4 ? [0, 1] : [0] {
                    Self.expectSame(
                        bytes + Array(repeating: 9, count: tail), blockSize: 1,
                        "run of \(runLength) after \(before) bytes, tail \(tail)")
                }
            }
        }
    }

    /// Words of every length round the key widths (7 and 8 bytes with the separator fit 8; 15 and 16 fit 16)
    /// and longer ones, which take the byte-wise sort.
    @Test(.enabled(if: Bzip2.isAvailable)) func wordLengths() {
        for lengths in [0...3, 5...7, 6...8, 7...7, 8...8, 13...15, 14...16, 15...15, 16...16, 20...40] {
            Self.expectSame(Self.words(8_000, lengths: lengths, seed: UInt64(lengths.lowerBound)), "words \(lengths)")
        }
        Self.expectSame(Self.randomBytes(200_000, seed: 16), "random bytes")
    }

    /// More distinct words in a block than 16-bit identifiers hold (about 95,000 of 100,000 six-digit words in one
    /// block of size 9), and a few hundred (8-bit samples, 256 words and one split across the block's end).
    @Test(.enabled(if: Bzip2.isAvailable)) func identifierWidths() {
        Self.expectSame(
            Self.decimalText(Self.randomSamples(100_000, below: 1_000_000, seed: 19)), blockSize: 9, "many words")
        Self.expectSame(Self.decimalText(Self.randomSamples(150_000, below: 256, seed: 20)), "8-bit words")
    }

    /// Repeats that make many rotations share long prefixes, up to identical rotations.
    @Test(.enabled(if: Bzip2.isAvailable)) func repetitiveBlocks() {
        Self.expectSame(Array(repeating: Array("0 1 ".utf8), count: 20_000).flatMap { $0 }, "period 4")
        Self.expectSame(Array(repeating: Array("12 7 ".utf8), count: 20_001).flatMap { $0 }, "period 5")
        let chunk = Self.decimalText(Self.randomSamples(300, below: 256, seed: 17))
        Self.expectSame(Array(repeating: chunk + [32], count: 300).flatMap { $0 }, "a chunk repeated")
        Self.expectSame(Array(repeating: Self.randomBytes(1_000, seed: 18), count: 150).flatMap { $0 } + [1, 2, 3],
            "random chunk repeated, then a tail")
        let almost = Self.decimalText((0..<100_000).map { $0 % 5_000 == 0 ? 1 : 0 })
        Self.expectSame(almost, "zeros with a sparse one")
    }
}

/// `CyclicRotationSort` on its own: every rotation in order, checked against a direct comparison of neighbours.
@Suite struct CyclicRotationSortTests {
    static func rotationsInOrder(_ sequence: [UInt32], alphabetSize: Int) -> Bool {
        let count = sequence.count
        var order = [UInt32](repeating: 0, count: count)
        let scratch = CyclicRotationSort.Scratch()
        sequence.withUnsafeBufferPointer { sequence in
            order.withUnsafeMutableBufferPointer { order in
                CyclicRotationSort.sort(sequence, alphabetSize: alphabetSize, into: order.baseAddress!, scratch: scratch)
            }
        }
        guard Set(order).count == count else { return false }
        func notAfter(_ a: Int, _ b: Int) -> Bool {
            for offset in 0..<count {
                let x = sequence[(a + offset) % count]
                let y = sequence[(b + offset) % count]
                if x != y { return x < y }
            }
            return true
        }
        return (1..<max(count, 1)).allSatisfy { notAfter(Int(order[$0 - 1]), Int(order[$0])) }
    }

    /// Two common symbols and a rare third, as in the word ranks of binary text whose block splits a word: keys
    /// of two bits a symbol, one bit of which is almost always zero, crowd into few top-bit buckets.
    @Test func twoCommonSymbolsAndARareOne() {
        var generator = Xoshiro256StarStar(seed: 40)
        for count in [100, 5_000, 60_000] {
            var sequence = (0..<count).map { _ in UInt32(generator.next() & 1) }
            sequence[count / 3] = 2
            #expect(Self.rotationsInOrder(sequence, alphabetSize: 3), "\(count) symbols")
            // Twice: not unique, so sorted by the ranks of the prefixes that occur.
            sequence[count / 2] = 2
            #expect(Self.rotationsInOrder(sequence, alphabetSize: 3), "\(count) symbols, the rare one twice")
        }
    }

    /// A symbol that occurs once, below, between or above the others, anywhere in the sequence, among random or
    /// periodic symbols (whose keys tie until the doubling separates them): sorted with narrower keys around it.
    @Test func aSymbolThatOccursOnce() {
        var generator = Xoshiro256StarStar(seed: 42)
        for (alphabet, unique) in [(3, 0), (3, 1), (3, 2), (5, 2), (5, 4), (257, 0), (257, 100), (257, 256)] {
            for position in [0, 1, 777, 2_998, 2_999] {
                let others = (0..<alphabet).filter { $0 != unique }
                var random = (0..<3_000).map { _ in UInt32(others[Int(generator.next() % UInt64(others.count))]) }
                random[position] = UInt32(unique)
                #expect(Self.rotationsInOrder(random, alphabetSize: alphabet), "random, \(unique) of \(alphabet) at \(position)")
                var periodic = (0..<3_000).map { UInt32(others[$0 % 3 == 0 ? 0 : others.count - 1]) }
                periodic[position] = UInt32(unique)
                #expect(
                    Self.rotationsInOrder(periodic, alphabetSize: alphabet), "periodic, \(unique) of \(alphabet) at \(position)")
            }
        }
    }

    /// Keys that tie on many symbols: long runs, a short period, and random symbols of every alphabet size.
    @Test func tiesAndAlphabets() {
        var generator = Xoshiro256StarStar(seed: 41)
        #expect(Self.rotationsInOrder((0..<20_000).map { $0 % 7 == 0 ? 1 : 0 }, alphabetSize: 2), "period 7")
        #expect(Self.rotationsInOrder((0..<20_000).map { $0 == 12_345 ? 1 : 0 }, alphabetSize: 2), "one one")
        for alphabet in [2, 3, 4, 5, 17, 256, 300] {
            let sequence = (0..<10_000).map { _ in UInt32(generator.next() % UInt64(alphabet)) }
            #expect(Self.rotationsInOrder(sequence, alphabetSize: alphabet), "alphabet \(alphabet)")
        }
    }

    /// Others drawn at random below `alphabet`, skipping `unique`, which goes at `position`.
    static func aroundUnique(_ count: Int, alphabet: Int, unique: Int, at position: Int, seed: UInt64) -> [UInt32] {
        var generator = Xoshiro256StarStar(seed: seed)
        var sequence = (0..<count).map { _ -> UInt32 in
            let symbol = UInt32(generator.next() % UInt64(alphabet - 1))
            return symbol >= UInt32(unique) ? symbol + 1 : symbol
        }
        sequence[position] = UInt32(unique)
        return sequence
    }

    /// The word ranks of 8-bit samples' text (256 words and, once, the word split by the block's end), of binary
    /// text (two words and the split one) and other alphabets of 2^k + 1 symbols, sorted by their leading symbols
    /// around the unique one: a block's worth, and sizes from the smallest that path takes, with the unique symbol
    /// of any value anywhere (near the end, the rotations that reach it wrap round).
    @Test func leadingSymbolsAroundAUniqueOne() {
        for (unique, position) in [(137, 139_999), (0, 0), (256, 70_000), (1, 139_998)] {
            let sequence = Self.aroundUnique(140_000, alphabet: 257, unique: unique, at: position, seed: 50)
            #expect(Self.rotationsInOrder(sequence, alphabetSize: 257), "140,000 symbols, \(unique) at \(position)")
        }
        for (unique, position) in [(2, 249_999), (0, 0), (1, 123_456)] {
            let sequence = Self.aroundUnique(250_000, alphabet: 3, unique: unique, at: position, seed: 49)
            #expect(Self.rotationsInOrder(sequence, alphabetSize: 3), "250,000 symbols of 3, \(unique) at \(position)")
        }
        var seed: UInt64 = 51
        for alphabet in [3, 5, 17, 257, 513, 1025, 2049, 4097] {
            for count in [256, 257, 300, 1_000, 5_000] {
                for position in [0, 1, count / 2, count - 3, count - 2, count - 1] {
                    seed += 1
                    let unique = Int(seed * 7919 % UInt64(alphabet))
                    let sequence = Self.aroundUnique(
                        count, alphabet: alphabet, unique: unique, at: position, seed: seed)
                    #expect(
                        Self.rotationsInOrder(sequence, alphabetSize: alphabet),
                        "\(count) symbols of \(alphabet), \(unique) at \(position)")
                }
            }
        }
    }

    /// Leading symbols that tie, around a unique symbol in an alphabet of 257: two symbols only (long runs of keys
    /// with equal leading symbols, split by further radix passes), every symbol the same, short periods (ties the
    /// doubling separates) and a long stretch repeated; and binary symbols, one of which is rare.
    @Test func leadingSymbolsThatTie() {
        var generator = Xoshiro256StarStar(seed: 60)
        for unique in [0, 1, 2] {
            let others = (0..<3).filter { $0 != unique }.map(UInt32.init)
            var rareOnes = (0..<30_000).map { _ in others[generator.next() % 64 == 0 ? 1 : 0] }
            rareOnes[29_000] = UInt32(unique)
            #expect(Self.rotationsInOrder(rareOnes, alphabetSize: 3), "binary, rare ones, \(unique) unique")
        }
        for unique in [0, 128, 256] {
            let others = (0..<257).filter { $0 != unique }.map(UInt32.init)
            var twoSymbols = (0..<20_000).map { _ in others[Int(generator.next() % 2) * 200] }
            twoSymbols[12_345] = UInt32(unique)
            #expect(Self.rotationsInOrder(twoSymbols, alphabetSize: 257), "two symbols, \(unique) unique")
            var constant = [UInt32](repeating: others[100], count: 3_000)
            constant[2_000] = UInt32(unique)
            #expect(Self.rotationsInOrder(constant, alphabetSize: 257), "one symbol, \(unique) unique")
            for period in [2, 5, 9, 17] {
                let pattern = (0..<period).map { _ in others[Int(generator.next() % 256)] }
                var periodic = (0..<4_000).map { pattern[$0 % period] }
                periodic[3_999 - period] = UInt32(unique)
                #expect(Self.rotationsInOrder(periodic, alphabetSize: 257), "period \(period), \(unique) unique")
            }
            let stretch = (0..<2_500).map { _ in others[Int(generator.next() % 256)] }
            var repeated = stretch + stretch + stretch
            repeated[100] = UInt32(unique)
            #expect(Self.rotationsInOrder(repeated, alphabetSize: 257), "a stretch three times, \(unique) unique")
        }
    }

    /// Alphabets of 2^7 + 1 to 2^12 symbols with none unique (as in the word ranks of 8-bit samples' text whose
    /// split word is also a whole one), sorted by their leading symbols as the sequence comes round: random,
    /// periodic (identical rotations), one symbol throughout, two symbols only, and sizes from the smallest that
    /// path takes.
    @Test func leadingSymbolsWithoutAUniqueOne() {
        var generator = Xoshiro256StarStar(seed: 70)
        let block = (0..<140_000).map { _ in UInt32(generator.next() % 256) }
        #expect(Self.rotationsInOrder(block, alphabetSize: 256), "140,000 symbols of 256")
        for alphabet in [129, 256, 257, 1_000, 4_096] {
            for count in [256, 257, 1_000, 5_000] {
                let sequence = (0..<count).map { _ in UInt32(generator.next() % UInt64(alphabet)) }
                #expect(Self.rotationsInOrder(sequence, alphabetSize: alphabet), "\(count) symbols of \(alphabet)")
            }
            let pattern = (0..<7).map { _ in UInt32(generator.next() % UInt64(alphabet)) }
            let periodic = (0..<3_500).map { pattern[$0 % 7] }
            #expect(Self.rotationsInOrder(periodic, alphabetSize: alphabet), "period 7 of \(alphabet)")
            let constant = [UInt32](repeating: UInt32(alphabet - 1), count: 1_000)
            #expect(Self.rotationsInOrder(constant, alphabetSize: alphabet), "one symbol of \(alphabet)")
            let twoSymbols = (0..<10_000).map { _ in UInt32(generator.next() % 2) * UInt32(alphabet - 1) }
            #expect(Self.rotationsInOrder(twoSymbols, alphabetSize: alphabet), "two symbols of \(alphabet)")
        }
    }
}

/// The move-to-front paths against the plain list walk.
@Suite struct MoveToFrontTests {
    @Test func everyPathAgrees() {
        var generator = Xoshiro256StarStar(seed: 43)
        for symbolCount in [1, 2, 3, 11, 16] {
            // Sixteen steps a segment and more or fewer, so that the AVX-512 kernel's steps one at a time follow its
            // sixteen at a time; symbol bytes in every quarter of the byte range that its numbering table spans.
            for count in [1, 7, 63, 64, 65, 128, 129, 1_000, 4_099, 4_223, 20_000] {
                let symbols = (0..<symbolCount).map { UInt8(truncatingIfNeeded: 3 * $0 + 1 + 83 * (count % 4)) }
                // Runs and skewed choices, so that lists differ from one segment to the next.
                var column: [UInt8] = []
                while column.count < count {
                    let symbol = symbols[Int(generator.next() % UInt64(symbolCount)) * Int(generator.next() & 1)]
                    column.append(contentsOf: repeatElement(symbol, count: 1 + Int(generator.next() % 4)))
                }
                column.removeLast(column.count - count)
                // Some columns lack their first symbol until the last fifth, as the column of decimal text lacks
                // the separator in its first stretch: lists then carry it over from cut to cut.
                if symbolCount > 1 && count % 2 == 1 {
                    for index in 0..<(4 * count / 5) where column[index] == symbols[0] { column[index] = symbols[1] }
                }
                let used = Array(Set(column)).sorted()
                var expected = [UInt8](repeating: 0, count: count)
                var packed = expected
                var vector = expected
                var wide = expected
                column.withUnsafeBufferPointer { column in
                    used.withUnsafeBufferPointer { used in
                        MoveToFront.listPositions(of: column, symbols: used, into: &expected)
                        MoveToFront.packedPositions(of: column, symbols: used, into: &packed)
                        if CPUFeatures.hasAVX2 { MoveToFront.vectorPositions(of: column, symbols: used, into: &vector) }
                        if CPUFeatures.hasAVX512VBMI {
                            MoveToFront.vectorPositions(of: column, symbols: used, into: &wide, wide: true)
                        }
                    }
                }
                #expect(packed == expected, "packed, \(symbolCount) symbols, \(count) bytes")
                if CPUFeatures.hasAVX2 { #expect(vector == expected, "vector, \(symbolCount) symbols, \(count) bytes") }
                if CPUFeatures.hasAVX512VBMI {
                    #expect(wide == expected, "AVX-512, \(symbolCount) symbols, \(count) bytes")
                }
            }
        }
    }
}

/// The lists at the cuts against their definition: the symbols by most recent use before the cut, then those not
/// yet used in their first order. Rare symbols, met once in a long stretch or not at all, take the sixteen-bytes-at-a-
/// time search for the last few missing, at every alignment.
@Suite struct MoveToFrontInitialListTests {
    @Test func listsMatchTheirDefinition() {
        var generator = Xoshiro256StarStar(seed: 44)
        for symbolCount in [1, 2, 3, 11] {
            for count in [9, 64, 200, 1_001, 5_003] {
                let symbols = (0..<symbolCount).map { UInt8(5 * $0 + 2) }
                var column = (0..<count).map { _ in symbols[Int(generator.next() % UInt64(symbolCount))] }
                // The first symbol (or, at odd lengths, the first three) at no more than a few random places each, or
                // none, so that the search skips stretches for one missing symbol or for several.
                let rareCount = count % 2 == 1 ? min(3, symbolCount - 1) : 1
                if symbolCount > 1 {
                    for index in column.indices where symbols[..<rareCount].contains(column[index]) {
                        column[index] = symbols[rareCount]
                    }
                    for rare in symbols[..<rareCount] {
                        for _ in 0..<Int(generator.next() % 4) { column[Int(generator.next() % UInt64(count))] = rare }
                    }
                }
                let starts = (0..<8).map { $0 * (count / 8) + Int(generator.next() % 3) }.map { min($0, count) }.sorted()
                let lists = column.withUnsafeBufferPointer { column in
                    symbols.withUnsafeBufferPointer { symbols in
                        MoveToFront.initialLists(before: starts, in: column, symbols: symbols)
                    }
                }
                for (cut, start) in starts.enumerated() {
                    var expected: [UInt8] = []
                    for byte in column[..<start].reversed() where !expected.contains(byte) { expected.append(byte) }
                    for symbol in symbols where !expected.contains(symbol) { expected.append(symbol) }
                    #expect(lists[cut] == expected, "\(symbolCount) symbols, \(count) bytes, cut \(cut)")
                }
            }
        }
    }
}

/// The initial run-length coding's sixteen- and eight-byte steps: runs of 2 to 6 equal bytes at every offset after
/// stretches without runs, so that the steps meet them in each of their lanes and across the boundary between them.
@Suite struct Bzip2RunStepTests {
    @Test(.enabled(if: Bzip2.isAvailable)) func runsAtEveryOffset() {
        var generator = Xoshiro256StarStar(seed: 45)
        var bytes: [UInt8] = []
        for offset in 0..<40 {
            for runLength in 2...6 {
                // Digits with no two equal in a row, then the run.
                var previous: UInt8 = 0
                for _ in 0..<(32 + offset) {
                    var digit = UInt8(48 + generator.next() % 10)
                    if digit == previous { digit = digit == 57 ? 48 : digit + 1 }
                    bytes.append(digit)
                    previous = digit
                }
                bytes.append(contentsOf: repeatElement(previous, count: runLength))
            }
        }
        for end in [bytes.count, bytes.count - 7, bytes.count / 2, 33, 47] {
            Bzip2LengthTests.expectSame(Array(bytes[..<end]), "\(end) bytes")
            // A small block size (100k) with the text repeated, so that blocks fill inside the steps too.
            let repeated = Array(repeatElement(bytes[..<end], count: 200_000 / end + 1).joined())
            Bzip2LengthTests.expectSame(repeated, blockSize: 1, "\(end) bytes repeated")
        }
    }
}
