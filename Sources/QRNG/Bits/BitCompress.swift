internal import CQRNGBitKernels

/// Gathers the bits of a word at a mask's positions into the low bits, in order (x86's PEXT).
///
/// The extractors live on this operation: von Neumann keeps the first bit of the unequal pairs, Peres also the
/// XOR of every pair and the value of the equal pairs. BMI2's PEXT does it in one instruction; elsewhere a
/// branch-free six-step version (Hacker's Delight, §7-4) gives the same bits.
enum BitCompress {
    /// Whether this CPU has PEXT. Callers keep the answer and pass it in, so the hot loops do not re-read a
    /// lazily initialised global.
    static let hardwareAvailable = qrng_cpu_has_bmi2()

    @inline(__always)
    static func compress(_ x: UInt64, _ mask: UInt64, hardware: Bool) -> UInt64 {
        hardware ? qrng_pext_u64(x, mask) : portable(x, mask)
    }

    /// Branch-free compress: each step moves every kept bit right by its number of dropped bits below it,
    /// one binary digit of that number at a time.
    static func portable(_ value: UInt64, _ mask: UInt64) -> UInt64 {
        var x = value & mask
        var m = mask
        var zerosBelow = ~m << 1  // ones where a dropped bit lies below, counted in the steps
        for step in 0..<6 {
            var parity = zerosBelow ^ (zerosBelow << 1)
            parity ^= parity << 2
            parity ^= parity << 4
            parity ^= parity << 8
            parity ^= parity << 16
            parity ^= parity << 32
            let moving = parity & m
            let shift = UInt64(1) << UInt64(step)
            m = (m ^ moving) | (moving >> shift)
            let bits = x & moving
            x = (x ^ bits) | (bits >> shift)
            zerosBelow &= ~parity
        }
        return x
    }
}

/// What one run of up to 32 bit pairs gives von Neumann's and Peres' procedures.
struct PairSplit {
    /// The first bits of the unequal pairs (von Neumann's output), right-aligned, and their count.
    var unequalFirstBits: UInt64
    var unequalCount: Int
    /// The XOR of every pair, right-aligned, one bit per pair.
    var xorBits: UInt64
    /// The common value of the equal pairs, right-aligned, and their count.
    var equalBits: UInt64
    var equalCount: Int

    /// Splits the `2·pairs` bits right-aligned in `x` (the first bit of the run the most significant).
    @inline(__always)
    init(_ x: UInt64, pairs: Int, hardware: Bool) {
        // The first bit of each pair sits at an odd position counting from the right.
        let firsts = 0xAAAA_AAAA_AAAA_AAAA & (pairs == 32 ? UInt64.max : (1 << UInt64(2 * pairs)) - 1)
        let unequal = (x ^ (x << 1)) & firsts
        let equal = firsts & ~unequal
        unequalFirstBits = BitCompress.compress(x, unequal, hardware: hardware)
        unequalCount = unequal.nonzeroBitCount
        xorBits = BitCompress.compress(unequal, firsts, hardware: hardware)
        equalBits = BitCompress.compress(x, equal, hardware: hardware)
        equalCount = equal.nonzeroBitCount
    }

    /// Only von Neumann's output.
    @inline(__always)
    static func vonNeumann(_ x: UInt64, pairs: Int, hardware: Bool) -> (UInt64, Int) {
        let firsts = 0xAAAA_AAAA_AAAA_AAAA & (pairs == 32 ? UInt64.max : (1 << UInt64(2 * pairs)) - 1)
        let unequal = (x ^ (x << 1)) & firsts
        return (BitCompress.compress(x, unequal, hardware: hardware), unequal.nonzeroBitCount)
    }

    /// Calls `body` with each run of up to 32 pairs among the `pairs` pairs starting at bit `start` of `input`,
    /// right-aligned, and the number of pairs in it.
    @inline(__always)
    static func forEachRun(of input: BitBuffer, from start: Int, pairs: Int, _ body: (UInt64, Int) -> Void) {
        var pair = 0
        while pair < pairs {
            let count = min(32, pairs - pair)
            let width = 2 * count
            let chunk = input.word(atBit: start + 2 * pair, width: width) >> UInt64(64 - width)
            body(chunk, count)
            pair += count
        }
    }
}
