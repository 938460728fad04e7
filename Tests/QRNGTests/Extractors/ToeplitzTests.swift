import QRNG
import QRNGTestSupport
import Testing

@Suite struct ToeplitzTests {
    /// y_i = XOR_j T[i][j]·x_j, T[i][j] = s[i − j] (i ≥ j) or s[n + m − 1 − (j − i)] (i < j), bit by bit.
    static func reference(seed: BitBuffer, input: BitBuffer, outputBits m: Int) -> BitBuffer {
        let n = input.count
        var output = BitBuffer()
        for i in 0..<m {
            var bit = false
            for j in 0..<n where input[j] {
                bit = bit != (i >= j ? seed[i - j] : seed[n + m - 1 - (j - i)])
            }
            output.append(bit)
        }
        return output
    }

    @Test(arguments: ["toeplitz/toeplitz.rsp", "toeplitz/toeplitz_structured.rsp"])
    func knownAnswers(file: String) throws {
        let records = try TestVectors.records(file)
        #expect(records.count > 20)
        for record in records {
            let n = try record.int("n")
            let m = try record.int("m")
            let extractor = try ToeplitzExtractor(
                seed: try record.bits("seed", count: n + m - 1), inputBits: n, outputBits: m)
            let output = extractor.hash(try record.bits("input", count: n))
            #expect(output == (try record.bits("output", count: m)), "n = \(n), m = \(m)")
        }
    }

    @Test func agreesWithTheDefinitionOnRandomSizes() throws {
        var generator = Xoshiro256StarStar(seed: 77)
        for _ in 0..<40 {
            let n = Int(generator.next() % 300) + 1
            let m = Int(generator.next() % UInt64(n)) + 1
            let seed = BitBuffer.random(count: n + m - 1, using: &generator)
            let input = BitBuffer.random(count: n, using: &generator)
            let extractor = try ToeplitzExtractor(seed: seed, inputBits: n, outputBits: m)
            #expect(extractor.hash(input) == Self.reference(seed: seed, input: input, outputBits: m), "n \(n) m \(m)")
        }
    }

    @Test func streamingInAnyChunksEqualsHashingEachBlock() throws {
        var generator = Xoshiro256StarStar(seed: 5)
        let (n, m) = (200, 130)
        let seed = BitBuffer.random(count: n + m - 1, using: &generator)
        let input = BitBuffer.random(count: 5 * n + 17, using: &generator)
        var expected = BitBuffer()
        let single = try ToeplitzExtractor(seed: seed, inputBits: n, outputBits: m)
        for block in 0..<5 { expected.append(contentsOf: single.hash(input.extracting(block * n..<(block + 1) * n))) }

        var streaming = try ToeplitzExtractor(seed: seed, inputBits: n, outputBits: m)
        var output = BitBuffer()
        var position = 0
        for chunk in [1, 63, 64, 65, 199, 200, 201, 3, 400].cycled(toCover: input.count) {
            let end = min(input.count, position + chunk)
            streaming.extract(input.extracting(position..<end), into: &output)
            position = end
            if position == input.count { break }
        }
        #expect(output == expected)

        // After a reset the partial block (17 bits) is gone: a further full block hashes on its own.
        streaming.reset()
        let next = input.extracting(0..<n)
        var afterReset = BitBuffer()
        streaming.extract(next, into: &afterReset)
        #expect(afterReset == single.hash(next))
    }

    @Test func extraSeedBitsAreIgnoredAndAShortSeedIsAnError() throws {
        var generator = Xoshiro256StarStar(seed: 9)
        let seed = BitBuffer.random(count: 200, using: &generator)
        let input = BitBuffer.random(count: 100, using: &generator)
        let exact = try ToeplitzExtractor(seed: seed.extracting(0..<149), inputBits: 100, outputBits: 50)
        let longer = try ToeplitzExtractor(seed: seed, inputBits: 100, outputBits: 50)
        #expect(exact.hash(input) == longer.hash(input))
        #expect {
            try ToeplitzExtractor(seed: seed.extracting(0..<148), inputBits: 100, outputBits: 50)
        } throws: { ($0 as? QRNGError)?.context.field == "seed" }
        #expect(throws: QRNGError.self) { try ToeplitzExtractor(seed: seed, inputBits: 100, outputBits: 101) }
        #expect(throws: QRNGError.self) { try ToeplitzExtractor(seed: seed, inputBits: 100, outputBits: 0) }
    }

    @Test func leftoverHashLemmaOutputLength() throws {
        #expect(try leftoverHashOutputLength(inputBits: 4096, minEntropyPerBit: 1) == 3896)
        #expect(try leftoverHashOutputLength(inputBits: 4096, minEntropyPerBit: 0.8) == 3076)  // ⌊3276.8 − 200⌋
        #expect(
            try leftoverHashOutputLength(
                inputBits: 1024, minEntropyPerBit: 0.5, epsilon: try ErrorProbability(log2: -32)) == 448)
        #expect {
            try leftoverHashOutputLength(inputBits: 200, minEntropyPerBit: 1)  // 200 − 200 = 0
        } throws: { error in
            guard let error = error as? QRNGError else { return false }
            return error.code == .invalidArgument && error.message.contains("no output")
        }
        #expect(throws: QRNGError.self) { try leftoverHashOutputLength(inputBits: 4096, minEntropyPerBit: 1.2) }
        #expect(throws: QRNGError.self) { try leftoverHashOutputLength(inputBits: 4096, minEntropyPerBit: 0) }
    }
}

extension Array {
    /// The elements repeated until their sum reaches `total` (for chunk-size patterns).
    func cycled(toCover total: Int) -> [Element] where Element == Int {
        var result: [Int] = []
        var sum = 0
        while sum < total {
            for element in self where sum < total {
                result.append(element)
                sum += element
            }
        }
        return result
    }
}
