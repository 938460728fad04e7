@testable import QRNG
import Testing

@Suite struct BitRingTests {
    /// Random unaligned writes and reads against a plain bit array, checking that taken bits are zeroed.
    @Test func behavesLikeAQueueAndZeroesWhatItHandsOut() {
        var generator = Xoshiro256StarStar(seed: 8)
        var ring = BitRing(minimumCapacityBits: 256)
        let capacity = ring.capacityBits
        #expect(capacity == 256)
        var model: [Bool] = []
        for _ in 0..<4000 {
            if generator.next() & 1 == 0 {
                let width = Int(generator.next() % UInt64(ring.freeBits + 1))
                let bits = BitBuffer.random(count: width, using: &generator)
                ring.write(bits, range: 0..<width)
                model += (0..<width).map { bits[$0] }
            } else if generator.next() & 1 == 0 {
                let width = Int(generator.next() % UInt64(ring.count + 1))
                var taken = BitBuffer()
                ring.take(width, into: &taken)
                #expect((0..<width).map { taken[$0] } == Array(model.prefix(width)))
                model.removeFirst(width)
            } else {
                // Whole bytes, through the word-at-a-time path, at whatever alignment the head has.
                let byteCount = Int(generator.next() % UInt64(ring.count / 8 + 1))
                var bytes = [UInt8](repeating: 0, count: byteCount)
                bytes.withUnsafeMutableBytes { ring.take(into: $0) }
                let expected = BitBuffer(words: [], count: 0)
                var modelBits = expected
                for bit in model.prefix(8 * byteCount) { modelBits.append(bit) }
                #expect(bytes == modelBits.packedBytes())
                model.removeFirst(8 * byteCount)
            }
            // #expect cannot capture a non-copyable value: read the properties first.
            let (contents, zeroed) = (ring.contents, ring.isZeroOutsideContents)
            #expect(contents == model)
            #expect(zeroed)
        }
    }

    @Test func bytesArePackedMostSignificantBitFirst() {
        var ring = BitRing(minimumCapacityBits: 64)
        ring.write(BitBuffer(packedBytes: [0xFF], count: 3), range: 0..<3)  // misalign the head
        var skipped = BitBuffer()
        ring.take(3, into: &skipped)
        ring.write(BitBuffer(packedBytes: [0xA5, 0x3C]), range: 0..<16)
        var bytes = [UInt8](repeating: 0, count: 2)
        bytes.withUnsafeMutableBytes { ring.take(into: $0) }
        #expect(bytes == [0xA5, 0x3C])
        let (count, zeroed) = (ring.count, ring.isZeroOutsideContents)
        #expect(count == 0 && zeroed)
    }
}
