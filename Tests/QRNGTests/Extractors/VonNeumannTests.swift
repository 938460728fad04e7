import QRNG
import QRNGTestSupport
import Testing

@Suite struct VonNeumannTests {
    static func reference(_ input: BitBuffer) -> BitBuffer {
        var output = BitBuffer()
        for pair in 0..<(input.count / 2) where input[2 * pair] != input[2 * pair + 1] {
            output.append(input[2 * pair])
        }
        return output
    }

    @Test func knownAnswers() throws {
        let records = try TestVectors.records("vonneumann/vonneumann.rsp")
        #expect(records.count >= 10)
        for record in records {
            let input = try record.bits("input", count: try record.int("input_bits"))
            let expected = try record.bits("output", count: try record.int("output_bits"))
            var extractor = VonNeumannExtractor()
            var output = BitBuffer()
            extractor.extract(input, into: &output)
            #expect(output == expected, "input \(input)")
        }
    }

    @Test func streamingInAnyChunksEqualsTheReference() {
        var generator = Xoshiro256StarStar(seed: 21)
        let input = BitBuffer.random(count: 5000, using: &generator)
        for chunk in [1, 2, 3, 7, 63, 64, 65, 128, 1001] {
            var extractor = VonNeumannExtractor()
            var output = BitBuffer()
            var position = 0
            while position < input.count {
                let end = min(input.count, position + chunk)
                extractor.extract(input.extracting(position..<end), into: &output)
                position = end
            }
            #expect(output == Self.reference(input), "chunks of \(chunk)")
        }
    }

    @Test func resetDropsAnUnpairedBit() {
        var extractor = VonNeumannExtractor()
        var output = BitBuffer()
        extractor.extract(BitBuffer(packedBytes: [0x80], count: 1), into: &output)
        extractor.reset()
        extractor.extract(BitBuffer(packedBytes: [0x00], count: 1), into: &output)
        #expect(output.isEmpty, "1 then reset then 0 must not form the pair 10")
    }

    @Test func biasedIndependentBitsComeOutUnbiased() {
        var generator = Xoshiro256StarStar(seed: 4)
        var input = BitBuffer()
        for _ in 0..<400_000 { input.append(generator.next() < UInt64.max / 10 * 7) }  // P(1) = 0.7
        var extractor = VonNeumannExtractor()
        var output = BitBuffer()
        extractor.extract(input, into: &output)
        let expectedCount = 200_000 * 2 * 0.7 * 0.3
        #expect(abs(Double(output.count) - expectedCount) < 5 * (200_000 * 0.42 * 0.58).squareRoot())
        let ones = Double(output.nonzeroBitCount)
        #expect(abs(ones - Double(output.count) / 2) < 5 * (Double(output.count) / 4).squareRoot())
    }
}
