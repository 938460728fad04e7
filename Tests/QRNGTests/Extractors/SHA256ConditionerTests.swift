import QRNG
import QRNGTestSupport
import Testing

@Suite struct SHA256ConditionerTests {
    /// NIST CAVP SHAVS byte-oriented short messages (testvectors/sha256/SHA256ShortMsg.rsp).
    @Test func cavpShortMessages() throws {
        let records = try TestVectors.records("sha256/SHA256ShortMsg.rsp")
        #expect(records.count == 65)
        for record in records {
            let length = try record.int("Len")
            let message = Array(try record.bytes("Msg").prefix(length / 8))
            let expected = try record.bytes("MD")
            #expect(SHA256.hash(message) == expected, "Len = \(length)")
            var written = [UInt8](repeating: 0, count: 40)
            message.withUnsafeBytes { message in
                written.withUnsafeMutableBytes { SHA256.hash(message, into: $0) }
            }
            #expect(Array(written.prefix(32)) == expected && written.suffix(8).allSatisfy { $0 == 0 }, "Len = \(length)")
        }
    }

    @Test func incrementalUpdatesEqualOneShot() {
        var generator = Xoshiro256StarStar(seed: 50)
        let message = BitBuffer.random(count: 8 * 1000, using: &generator).packedBytes()
        var digest = SHA256()
        digest.update(Array(message[0..<1]))
        digest.update(Array(message[1..<500]))
        digest.update(Array(message[500...]))
        #expect(digest.finalize() == SHA256.hash(message))
    }

    @Test func eachBlockBecomesItsDigestWhateverTheAlignment() throws {
        var generator = Xoshiro256StarStar(seed: 51)
        let input = BitBuffer.random(count: 3 * 520 + 5, using: &generator)
        var conditioner = try SHA256Conditioner(inputBits: 520)
        var output = BitBuffer()
        for start in stride(from: 0, to: input.count, by: 99) {
            conditioner.extract(input.extracting(start..<min(input.count, start + 99)), into: &output)
        }
        var expected = BitBuffer()
        for block in 0..<3 {
            expected.append(contentsOf: BitBuffer(packedBytes: SHA256.hash(input.extracting(block * 520..<(block + 1) * 520).packedBytes())))
        }
        #expect(output == expected)
        #expect(throws: QRNGError.self) { try SHA256Conditioner(inputBits: 100) }
    }

    /// SP 800-90B §3.1.5.1.2 against an independent 100-digit evaluation (tools/conditioning_entropy.py).
    @Test func outputEntropyMatchesTheStandardsFormula() throws {
        let records = try TestVectors.records("conditioning/sha256_output_entropy.rsp")
        #expect(records.count >= 10)
        for record in records {
            let computed = SHA256Conditioner.outputEntropy(
                inputBits: try record.int("input_bits"), inputEntropy: try record.double("input_entropy"))
            let expected = try record.double("output_entropy")
            #expect(abs(computed - expected) < 1e-9, "n_in \(record.fields["input_bits"]!), h_in \(record.fields["input_entropy"]!)")
        }
    }
}
