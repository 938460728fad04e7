internal import CQRNGIntrinsics

/// Multiplication of polynomials over GF(2), the carry-less product behind Toeplitz hashing.
///
/// A polynomial is a run of 64-bit words, least significant word first, bit b of word w the coefficient of
/// z^(64w + b). Small products use a schoolbook kernel; larger ones Karatsuba's recursion, which over GF(2)
/// needs no carries or subtractions: with a = a0 + a1·zᵏ and b = b0 + b1·zᵏ,
/// a·b = a0b0 + ((a0 + a1)(b0 + b1) + a0b0 + a1b1)·zᵏ + a1b1·z²ᵏ.
public struct CarrylessMultiplier: Sendable, Hashable, CustomStringConvertible {
    /// The schoolbook kernel at the bottom of the recursion.
    public enum Kernel: String, Sendable, Hashable, CaseIterable {
        /// Plain Swift: a 4-bit windowed 64 × 64-bit product. Runs on any CPU.
        case portable
        /// x86-64 PCLMULQDQ through the C shim.
        case pclmul
        /// x86-64 VPCLMULQDQ on AVX-512, four products per instruction.
        case vpclmul

        /// Whether this CPU can run the kernel.
        public var isAvailable: Bool {
            switch self {
            case .portable: true
            case .pclmul: qrng_cpu_has_pclmul()
            case .vpclmul: qrng_cpu_has_vpclmul_avx512()
            }
        }
    }

    /// The kernel in use.
    public let kernel: Kernel
    /// Products with an operand of at most this many words go straight to the kernel.
    let schoolbookWords: Int

    /// A multiplier with `kernel`, which must be available on this CPU.
    public init(kernel: Kernel, schoolbookWords: Int? = nil) {
        precondition(kernel.isAvailable, "the \(kernel) kernel is not available on this CPU")
        self.kernel = kernel
        self.schoolbookWords = schoolbookWords ?? (kernel == .portable ? 8 : 24)
    }

    /// The fastest kernel this CPU supports, detected at run time.
    public static let best = CarrylessMultiplier(
        kernel: Kernel.vpclmul.isAvailable ? .vpclmul : Kernel.pclmul.isAvailable ? .pclmul : .portable)

    public var description: String { kernel.rawValue }

    /// Words of scratch space `multiply` needs for operands of `a` and `b` words.
    public static func scratchWords(_ a: Int, _ b: Int) -> Int { 8 * (a + b) + 256 }

    /// out[0 ..< a.count + b.count] = a · b. `out` and `scratch` must not overlap each other or the inputs.
    public func multiply(
        _ a: UnsafeBufferPointer<UInt64>, _ b: UnsafeBufferPointer<UInt64>,
        into out: UnsafeMutableBufferPointer<UInt64>, scratch: UnsafeMutableBufferPointer<UInt64>
    ) {
        precondition(out.count >= a.count + b.count, "the product needs a.count + b.count words")
        precondition(scratch.count >= Self.scratchWords(a.count, b.count), "not enough scratch space")
        guard !a.isEmpty, !b.isEmpty else {
            out.update(repeating: 0)
            return
        }
        product(a.baseAddress!, a.count, b.baseAddress!, b.count, out.baseAddress!, scratch.baseAddress!)
    }

    private func product(
        _ a: UnsafePointer<UInt64>, _ na: Int, _ b: UnsafePointer<UInt64>, _ nb: Int,
        _ out: UnsafeMutablePointer<UInt64>, _ scratch: UnsafeMutablePointer<UInt64>
    ) {
        if na < nb { return product(b, nb, a, na, out, scratch) }
        if nb <= schoolbookWords { return schoolbook(a, na, b, nb, out) }
        if na >= 2 * nb {
            // Unbalanced: slices of a as long as b, each product added in at its offset.
            out.update(repeating: 0, count: na + nb)
            let piece = scratch
            var start = 0
            while start < na {
                let length = min(nb, na - start)
                product(a + start, length, b, nb, piece, scratch + 2 * nb)
                xor(out + start, piece, length + nb)
                start += length
            }
            return
        }
        // Karatsuba with a split at k words: nb > k, and the high halves are the longer ones.
        let k = na / 2
        let highA = na - k
        let highB = nb - k
        let sumB = max(k, highB)
        product(a, k, b, k, out, scratch)  // a0·b0 → out[0 ..< 2k]
        product(a + k, highA, b + k, highB, out + 2 * k, scratch)  // a1·b1 → out[2k ..< na + nb]
        let sa = scratch
        let sb = sa + highA
        let middle = sb + sumB
        let rest = middle + highA + sumB
        sa.update(from: a + k, count: highA)
        xor(sa, a, k)
        sb.update(repeating: 0, count: sumB)
        sb.update(from: b + k, count: highB)
        xor(sb, b, k)
        product(UnsafePointer(sa), highA, UnsafePointer(sb), sumB, middle, rest)
        xor(middle, out, 2 * k)  // + a0·b0
        xor(middle, out + 2 * k, highA + highB)  // + a1·b1
        xor(out + k, middle, min(highA + sumB, na + nb - k))
    }

    private func schoolbook(
        _ a: UnsafePointer<UInt64>, _ na: Int, _ b: UnsafePointer<UInt64>, _ nb: Int,
        _ out: UnsafeMutablePointer<UInt64>
    ) {
        switch kernel {
        case .pclmul: qrng_clmul_schoolbook_pclmul(a, na, b, nb, out)
        case .vpclmul: qrng_clmul_schoolbook_vpclmul(a, na, b, nb, out)
        case .portable:
            out.update(repeating: 0, count: na + nb)
            for i in 0..<na {
                let table = WindowTable(a[i])
                for j in 0..<nb {
                    let (low, high) = table.multiply(b[j])
                    out[i + j] ^= low
                    out[i + j + 1] ^= high
                }
            }
        }
    }

    @inline(__always)
    private func xor(_ target: UnsafeMutablePointer<UInt64>, _ source: UnsafePointer<UInt64>, _ count: Int) {
        for index in 0..<count { target[index] ^= source[index] }
    }

    @inline(__always)
    private func xor(
        _ target: UnsafeMutablePointer<UInt64>, _ source: UnsafeMutablePointer<UInt64>, _ count: Int
    ) {
        xor(target, UnsafePointer(source), count)
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
