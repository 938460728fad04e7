import QRNG
import QRNGTestSupport
import Testing

@Suite struct BitBufferTests {
    @Test func packsMostSignificantBitFirst() {
        let bits = BitBuffer(packedBytes: [0x80, 0x01])
        #expect(bits.count == 16)
        #expect(bits[0] && !bits[1] && !bits[14] && bits[15])
        #expect(bits.packedBytes() == [0x80, 0x01])
        #expect(bits.words == [0x8001_0000_0000_0000])
    }

    @Test func partialBytesArePaddedWithZeros() {
        var bits = BitBuffer()
        for bit in [true, false, true] { bits.append(bit) }
        #expect(bits.packedBytes() == [0b1010_0000])
        // Bits past the count are cleared, so equality ignores what the padding held.
        #expect(BitBuffer(packedBytes: [0b1011_1111], count: 3) == bits)
    }

    @Test(arguments: [0, 1, 7, 63, 64, 65, 127, 128, 200])
    func appendingRangesMatchesBitByBit(offset: Int) {
        var generator = Xoshiro256StarStar(seed: 11)
        let source = BitBuffer.random(count: 333, using: &generator)
        for length in [0, 1, 5, 63, 64, 65, 133] where offset + length <= source.count {
            var prefix = BitBuffer.random(count: offset % 70, using: &generator)
            var expected = prefix
            for index in offset..<offset + length { expected.append(source[index]) }
            prefix.append(contentsOf: source, range: offset..<offset + length)
            #expect(prefix == expected, "offset \(offset), length \(length)")
        }
    }

    @Test func appendBitsTakesTheLowBitsMostSignificantFirst() {
        var bits = BitBuffer()
        bits.append(bits: 0b1101, width: 4)
        bits.append(bits: .max, width: 64)
        #expect(bits.count == 68)
        #expect(bits.word(atBit: 0, width: 4) == 0b1101 << 60)
        #expect(bits.word(atBit: 4) == .max)
    }

    @Test func removeFirstShiftsTheRestToTheFront() {
        var generator = Xoshiro256StarStar(seed: 3)
        let original = BitBuffer.random(count: 300, using: &generator)
        for k in [0, 1, 64, 100, 300] {
            var bits = original
            bits.removeFirst(k)
            #expect(bits == original.extracting(k..<300))
        }
    }

    @Test func removeAllLeavesAnEmptyBuffer() {
        var bits = BitBuffer(packedBytes: [1, 2, 3])
        bits.removeAll()
        #expect(bits.isEmpty && bits.words.isEmpty)
    }

    /// The word-at-a-time packing of wide samples against appending one sample at a time, for every width and
    /// for buffers that start on and off a word boundary.
    @Test(arguments: Array(1...16))
    func appendingSamplesMatchesOneByOne(width: Int) {
        var generator = Xoshiro256StarStar(seed: UInt64(width))
        for prefix in [0, 1, 8, 16, 24, 63, 64, 100] {
            for count in [0, 1, 3, 4, 7, 8, 9, 31, 64, 200] {
                let mask = UInt16((1 << width) - 1)
                let samples = (0..<count).map { _ in UInt16(truncatingIfNeeded: generator.next()) & mask }
                var fast = BitBuffer(words: [generator.next(), generator.next()], count: prefix)
                var reference = fast
                samples.withUnsafeBufferPointer { fast.append(samples: $0, width: width) }
                for sample in samples { reference.append(bits: UInt64(sample), width: width) }
                #expect(fast == reference, "width \(width), prefix \(prefix), count \(count)")
                #expect(fast.count == prefix + count * width)
            }
        }
    }

    @Test(arguments: [0, 1, 5, 63, 64, 65])
    func appendingWordRangesMatchesBitByBit(destinationOffset: Int) {
        var generator = Xoshiro256StarStar(seed: 9)
        let source = BitBuffer(words: (0..<8).map { _ in generator.next() }, count: 500)
        for start in [0, 1, 63, 64, 130] {
            for length in [0, 1, 64, 65, 200, 500 - start] {
                var fast = BitBuffer(words: [generator.next(), generator.next()], count: destinationOffset)
                var reference = fast
                fast.append(contentsOf: source, range: start..<start + length)
                for index in start..<start + length { reference.append(source[index]) }
                #expect(fast == reference, "offset \(destinationOffset), range \(start)..<\(start + length)")
            }
        }
    }
}
