import Foundation
import QRNG
import QRNGTestSupport
import Testing

@Suite struct PeresTests {
    /// Peres (1992) on arrays, straight from the definition.
    static func reference(_ bits: [Bool], depth: Int) -> [Bool] {
        guard depth > 0, bits.count >= 2 else { return [] }
        let pairs = (0..<bits.count / 2).map { (bits[2 * $0], bits[2 * $0 + 1]) }
        let vonNeumann = pairs.filter { $0.0 != $0.1 }.map(\.0)
        guard depth > 1 else { return vonNeumann }
        return vonNeumann + reference(pairs.map { $0.0 != $0.1 }, depth: depth - 1)
            + reference(pairs.filter { $0.0 == $0.1 }.map(\.0), depth: depth - 1)
    }

    static func array(_ bits: BitBuffer) -> [Bool] { (0..<bits.count).map { bits[$0] } }

    @Test func knownAnswers() throws {
        let records = try TestVectors.records("peres/peres.rsp")
        #expect(records.count >= 9)
        for record in records {
            let input = try record.bits("input", count: try record.int("input_bits"))
            let expected = try record.bits("output", count: try record.int("output_bits"))
            #expect(PeresExtractor.extract(input, depth: try record.int("depth")) == expected, "line \(record.line)")
        }
    }

    @Test func agreesWithTheDefinitionOnRandomInputs() {
        var generator = Xoshiro256StarStar(seed: 40)
        for _ in 0..<30 {
            let count = Int(generator.next() % 3000)
            let depth = Int(generator.next() % 12) + 1
            let bias = UInt64.max / 10 * (3 + generator.next() % 5)
            var input = BitBuffer()
            for _ in 0..<count { input.append(generator.next() < bias) }
            #expect(Self.array(PeresExtractor.extract(input, depth: depth)) == Self.reference(Self.array(input), depth: depth),
                    "\(count) bits, depth \(depth)")
        }
    }

    @Test func depthOneIsVonNeumann() {
        var generator = Xoshiro256StarStar(seed: 41)
        let input = BitBuffer.random(count: 10_001, using: &generator)
        var vonNeumann = VonNeumannExtractor()
        var expected = BitBuffer()
        vonNeumann.extract(input, into: &expected)
        #expect(PeresExtractor.extract(input, depth: 1) == expected)
    }

    @Test func streamingCutsTheInputIntoBlocks() throws {
        var generator = Xoshiro256StarStar(seed: 42)
        let input = BitBuffer.random(count: 3 * 1000 + 123, using: &generator)
        var extractor = try PeresExtractor(blockBits: 1000, depth: 5)
        var output = BitBuffer()
        for start in stride(from: 0, to: input.count, by: 377) {
            extractor.extract(input.extracting(start..<min(input.count, start + 377)), into: &output)
        }
        var expected = BitBuffer()
        for block in 0..<3 {
            expected.append(contentsOf: PeresExtractor.extract(input.extracting(block * 1000..<(block + 1) * 1000), depth: 5))
        }
        #expect(output == expected)
    }

    /// Peres' rate approaches the Shannon entropy h(0.6) = 0.971 bits per input bit: within 2 % with the default
    /// 2²⁰-bit blocks and depth 20; von Neumann alone gets 0.24.
    @Test func rateApproachesTheShannonEntropy() throws {
        var generator = Xoshiro256StarStar(seed: 43)
        let p = 0.6
        var input = BitBuffer(minimumCapacity: 1 << 22)
        let threshold = UInt64(p * 0x1p64)
        for _ in 0..<(1 << 22) { input.append(generator.next() < threshold) }
        var extractor = try PeresExtractor()
        var output = BitBuffer()
        extractor.extract(input, into: &output)
        let shannon = -(p * log2(p) + (1 - p) * log2(1 - p))
        let rate = Double(output.count) / Double(input.count)
        #expect(rate > 0.98 * shannon, "rate \(rate) against h = \(shannon)")
        #expect(rate <= shannon, "rate \(rate) against h = \(shannon)")
        // And the output is unbiased: within 5 standard deviations of half ones.
        let ones = Double(output.nonzeroBitCount)
        #expect(abs(ones - Double(output.count) / 2) < 5 * (Double(output.count) / 4).squareRoot())
    }

    @Test func badParametersAreRejected() {
        #expect(throws: QRNGError.self) { try PeresExtractor(blockBits: 7) }
        #expect(throws: QRNGError.self) { try PeresExtractor(blockBits: 0) }
        #expect(throws: QRNGError.self) { try PeresExtractor(depth: 0) }
        #expect(throws: QRNGError.self) { try PeresExtractor(depth: 65) }
    }
}
