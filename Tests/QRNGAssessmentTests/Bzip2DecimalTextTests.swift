import Testing

@testable import QRNG
@testable import QRNGAssessment
import QRNGTestSupport

/// `Bzip2Length.compressedLength(ofDecimal:workspace:)` against the byte-wise `compressedLength(of:workspace:)` on
/// the same numbers written out (itself checked against libbz2 by `Bzip2LengthTests`), wherever the two could part:
/// block ends at every offset in a word and next to runs of equal digits, the word split round a block's end
/// being a number's own word or not (leading zero, empty, longer than three digits), blocks whose most common byte
/// is a digit, short blocks and every block size.
@Suite struct Bzip2DecimalTextTests {
    static func text(_ values: [UInt16]) -> [UInt8] {
        Array(values.map { String($0) }.joined(separator: " ").utf8)
    }

    static func expectSame(_ values: [UInt16], blockSize: Int = 5, _ comment: Comment? = nil) {
        let workspace = Bzip2Length.Workspace(blockSize100k: blockSize)
        let expected = text(values).withUnsafeBufferPointer { Bzip2Length.compressedLength(of: $0, workspace: workspace) }
        let decimal = values.withUnsafeBufferPointer { Bzip2Length.compressedLength(ofDecimal: $0, workspace: workspace) }
        #expect(decimal == expected, comment)
    }

    static func random(_ count: Int, from choices: [UInt16], seed: UInt64) -> [UInt16] {
        var generator = Xoshiro256StarStar(seed: seed)
        return (0..<count).map { _ in choices[Int(generator.next() % UInt64(choices.count))] }
    }

    @Test func randomNumbersOfEveryWidth() {
        for (bound, seed) in [(2, 1), (3, 2), (10, 3), (100, 4), (256, 5), (1000, 6)] {
            let values = Self.random(150_000, from: (0..<UInt16(bound)).map { $0 }, seed: UInt64(seed))
            Self.expectSame(values, blockSize: 1, "below \(bound), block size 1")
        }
        Self.expectSame(Self.random(300_000, from: (0..<256).map { UInt16($0) }, seed: 7), "8-bit, block size 5")
    }

    /// Block size 1 (limit 99,981 bytes) and numbers full of repeated digits, shifted by one byte at a time: the
    /// cuts land on every offset of one-, two- and three-digit words, inside and after runs of two and three.
    @Test func blockEndsAtEveryOffset() {
        // Mostly single digits, so that the space stays the most common byte.
        let choices: [UInt16] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 3, 5, 8, 100, 110, 111, 101, 11, 10, 999, 55, 900, 1]
        for shift in 0..<24 {
            let values = [UInt16](repeating: 7, count: shift) + Self.random(70_000, from: choices, seed: 100 + UInt64(shift))
            Self.expectSame(values, blockSize: 1, "shift \(shift)")
        }
    }

    /// Cuts that split a word into a wrap word that is not a number's own word (a leading zero: "0" then "12"
    /// makes "120"; "12" before "05"…), that is empty (a block starting and ending at a space), or longer than three
    /// digits.
    @Test func wrapWordsOfEveryKind() {
        let choices: [UInt16] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 10, 20, 205, 500, 12, 120, 5, 999, 1, 2]
        for seed in 0..<16 {
            Self.expectSame(Self.random(40_000 + Int(seed) * 7, from: choices, seed: 200 + UInt64(seed)), blockSize: 1)
        }
    }

    /// When a digit outnumbers the spaces (here "1" and "111" throughout) the byte-wise path takes that digit as
    /// the separator; the decimal path must hand such blocks over whole.
    @Test func digitMoreCommonThanTheSpace() {
        Self.expectSame(Self.random(60_000, from: [111, 1, 11, 110, 2], seed: 9), blockSize: 1, "ones")
        Self.expectSame([UInt16](repeating: 111, count: 40_000), blockSize: 1, "one word")
        // Half and half across blocks: some blocks by words, some written out.
        let mixed = Self.random(30_000, from: [111, 1, 11], seed: 10) + Self.random(30_000, from: (0..<100).map { $0 }, seed: 11)
        Self.expectSame(mixed, blockSize: 1, "mixed")
    }

    @Test func shortInputs() {
        for count in [1, 2, 3, 5, 63, 64, 65, 66, 100, 1000] {
            Self.expectSame(Self.random(count, from: (0..<256).map { $0 }, seed: UInt64(count)), "\(count) numbers")
            Self.expectSame(Self.random(count, from: [0, 1], seed: UInt64(count)), "\(count) bits")
        }
        Self.expectSame([0], "zero")
        Self.expectSame([999, 999], "two equal words")
    }

    @Test func everyBlockSize() {
        let values = Self.random(260_000, from: (0..<256).map { $0 }, seed: 12)
        for blockSize in 1...9 { Self.expectSame(values, blockSize: blockSize, "block size \(blockSize)") }
    }

    /// Four equal digits can meet from 1,000 on ("1111"): left to the byte-wise path.
    @Test func largerNumbersAreDeclined() {
        let workspace = Bzip2Length.Workspace(blockSize100k: 5)
        let values: [UInt16] = [1, 2, 1000]
        #expect(values.withUnsafeBufferPointer { Bzip2Length.compressedLength(ofDecimal: $0, workspace: workspace) } == nil)
        let empty: [UInt16] = []
        #expect(empty.withUnsafeBufferPointer { Bzip2Length.compressedLength(ofDecimal: $0, workspace: workspace) } == nil)
    }

    @Test(.enabled(if: Bzip2.isAvailable)) func agreesWithLibbz2() {
        let values = Self.random(200_000, from: (0..<256).map { $0 }, seed: 13)
        var text = Self.text(values)
        let expected = text.withUnsafeMutableBufferPointer { Bzip2.compressedLength($0) }
        let workspace = Bzip2Length.Workspace(blockSize100k: 5)
        #expect(values.withUnsafeBufferPointer { Bzip2Length.compressedLength(ofDecimal: $0, workspace: workspace) } == expected)
    }
}
