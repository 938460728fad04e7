import QRNG
import Testing

@Suite struct CarrylessMultiplicationTests {
    static let kernels = CarrylessMultiplier.Kernel.allCases.filter(\.isAvailable)

    /// Bit-by-bit product, the definition.
    static func reference(_ a: [UInt64], _ b: [UInt64]) -> [UInt64] {
        var out = [UInt64](repeating: 0, count: a.count + b.count)
        for i in 0..<(a.count * 64) where (a[i >> 6] >> UInt64(i & 63)) & 1 == 1 {
            for j in 0..<(b.count * 64) where (b[j >> 6] >> UInt64(j & 63)) & 1 == 1 {
                out[(i + j) >> 6] ^= 1 << UInt64((i + j) & 63)
            }
        }
        return out
    }

    static func multiply(_ a: [UInt64], _ b: [UInt64], kernel: CarrylessMultiplier.Kernel) -> [UInt64] {
        let multiplier = CarrylessMultiplier(kernel: kernel)
        var out = [UInt64](repeating: 0xDEAD_BEEF, count: a.count + b.count)
        var scratch = [UInt64](repeating: 0, count: CarrylessMultiplier.scratchWords(a.count, b.count))
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                out.withUnsafeMutableBufferPointer { out in
                    scratch.withUnsafeMutableBufferPointer { scratch in
                        multiplier.multiply(a, b, into: out, scratch: scratch)
                    }
                }
            }
        }
        return out
    }

    @Test(arguments: kernels)
    func smallProductsMatchTheDefinition(kernel: CarrylessMultiplier.Kernel) {
        var generator = Xoshiro256StarStar(seed: 31)
        for (na, nb) in [(1, 1), (1, 5), (3, 2), (7, 9), (12, 1), (25, 30), (40, 17)] {
            let a = (0..<na).map { _ in generator.next() }
            let b = (0..<nb).map { _ in generator.next() }
            #expect(Self.multiply(a, b, kernel: kernel) == Self.reference(a, b), "\(na)×\(nb) words")
        }
        #expect(Self.multiply([.max], [.max], kernel: kernel) == Self.reference([.max], [.max]))
    }

    /// Sizes that take every branch of the recursion: schoolbook, Karatsuba with odd splits, unbalanced slices.
    @Test func allKernelsAgreeOnLargeRandomProducts() {
        var generator = Xoshiro256StarStar(seed: 32)
        for (na, nb) in [(64, 64), (65, 33), (100, 99), (257, 130), (600, 70), (1000, 1), (333, 700)] {
            let a = (0..<na).map { _ in generator.next() }
            let b = (0..<nb).map { _ in generator.next() }
            let results = Self.kernels.map { Self.multiply(a, b, kernel: $0) }
            #expect(results.allSatisfy { $0 == results[0] }, "\(na)×\(nb) words")
            if na * nb <= 70_000 { #expect(results[0] == Self.reference(a, b), "\(na)×\(nb) words") }
        }
    }

    @Test(arguments: kernels)
    func toeplitzIsIdenticalOnEveryKernelForRandomSizes(kernel: CarrylessMultiplier.Kernel) throws {
        var generator = Xoshiro256StarStar(seed: 33)
        var sizes = (0..<25).map { _ in
            let n = Int(generator.next() % 5000) + 1
            return (n, Int(generator.next() % UInt64(n)) + 1)
        }
        sizes += [(64, 64), (65, 1), (4096, 3863), (20_000, 19_000), (100_003, 50_001)]
        for (n, m) in sizes {
            let seed = BitBuffer.random(count: n + m - 1, using: &generator)
            let input = BitBuffer.random(count: n, using: &generator)
            let fast = try ToeplitzExtractor(
                seed: seed, inputBits: n, outputBits: m, multiplier: CarrylessMultiplier(kernel: kernel))
            let portable = try ToeplitzExtractor(
                seed: seed, inputBits: n, outputBits: m, multiplier: CarrylessMultiplier(kernel: .portable))
            let output = fast.hash(input)
            #expect(output.count == m)
            #expect(output == portable.hash(input), "n = \(n), m = \(m)")
            if n <= 300 {
                #expect(output == ToeplitzTests.reference(seed: seed, input: input, outputBits: m), "n \(n) m \(m)")
            }
        }
    }
}
