import QRNG
import QRNGTestSupport
import Testing

@Suite struct CarrylessMultiplicationTests {
    static let kernels = CarrylessMultiplier.Kernel.allCases.filter(\.isAvailable)

    /// m_k = Σ_j a[k + j]·b[j], each product carry-less and bit by bit: the definition.
    static func reference(_ a: [UInt64], _ b: [UInt64], outputs: Int) -> [UInt64] {
        var out = [UInt64](repeating: 0, count: 2 * outputs)
        for k in 0..<outputs {
            for j in 0..<b.count {
                for bit in 0..<64 where (b[j] >> UInt64(bit)) & 1 == 1 {
                    out[2 * k] ^= a[k + j] << UInt64(bit)
                    if bit > 0 { out[2 * k + 1] ^= a[k + j] >> UInt64(64 - bit) }
                }
            }
        }
        return out
    }

    static func middleProduct(
        _ a: [UInt64], _ b: [UInt64], outputs: Int, kernel: CarrylessMultiplier.Kernel, kernelWords: Int? = nil
    ) -> [UInt64] {
        let multiplier = CarrylessMultiplier(kernel: kernel, kernelWords: kernelWords)
        var out = [UInt64](repeating: 0, count: 2 * outputs)
        var scratch = [UInt64](repeating: 0, count: CarrylessMultiplier.scratchWords(outputs: outputs, length: b.count))
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                out.withUnsafeMutableBufferPointer { out in
                    scratch.withUnsafeMutableBufferPointer { scratch in
                        multiplier.middleProduct(a, b, outputs: outputs, into: out, scratch: scratch)
                    }
                }
            }
        }
        return out
    }

    static func random(_ count: Int, _ generator: inout Xoshiro256StarStar) -> [UInt64] {
        (0..<count).map { _ in generator.next() }
    }

    /// Sizes that take every branch of the recursion (small kernels force deep recursion): balanced even and
    /// odd, more outputs than inputs, fewer, and the kernel alone.
    @Test(arguments: kernels)
    func middleProductsMatchTheDefinition(kernel: CarrylessMultiplier.Kernel) {
        var generator = Xoshiro256StarStar(seed: 31)
        for (outputs, length) in [(1, 1), (3, 5), (8, 8), (9, 9), (16, 16), (17, 40), (40, 17), (33, 64), (70, 70)] {
            let a = Self.random(outputs + length - 1, &generator)
            let b = Self.random(length, &generator)
            let expected = Self.reference(a, b, outputs: outputs)
            for kernelWords in [2, 3, 8, 32] {
                #expect(Self.middleProduct(a, b, outputs: outputs, kernel: kernel, kernelWords: kernelWords) == expected,
                        "\(outputs) outputs, \(length) words, kernel \(kernelWords)")
            }
        }
    }

    @Test func allKernelsAgreeOnLargeMiddleProducts() {
        var generator = Xoshiro256StarStar(seed: 32)
        for (outputs, length) in [(512, 512), (513, 300), (100, 999), (1024, 1023)] {
            let a = Self.random(outputs + length - 1, &generator)
            let b = Self.random(length, &generator)
            let results = Self.kernels.map { Self.middleProduct(a, b, outputs: outputs, kernel: $0) }
            #expect(results.allSatisfy { $0 == results[0] }, "\(outputs) × \(length)")
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
