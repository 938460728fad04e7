internal import CQRNGAssessmentKernels
import QRNG

/// Fisher–Yates for bytes with its random numbers drawn from four generators at a time.
///
/// Shuffling a megabyte of samples costs mostly its random numbers: a xoshiro256** output gives two indices, and
/// its dozen operations a step, not the swaps, set the pace. Here four xoshiro256** generators, seeded from the
/// caller's generator, are stepped together and give eight indices a step, lane 0's low and high halves first;
/// with AVX2 a step is one pass of vector instructions (`qrng_shuffle_bytes_avx2`, checked against this code).
/// Each index is uniform (Lemire's method; a rejected half is replaced from a fifth generator), so every
/// arrangement is equally likely; the draws differ from `PermutationTests.permute`'s.
enum ByteShuffle {

    /// Shuffles `bytes` (fewer than 2^32 of them; more are shuffled by `PermutationTests.permute`), with the AVX2
    /// kernel when `vectorised` and the CPU has it.
    static func shuffle<G: RandomNumberGenerator>(
        _ bytes: UnsafeMutableBufferPointer<UInt8>, using generator: inout G, vectorised: Bool = true
    ) {
        let count = bytes.count
        guard count < Int(UInt32.max) else { return PermutationTests.permute(bytes, nil, using: &generator) }
        // Word w of generator g at lanes[4w + g], as the kernel loads them; an all-zero state (a xoshiro
        // generator's one fixed point) is nudged off zero.
        var lanes = [UInt64](repeating: 0, count: 16)
        for lane in 0..<4 {
            for word in 0..<4 { lanes[4 * word + lane] = generator.next() }
            if (0..<4).allSatisfy({ lanes[4 * $0 + lane] == 0 }) { lanes[lane] = 1 }
        }
        var spare = (0..<4).map { _ in generator.next() }
        if spare.allSatisfy({ $0 == 0 }) { spare[0] = 1 }
        guard count > 1 else { return }
        if vectorised && CPUFeatures.hasAVX2 {
            qrng_shuffle_bytes_avx2(bytes.baseAddress!, count, &lanes, &spare)
            return
        }
        var spareGenerator = Xoshiro256StarStar(state: (spare[0], spare[1], spare[2], spare[3]))
        var generators = (0..<4).map { lane in
            Xoshiro256StarStar(state: (lanes[lane], lanes[4 + lane], lanes[8 + lane], lanes[12 + lane]))
        }
        var halves = [UInt32](repeating: 0, count: 8)
        var i = count - 1
        while i >= 1 {
            for lane in 0..<4 {
                let word = generators[lane].next()
                halves[2 * lane] = UInt32(truncatingIfNeeded: word)
                halves[2 * lane + 1] = UInt32(truncatingIfNeeded: word >> 32)
            }
            let steps = min(i, 8)
            for k in 0..<steps {
                let position = i - k
                let other = PermutationTests.bounded32(
                    halves[k], below: UInt32(position + 1), using: &spareGenerator)
                bytes.swapAt(position, other)
            }
            i -= steps
        }
    }
}

/// Uniformly random arrangements of a fixed multiset of zeros and ones, drawn as bits.
///
/// Each draw starts from independent random bits, each a one with probability p (a dyadic fraction near the
/// proportion of ones wanted, or 0 when ones are rare), and then turns uniformly chosen ones into zeros, or zeros
/// into ones, until the count is right. Every step treats all positions alike, so the arrangement's distribution
/// is unchanged by any permutation of the positions; as every arrangement with the right count is a permutation
/// of any other, they are all equally likely, whatever p is. p only decides how many corrections there are:
/// about the standard deviation of a binomial when p matches, a few hundred for a million samples.
struct BinaryShuffler {
    let count: Int
    /// How many samples are the less common value, and which value that is.
    let minority: Int
    let minorityValue: UInt16
    /// The minority's bits are a one with probability `numerator` / 2^`precision` (no random bits when 0).
    let precision: Int
    let numerator: UInt64
    private var bits: [UInt64]

    /// A shuffler for arrangements of `samples`, which are all 0 or 1.
    init(_ samples: [UInt16]) {
        count = samples.count
        var ones = 0
        for sample in samples { ones &+= Int(sample) }
        minorityValue = 2 * ones <= count ? 1 : 0
        minority = min(ones, count - ones)
        bits = [UInt64](repeating: 0, count: (count + 63) / 64)
        if 64 * minority <= count {
            // Few enough to place one at a time.
            precision = 0
            numerator = 0
        } else {
            // The coarsest fraction within 1/128 of the minority's proportion (64ths always are).
            let proportion = Double(minority) / Double(count)
            var chosen = (precision: 6, numerator: UInt64((proportion * 64).rounded()))
            for precision in 1..<6 {
                let scale = Double(1 << precision)
                let numerator = (proportion * scale).rounded()
                if abs(numerator / scale - proportion) <= 1.0 / 128 && numerator > 0 {
                    chosen = (precision, UInt64(numerator))
                    break
                }
            }
            (precision, numerator) = chosen
        }
    }

    /// Writes a uniformly random arrangement of the multiset to `samples`, which must have `count` elements.
    mutating func shuffle<G: RandomNumberGenerator>(_ samples: inout [UInt16], using generator: inout G) {
        precondition(samples.count == count, "the shuffler was made for another number of samples")
        guard minority > 0 else { return }
        let count = count
        let minority = minority
        let precision = precision
        let numerator = numerator
        bits.withUnsafeMutableBufferPointer { bits in
            var set = 0
            if precision == 0 {
                bits.update(repeating: 0)
            } else {
                for index in bits.indices {
                    // Bit by bit, whether the random number (one fresh word per binary digit, least significant
                    // first) is below the numerator.
                    var below: UInt64 = 0
                    for digit in 0..<precision {
                        let word = generator.next()
                        below = numerator >> UInt64(digit) & 1 == 1 ? below | word : below & word
                    }
                    bits[index] = below
                }
                let tail = count & 63
                if tail != 0 { bits[bits.count - 1] &= (1 << UInt64(tail)) - 1 }
                for word in bits { set &+= word.nonzeroBitCount }
            }
            // Corrections at uniformly random positions: each one that lands on a bit of the right kind flips it.
            while set != minority {
                let position = PermutationTests.bounded(count - 1, using: &generator)
                let mask: UInt64 = 1 << UInt64(position & 63)
                let isSet = bits[position >> 6] & mask != 0
                if isSet == (set > minority) {
                    bits[position >> 6] ^= mask
                    set += isSet ? -1 : 1
                }
            }
        }
        Self.expand(bits, into: &samples, one: minorityValue)
    }

    /// Each bit as a sample: `one` where it is set, the other value where it is clear.
    private static func expand(_ bits: [UInt64], into samples: inout [UInt16], one: UInt16) {
        let flip: UInt64 = one == 1 ? 0 : 0x0001_0001_0001_0001
        byteSpread.withUnsafeBufferPointer { spread in
            bits.withUnsafeBufferPointer { bits in
                samples.withUnsafeMutableBufferPointer { samples in
                    let count = samples.count
                    let raw = UnsafeMutableRawPointer(samples.baseAddress!)
                    // Whole bytes of bits: each spreads to eight samples, two words of four.
                    let wholeBytes = count / 8
                    for byteIndex in 0..<wholeBytes {
                        let byte = Int(truncatingIfNeeded: bits[byteIndex >> 3] >> UInt64(8 * (byteIndex & 7))) & 0xff
                        raw.storeBytes(
                            of: (spread[2 * byte] ^ flip).littleEndian, toByteOffset: 16 * byteIndex, as: UInt64.self)
                        raw.storeBytes(
                            of: (spread[2 * byte + 1] ^ flip).littleEndian, toByteOffset: 16 * byteIndex + 8,
                            as: UInt64.self)
                    }
                    for position in (8 * wholeBytes)..<count {
                        let bit = UInt16(truncatingIfNeeded: bits[position >> 6] >> UInt64(position & 63)) & 1
                        samples[position] = one == 1 ? bit : bit ^ 1
                    }
                }
            }
        }
    }

    /// For each byte, its bits (least significant first) as eight little-endian 16-bit zeros and ones, in two
    /// words.
    private static let byteSpread: [UInt64] = (0..<256).flatMap { byte -> [UInt64] in
        (0..<2).map { half in
            var word: UInt64 = 0
            for lane in 0..<4 { word |= UInt64(byte >> (4 * half + lane) & 1) << UInt64(16 * lane) }
            return word
        }
    }
}
