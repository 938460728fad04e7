/// The xoshiro256** pseudo-random generator (Blackman and Vigna, 2018), which drives qrng's simulations.
///
/// Fast and statistically strong, but not cryptographic and not quantum: whatever it drives is labelled
/// simulated. A 64-bit seed is expanded to the 256-bit state with SplitMix64, as the authors recommend.
package struct Xoshiro256StarStar: RandomNumberGenerator, Sendable, Hashable {
    @usableFromInline var s0, s1, s2, s3: UInt64

    /// Creates a generator whose output is fixed by `seed`.
    package init(seed: UInt64) {
        var splitMix = seed
        func next() -> UInt64 {
            splitMix &+= 0x9E37_79B9_7F4A_7C15
            var z = splitMix
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        (s0, s1, s2, s3) = (next(), next(), next(), next())
    }

    /// A generator in the given state (not all zero), for code that seeds several from one.
    package init(state: (UInt64, UInt64, UInt64, UInt64)) {
        precondition(state != (0, 0, 0, 0), "xoshiro256** never leaves the all-zero state")
        (s0, s1, s2, s3) = state
    }

    @inlinable
    package mutating func next() -> UInt64 {
        let result = rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        return result
    }

    /// A uniform double in (0, 1], never zero, so that its logarithm is finite.
    @inlinable
    package mutating func nextOpenUnitInterval() -> Double {
        Double((next() >> 11) + 1) * 0x1p-53
    }

    @inlinable
    func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
}
