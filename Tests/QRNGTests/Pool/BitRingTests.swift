@testable import QRNG
import QRNGTestSupport
import Testing

@Suite struct BitRingTests {
    /// Random unaligned writes and reads against a plain bit array, checking that taken bits are zeroed. The ring
    /// is four words, so runs wrap often.
    @Test func behavesLikeAQueueAndZeroesWhatItHandsOut() {
        var generator = Xoshiro256StarStar(seed: 8)
        var ring = BitRing(minimumCapacityBits: 256)
        let capacity = ring.capacityBits
        #expect(capacity == 256)
        var model: [Bool] = []
        for _ in 0..<4000 {
            if generator.next() & 1 == 0 {
                // From any offset of a longer buffer, so that source and ring alignments both vary.
                let width = Int(generator.next() % UInt64(ring.freeBits + 1))
                let offset = Int(generator.next() % 130)
                let bits = BitBuffer.random(count: offset + width + Int(generator.next() % 70), using: &generator)
                ring.write(bits, range: offset..<offset + width)
                model += (offset..<offset + width).map { bits[$0] }
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

    /// Several claims open at once and a write in progress, as with concurrent consumers copying outside the
    /// pool's lock: each claim gets its bits in order whatever the alignments, and what a released claim held is
    /// zero.
    @Test func openClaimsAndWritesInProgressKeepOrderAndZeroing() {
        var generator = Xoshiro256StarStar(seed: 21)
        var ring = BitRing(minimumCapacityBits: 512)
        var model: [Bool] = []
        var open: [(claim: RingClaim, bits: [Bool])] = []
        var writing: (write: RingWrite, source: BitBuffer, bits: [Bool])?
        for step in 0..<6000 {
            switch generator.next() % 4 {
            case 0 where ring.count > 0 && open.count < 4:
                let width = 1 + Int(generator.next() % UInt64(min(ring.count, 200)))
                open.append((ring.claim(width), Array(model.prefix(width))))
                model.removeFirst(width)
            case 1 where !open.isEmpty:
                let (claim, expected) = open.remove(at: Int(generator.next() % UInt64(open.count)))
                if claim.bitCount % 8 == 0 && generator.next() & 1 == 0 {
                    var bytes = [UInt8](repeating: 0xEE, count: claim.bitCount / 8)
                    bytes.withUnsafeMutableBytes { ring.words.move(claim, into: $0) }
                    #expect(bytes == BitBuffer(bools: expected).packedBytes(), "step \(step): bytes")
                } else {
                    var bits = BitBuffer(bools: [true, false, true])  // appending after a misaligned start
                    ring.words.move(claim, into: &bits)
                    #expect(bits == BitBuffer(bools: [true, false, true] + expected), "step \(step): bits")
                }
                ring.release(claim)
            case 2 where writing == nil && ring.freeBits > 0:
                let width = 1 + Int(generator.next() % UInt64(min(ring.freeBits, 300)))
                let offset = Int(generator.next() % 100)
                let source = BitBuffer.random(count: offset + width, using: &generator)
                writing = (ring.beginWrite(source, range: offset..<offset + width), source,
                           (offset..<offset + width).map { source[$0] })
            case 3 where writing != nil:
                ring.words.write(writing!.write, from: writing!.source)
                ring.commit()
                model += writing!.bits
                writing = nil
            default:
                continue
            }
            let (contents, zeroed) = (ring.contents, ring.isZeroOutsideContents)
            #expect(contents == model, "step \(step)")
            #expect(zeroed, "step \(step): free storage must be zero")
        }
    }

    /// Byte takes of 0 to 40 whole words from a word-aligned head, wrapping around a 64-word ring: the vector
    /// kernel's main loop and its tail, against the bits written.
    @Test func wholeWordByteTakesAtEveryLength() {
        var generator = Xoshiro256StarStar(seed: 22)
        var ring = BitRing(minimumCapacityBits: 64 * 64)
        for words in 0...40 {
            let bits = BitBuffer.random(count: 64 * words, using: &generator)
            ring.write(bits, range: 0..<bits.count)
            var bytes = [UInt8](repeating: 0xEE, count: 8 * words)
            bytes.withUnsafeMutableBytes { ring.take(into: $0) }
            #expect(bytes == bits.packedBytes(), "\(words) words")
            let zeroed = ring.isZeroOutsideContents
            #expect(zeroed, "\(words) words: taken words must be zeroed")
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

extension BitBuffer {
    init(bools: [Bool]) {
        self.init()
        for bit in bools { append(bit) }
    }
}
