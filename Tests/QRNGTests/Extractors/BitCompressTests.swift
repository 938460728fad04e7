@testable import QRNG
import Testing

@Suite struct BitCompressTests {
    static func reference(_ x: UInt64, _ mask: UInt64) -> UInt64 {
        var result: UInt64 = 0
        var position: UInt64 = 0
        for bit in 0..<64 where (mask >> UInt64(bit)) & 1 == 1 {
            result |= ((x >> UInt64(bit)) & 1) << position
            position += 1
        }
        return result
    }

    @Test func portableAndHardwareCompressMatchTheDefinition() {
        var generator = Xoshiro256StarStar(seed: 80)
        let masks: [UInt64] = [0, .max, 0xAAAA_AAAA_AAAA_AAAA, 1, 1 << 63, 0xF0F0]
        for trial in 0..<2000 {
            let x = generator.next()
            let mask = trial < masks.count ? masks[trial] : generator.next() & generator.next()
            #expect(BitCompress.portable(x, mask) == Self.reference(x, mask))
            if BitCompress.hardwareAvailable {
                #expect(BitCompress.compress(x, mask, hardware: true) == Self.reference(x, mask))
            }
        }
    }

    @Test func extractorsGiveTheSameBitsWithAndWithoutPEXT() throws {
        var generator = Xoshiro256StarStar(seed: 81)
        var input = BitBuffer()
        for _ in 0..<200_001 { input.append(generator.next() < UInt64.max / 10 * 6) }
        var hardware = VonNeumannExtractor()
        var portable = VonNeumannExtractor()
        portable.usesHardwareCompress = false
        var (a, b) = (BitBuffer(), BitBuffer())
        hardware.extract(input, into: &a)
        portable.extract(input, into: &b)
        #expect(a == b)
        #expect(PeresExtractor.extract(input, depth: 12, hardware: false)
            == PeresExtractor.extract(input, depth: 12, hardware: BitCompress.hardwareAvailable))
    }
}
