import Testing

@testable import QRNG

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
        guard let expected = libbz2(bytes, blockSize: blockSize) else { return }
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
}
