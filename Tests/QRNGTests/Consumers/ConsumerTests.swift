import QRNG
import QRNGTestSupport
import Testing

@Suite struct ConsumerTests {
    static func pool(with bytes: [UInt8]) throws -> EntropyPool {
        let pool = EntropyPool(provenance: Provenance(kind: .simulated, detail: "test"), capacityBits: 1 << 16)
        try pool.deposit(BitBuffer(packedBytes: bytes))
        return pool
    }

    @Test func basisChoicesTakeOneBitEach() throws {
        let pool = try Self.pool(with: [0b1010_0000, 0xFF])
        #expect(try pool.basisChoices(count: 4) == [.diagonal, .rectilinear, .diagonal, .rectilinear])
        #expect(pool.availableBits == 12)
        #expect(try pool.basisChoices(count: 4) == [.rectilinear, .rectilinear, .rectilinear, .rectilinear])
    }

    @Test func hashSeedsAreDrawnOnceAndHaveTheRightLength() throws {
        var generator = Xoshiro256StarStar(seed: 12)
        let content = BitBuffer.random(count: 4096, using: &generator)
        let pool = try Self.pool(with: content.packedBytes())
        let toeplitz = try pool.toeplitzSeed(inputBits: 1024, outputBits: 512)
        #expect(toeplitz.bitCount == 1535)
        let second = try pool.hashSeed(bits: 1000)
        toeplitz.withBits { #expect($0 == content.extracting(0..<1535)) }
        second.withBits { #expect($0 == content.extracting(1535..<2535)) }
        #expect(second.packedBytes() == content.extracting(1535..<2535).packedBytes())
        #expect(throws: QRNGError.self) { try pool.toeplitzSeed(inputBits: 10, outputBits: 11) }
        #expect(throws: QRNGError.self) { try pool.hashSeed(bits: 0) }
    }

    @Test func randomNumberGeneratorDrawsWholeWordsFromThePool() throws {
        let pool = try Self.pool(with: [0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF] + Array(repeating: 0x5A, count: 512))
        var generator = PoolRandomNumberGenerator(pool: pool)
        #expect(generator.next() == 0x0123_4567_89AB_CDEF)
        let roll = Int.random(in: 1...6, using: &generator)
        #expect((1...6).contains(roll))
        let shuffled = Array(0..<10).shuffled(using: &generator)
        #expect(shuffled.sorted() == Array(0..<10))
        #expect(pool.statistics.bitsTaken % 64 == 0 && pool.statistics.bitsTaken > 64)
    }

    @Test func randomBytesRejectNegativeCounts() throws {
        let pool = try Self.pool(with: [1, 2, 3])
        #expect(try pool.randomBytes(count: 3) == [1, 2, 3])
        #expect(throws: QRNGError.self) { try pool.randomBytes(count: -1) }
        #expect(throws: QRNGError.self) { try pool.basisChoices(count: -1) }
    }
}
