internal import CQRNGCarrylessMultiply

/// Carry-less (GF(2)[z]) middle products: the dot products a Toeplitz matrix-vector product over GF(2) is made of.
///
/// Polynomials are runs of 64-bit words, each word 64 coefficients. The middle product of `a` (K + B − 1 words)
/// and `b` (B words) is the K 128-bit sums m_k = Σ_{j<B} a[k + j]·b[j], which are the K full anti-diagonals
/// of the product a·reverse(b): exactly the part of the product Toeplitz hashing keeps. Computed directly it
/// costs what a B × K product costs (Tellegen's principle), half of forming the whole product and slicing it.
///
/// Large middle products use the transposed Karatsuba recursion of Hanrot, Quercia and Zimmermann
/// ("The middle product algorithm I", 2004): with b = (b0, b1) halves of h words and a split in h-word steps,
/// with P = MP(a[h..<3h−1], b0 + b1), the low half of the result is P + MP(a[0..<2h−1] + a[h..<3h−1], b0) and
/// the high half P + MP(a[h..<3h−1] + a[2h..<4h−1], b1): three half-size middle products instead of four. Small
/// ones go to a dot-product kernel.
package struct CarrylessMultiplier: Sendable, Hashable, CustomStringConvertible {
    /// The dot-product kernel at the bottom of the recursion.
    package enum Kernel: String, Sendable, Hashable, CaseIterable {
        /// Plain Swift: 64 × 64-bit products from 4-bit windows. Runs on any CPU.
        case portable
        /// x86-64 PCLMULQDQ through the C shim.
        case pclmul
        /// x86-64 VPCLMULQDQ on AVX-512: eight word products per two instructions.
        case vpclmul

        /// Whether this CPU can run the kernel.
        package var isAvailable: Bool {
            switch self {
            case .portable: true
            case .pclmul: qrng_cpu_has_pclmul()
            case .vpclmul: qrng_cpu_has_vpclmul_avx512()
            }
        }
    }

    /// The kernel in use.
    package let kernel: Kernel
    /// Middle products with at most this many outputs or inputs go straight to the kernel.
    let kernelWords: Int

    /// A multiplier with `kernel`, which must be available on this CPU.
    package init(kernel: Kernel, kernelWords: Int? = nil) {
        precondition(kernel.isAvailable, "the \(kernel) kernel is not available on this CPU")
        self.kernel = kernel
        // Measured with qrng bench on an AMD EPYC (Zen 5): below these sizes the kernel beats another level of
        // recursion.
        let measured = switch kernel {
        case .portable: 8
        case .pclmul: 16
        case .vpclmul: 64
        }
        self.kernelWords = max(2, kernelWords ?? measured)
    }

    /// The fastest kernel this CPU supports, detected at run time.
    package static let best = CarrylessMultiplier(
        kernel: Kernel.vpclmul.isAvailable ? .vpclmul : Kernel.pclmul.isAvailable ? .pclmul : .portable)

    package var description: String { kernel.rawValue }

    /// Words of scratch space a middle product with `outputs` results and `b` of `length` words needs.
    package static func scratchWords(outputs: Int, length: Int) -> Int { 16 * (outputs + length) + 256 }

    /// out[2k] (low word) and out[2k + 1] (high word) ^= Σ_{j<B} a[k + j]·b[j], for k < `outputs`.
    ///
    /// - Parameters:
    ///   - a: `outputs` + `b.count` − 1 words.
    ///   - b: B words.
    ///   - outputs: The number of 128-bit results.
    ///   - out: 2·`outputs` words, added to (XOR).
    ///   - scratch: ``scratchWords(outputs:length:)`` words, not overlapping anything else.
    package func middleProduct(
        _ a: UnsafeBufferPointer<UInt64>, _ b: UnsafeBufferPointer<UInt64>, outputs: Int,
        into out: UnsafeMutableBufferPointer<UInt64>, scratch: UnsafeMutableBufferPointer<UInt64>
    ) {
        guard outputs > 0, !b.isEmpty else { return }
        precondition(a.count >= outputs + b.count - 1, "a needs outputs + b.count − 1 words")
        precondition(out.count >= 2 * outputs, "out needs two words per output")
        precondition(scratch.count >= Self.scratchWords(outputs: outputs, length: b.count), "not enough scratch")
        middle(a.baseAddress!, b.baseAddress!, outputs, b.count, out.baseAddress!, scratch.baseAddress!)
    }

    private func middle(
        _ a: UnsafePointer<UInt64>, _ b: UnsafePointer<UInt64>, _ outputs: Int, _ length: Int,
        _ out: UnsafeMutablePointer<UInt64>, _ scratch: UnsafeMutablePointer<UInt64>
    ) {
        if outputs <= kernelWords || length <= kernelWords { return dotProducts(a, b, outputs, length, out) }
        if outputs > length {
            // Outputs in runs of `length`: each a balanced middle product.
            var start = 0
            while start < outputs {
                let count = min(length, outputs - start)
                middle(a + start, b, count, length, out + 2 * start, scratch)
                start += count
            }
            return
        }
        if outputs < length {
            // b in runs of `outputs` words; their middle products add up.
            var start = 0
            while start < length {
                let count = min(outputs, length - start)
                middle(a + start, b + start, outputs, count, out, scratch)
                start += count
            }
            return
        }
        if length % 2 == 1 {
            // Peel b's last word: an even-sized problem plus a one-word one.
            middle(a, b, outputs, length - 1, out, scratch)
            middle(a + length - 1, b + length - 1, outputs, 1, out, scratch)
            return
        }
        let h = length / 2
        let bSum = scratch
        let p = bSum + h
        let aSum = p + 2 * h
        let rest = aSum + 2 * h
        for index in 0..<h { bSum[index] = b[index] ^ b[h + index] }
        p.update(repeating: 0, count: 2 * h)
        middle(a + h, UnsafePointer(bSum), h, h, p, rest)
        for index in 0..<(2 * h - 1) { aSum[index] = a[index] ^ a[h + index] }
        middle(UnsafePointer(aSum), b, h, h, out, rest)
        for index in 0..<(2 * h - 1) { aSum[index] = a[h + index] ^ a[2 * h + index] }
        middle(UnsafePointer(aSum), b + h, h, h, out + 2 * h, rest)
        for index in 0..<(2 * h) {
            out[index] ^= p[index]
            out[2 * h + index] ^= p[index]
        }
    }

    private func dotProducts(
        _ a: UnsafePointer<UInt64>, _ b: UnsafePointer<UInt64>, _ outputs: Int, _ length: Int,
        _ out: UnsafeMutablePointer<UInt64>
    ) {
        switch kernel {
        case .pclmul: qrng_clmul_middle_pclmul(a, b, outputs, length, out)
        case .vpclmul: qrng_clmul_middle_vpclmul(a, b, outputs, length, out)
        case .portable:
            for j in 0..<length {
                let table = WindowTable(b[j])
                for k in 0..<outputs {
                    let (low, high) = table.multiply(a[k + j])
                    out[2 * k] ^= low
                    out[2 * k + 1] ^= high
                }
            }
        }
    }
}
/// The 16 products of a word with every 4-bit polynomial, for the portable kernel.
private struct WindowTable {
    private var low: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                      UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)
    private var high: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                       UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)

    init(_ a: UInt64) {
        low = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        high = low
        withUnsafeMutableBytes(of: &low) { lowBytes in
            withUnsafeMutableBytes(of: &high) { highBytes in
                let l = lowBytes.bindMemory(to: UInt64.self)
                let h = highBytes.bindMemory(to: UInt64.self)
                for nibble in 1..<16 {
                    for bit in 0..<4 where nibble >> bit & 1 == 1 {
                        l[nibble] ^= a << UInt64(bit)
                        h[nibble] ^= bit == 0 ? 0 : a >> UInt64(64 - bit)
                    }
                }
            }
        }
    }

    /// a · b as a 128-bit (low, high) pair.
    @inline(__always)
    func multiply(_ b: UInt64) -> (UInt64, UInt64) {
        withUnsafeBytes(of: low) { lowBytes in
            withUnsafeBytes(of: high) { highBytes in
                let l = lowBytes.bindMemory(to: UInt64.self)
                let h = highBytes.bindMemory(to: UInt64.self)
                var resultLow: UInt64 = 0
                var resultHigh: UInt64 = 0
                var shift: UInt64 = 60
                while true {
                    let nibble = Int((b >> shift) & 15)
                    resultLow ^= l[nibble]
                    resultHigh ^= h[nibble]
                    if shift == 0 { break }
                    resultHigh = (resultHigh << 4) | (resultLow >> 60)
                    resultLow <<= 4
                    shift -= 4
                }
                return (resultLow, resultHigh)
            }
        }
    }
}
