internal import CQRNGAssessmentKernels
import QRNG

/// The permutation tests of SP 800-90B §5.1: nineteen statistics (the eleven tests, periodicity and covariance at
/// lags 1, 2, 8, 16 and 32) on the samples and on up to 10,000 random shuffles of them.
///
/// A statistic fails when the original value ranks among the 5 highest or the 5 lowest of the 10,001 values: with
/// C0 = shuffles above it, C1 = equal and C2 = below, it fails when C0 + C1 ≤ 5 or C1 + C2 ≤ 5. As the reference
/// tool does, a statistic stops being computed as soon as both sums exceed 5 (its outcome can no longer change),
/// and the shuffling stops when every statistic is settled, so IID data needs only a few dozen shuffles. Which
/// generator shuffles does not matter for agreement with the tool: the test is a rank test whose outcome on IID
/// data is random either way (the tool seeds from /dev/urandom).
///
/// Inputs follow the tool: the statistics run on the translated samples, except the excursion, the covariances of
/// non-binary data and the compression, which use the raw values; binary data is first converted (§5.1:
/// Conversion I, the number of ones in each 8-bit block, for the directional runs, periodicity and covariance;
/// Conversion II, the 8-bit blocks as bytes, for the collision statistics), and its median is taken as 0.5.
enum PermutationTests {
    static let names = [
        "excursion", "numDirectionalRuns", "lenDirectionalRuns", "numIncreasesDecreases", "numRunsMedian",
        "lenRunsMedian", "avgCollision", "maxCollision", "periodicity(1)", "periodicity(2)", "periodicity(8)",
        "periodicity(16)", "periodicity(32)", "covariance(1)", "covariance(2)", "covariance(8)", "covariance(16)",
        "covariance(32)", "compression",
    ]
    static let lags = [1, 2, 8, 16, 32]
    static let maximumShuffles = 10_000

    static func run<G: RandomNumberGenerator>(
        symbols: [UInt16], raw: [UInt16], alphabetSize k: Int, maximumShuffles: Int = maximumShuffles,
        using generator: inout G
    ) -> (results: [IIDTestResults.Permutation], shuffles: Int) {
        let n = symbols.count
        var rawMean = 0.0
        var total = 0
        for value in raw { total += Int(value) }
        rawMean = Double(total) / Double(n)
        let median: Double
        if k == 2 {
            median = 0.5
        } else {
            // The middle order statistics from a histogram of the symbols (all below k), not a sort.
            var counts = [Int](repeating: 0, count: max(k, Int(symbols.max() ?? 0) + 1))
            for symbol in symbols { counts[Int(symbol)] += 1 }
            func orderStatistic(_ rank: Int) -> Double {
                var seen = 0
                for (symbol, count) in counts.enumerated() {
                    seen += count
                    if seen > rank { return Double(symbol) }
                }
                return 0
            }
            median = n & 1 == 1 ? orderStatistic(n / 2) : (orderStatistic(n / 2) + orderStatistic(n / 2 - 1)) / 2.0
        }
        let context = StatisticContext(alphabetSize: k, rawMean: rawMean, median: median)
        var active = [Bool](repeating: true, count: names.count)
        let original = context.statistics(symbols, raw, active: active)
        var above = [Int](repeating: 0, count: names.count)
        var equal = [Int](repeating: 0, count: names.count)
        var below = [Int](repeating: 0, count: names.count)

        let sameArrays = symbols == raw
        var shuffledSymbols = symbols
        var shuffledRaw = sameArrays ? [] : raw
        // Binary samples are a multiset of ones and zeros: any uniformly random arrangement of it will do, and one
        // can be drawn without moving elements about.
        var binaryShuffler = sameArrays && k == 2 ? BinaryShuffler(symbols) : nil
        // Samples that fit a byte are shuffled as bytes: half the memory for the shuffle's scattered swaps, and
        // `ByteShuffle`'s indices, drawn from four generators at a time.
        var narrowSymbols = sameArrays && binaryShuffler == nil && !symbols.contains { $0 > UInt8.max }
            ? symbols.map { UInt8(truncatingIfNeeded: $0) } : nil
        var shuffles = 0
        while shuffles < maximumShuffles && active.contains(true) {
            if binaryShuffler != nil {
                binaryShuffler!.shuffle(&shuffledSymbols, using: &generator)
            } else if narrowSymbols != nil {
                shuffle(&narrowSymbols!, using: &generator)
                widen(narrowSymbols!, into: &shuffledSymbols)
            } else if sameArrays {
                shuffle(&shuffledSymbols, using: &generator)
            } else {
                shuffle(&shuffledSymbols, &shuffledRaw, using: &generator)
            }
            shuffles += 1
            let values = context.statistics(shuffledSymbols, sameArrays ? shuffledSymbols : shuffledRaw, active: active)
            for j in 0..<names.count where active[j] {
                if values[j] > original[j] {
                    above[j] += 1
                } else if values[j] == original[j] {
                    equal[j] += 1
                } else {
                    below[j] += 1
                }
                if above[j] + equal[j] > 5 && equal[j] + below[j] > 5 { active[j] = false }
            }
        }
        let results = names.indices.map { j in
            IIDTestResults.Permutation(
                name: names[j], original: original[j], above: above[j], equal: equal[j], below: below[j],
                passed: above[j] + equal[j] > 5 && equal[j] + below[j] > 5)
        }
        return (results, shuffles)
    }

    /// Fisher–Yates from the end, with Lemire's unbiased bounded integers.
    static func shuffle<G: RandomNumberGenerator>(_ a: inout [UInt16], using generator: inout G) {
        a.withUnsafeMutableBufferPointer { a in permute(a, nil, using: &generator) }
    }

    /// Fisher–Yates on bytes, its indices drawn four generators at a time (`ByteShuffle`).
    static func shuffle<G: RandomNumberGenerator>(_ a: inout [UInt8], using generator: inout G) {
        a.withUnsafeMutableBufferPointer { a in ByteShuffle.shuffle(a, using: &generator) }
    }

    /// Each byte as a 16-bit sample; `wide` has as many elements as `narrow`.
    static func widen(_ narrow: [UInt8], into wide: inout [UInt16]) {
        narrow.withUnsafeBufferPointer { narrow in
            wide.withUnsafeMutableBufferPointer { wide in
                for index in 0..<narrow.count { wide[index] = UInt16(narrow[index]) }
            }
        }
    }

    /// Shuffles `a` and `b` with the same permutation.
    static func shuffle<G: RandomNumberGenerator>(_ a: inout [UInt16], _ b: inout [UInt16], using generator: inout G) {
        precondition(a.count == b.count, "arrays shuffled together have one length")
        a.withUnsafeMutableBufferPointer { a in
            b.withUnsafeMutableBufferPointer { b in permute(a, b, using: &generator) }
        }
    }

    /// Below 2^32 elements each 64-bit output of the generator gives two bounded integers, drawn as a pair in one
    /// step of the loop. (Carrying a spare half from one draw to the next instead made every draw wait on the
    /// spare's state and cost over twice as much.)
    @inline(__always)
    static func permute<Element, G: RandomNumberGenerator>(
        _ a: UnsafeMutableBufferPointer<Element>, _ b: UnsafeMutableBufferPointer<UInt16>?, using generator: inout G
    ) {
        @inline(__always) func swapBoth(_ i: Int, _ j: Int) {
            a.swapAt(i, j)
            b?.swapAt(i, j)
        }
        var i = a.count - 1
        while i >= Int(UInt32.max) {
            swapBoth(i, bounded(i, using: &generator))
            i -= 1
        }
        while i >= 2 {
            let word = generator.next()
            swapBoth(i, bounded32(UInt32(truncatingIfNeeded: word), below: UInt32(i + 1), using: &generator))
            swapBoth(i - 1, bounded32(UInt32(truncatingIfNeeded: word >> 32), below: UInt32(i), using: &generator))
            i -= 2
        }
        if i == 1 { swapBoth(1, bounded(1, using: &generator)) }
    }

    /// A uniform integer in 0..<range from the 32 random `bits` (Lemire's method), drawing fresh low halves of the
    /// generator's output in the rare case that `bits` falls in the rejected sliver.
    @inline(__always)
    static func bounded32<G: RandomNumberGenerator>(
        _ bits: UInt32, below range: UInt32, using generator: inout G
    ) -> Int {
        var product = UInt64(bits) &* UInt64(range)
        if UInt32(truncatingIfNeeded: product) < range {
            let threshold = (0 &- range) % range
            while UInt32(truncatingIfNeeded: product) < threshold {
                product = UInt64(UInt32(truncatingIfNeeded: generator.next())) &* UInt64(range)
            }
        }
        return Int(product >> 32)
    }

    /// A uniform integer in 0...upper.
    @inline(__always)
    static func bounded<G: RandomNumberGenerator>(_ upper: Int, using generator: inout G) -> Int {
        let range = UInt64(upper) + 1
        var product = generator.next().multipliedFullWidth(by: range)
        if product.low < range {
            let threshold = (0 &- range) % range
            while product.low < threshold { product = generator.next().multipliedFullWidth(by: range) }
        }
        return Int(product.high)
    }
}

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

/// Computes the nineteen statistics of one arrangement of the samples.
struct StatisticContext {
    let alphabetSize: Int
    let rawMean: Double
    let median: Double
    /// The compression statistic's buffers, kept from one shuffle to the next.
    let compressionWorkspace = CompressionWorkspace()

    func statistics(_ symbols: [UInt16], _ raw: [UInt16], active: [Bool]) -> [Double] {
        var values = [Double](repeating: -1, count: PermutationTests.names.count)
        var masks: [UInt64] = []
        let binary = alphabetSize == 2
        symbols.withUnsafeBufferPointer { data in
            raw.withUnsafeBufferPointer { raw in
                if active[0] { values[0] = excursion(raw) }
                // Conversions for binary data (§5.1): ones per 8-bit block, and the blocks as bytes.
                var ones: [UInt16] = []
                var bytes: [UInt16] = []
                if binary {
                    let blocks = (data.count + 7) / 8
                    ones = [UInt16](repeating: 0, count: blocks)
                    bytes = [UInt16](repeating: 0, count: blocks)
                    Self.convertBinary(data, ones: &ones, bytes: &bytes)
                }
                ones.withUnsafeBufferPointer { ones in
                    bytes.withUnsafeBufferPointer { bytes in
                        let counted = binary ? ones : data
                        if active[1] || active[2] || active[3] {
                            let (runs, longest, most) = directionalRuns(counted, masks: &masks)
                            values[1] = Double(runs)
                            values[2] = Double(longest)
                            values[3] = Double(most)
                        }
                        if active[4] || active[5] {
                            let (runs, longest) = medianRuns(data, masks: &masks)
                            values[4] = Double(runs)
                            values[5] = Double(longest)
                        }
                        if active[6] || active[7] {
                            let (average, maximum) = collisions(
                                binary ? bytes : data, alphabet: binary ? 256 : alphabetSize)
                            values[6] = average
                            values[7] = Double(maximum)
                        }
                        let covaried = binary ? ones : raw
                        // All ten in one pass where the kernel applies (one array for both, values below 256) and
                        // more than one is still wanted.
                        if CPUFeatures.hasAVX2 && counted.baseAddress == covaried.baseAddress && counted.count > 0
                            && (binary || alphabetSize <= 256) && active[8..<18].filter({ $0 }).count > 1
                        {
                            var matches = [UInt64](repeating: 0, count: 5)
                            var products = [UInt64](repeating: 0, count: 5)
                            qrng_lag_statistics_u8_avx2(counted.baseAddress!, counted.count, &matches, &products)
                            for index in 0..<5 {
                                if active[8 + index] { values[8 + index] = Double(matches[index]) }
                                if active[13 + index] { values[13 + index] = Double(products[index]) }
                            }
                        } else {
                            for (index, lag) in PermutationTests.lags.enumerated() {
                                if active[8 + index] { values[8 + index] = Double(periodicity(counted, lag: lag)) }
                                if active[13 + index] { values[13 + index] = Double(covariance(covaried, lag: lag)) }
                            }
                        }
                    }
                }
                if active[18] { values[18] = Double(compression(raw)) }
            }
        }
        return values
    }

    /// §5.1's conversions of binary data: for each block of eight bits (the last one possibly shorter), the
    /// number of ones, and the bits read as a byte, first bit most significant.
    static func convertBinary(_ data: UnsafeBufferPointer<UInt16>, ones: inout [UInt16], bytes: inout [UInt16]) {
        let whole = data.count / 8
        // The samples are 0 or 1, four to a word as 16-bit lanes. The lanes of the two words' sum (each at most 2)
        // add up in the top lane of its product with 1 in every lane (no population count: the baseline x86-64
        // target has none, and its stand-in costs more). For the byte, lane i of (first four << 4 | last four) is 16·s[i] + s[4 + i], which times 2^(3 − i)
        // gives s[i]'s and s[4 + i]'s bits of the byte; one multiply shifts all four lanes so these products meet
        // at bit 48 (the other products land above bit 64 or below bit 40, and their sum stays below bit 48).
        let gather: UInt64 = 1 << 51 | 1 << 34 | 1 << 17 | 1
        let sumLanes: UInt64 = 0x0001_0001_0001_0001
        ones.withUnsafeMutableBufferPointer { ones in
            bytes.withUnsafeMutableBufferPointer { bytes in
                let raw = UnsafeRawPointer(data.baseAddress!)
                for block in 0..<whole {
                    let first = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 16 * block, as: UInt64.self))
                    let last = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 16 * block + 8, as: UInt64.self))
                    ones[block] = UInt16(truncatingIfNeeded: ((first &+ last) &* sumLanes) &>> 48)
                    bytes[block] = UInt16(truncatingIfNeeded: ((first &<< 4 | last) &* gather) &>> 48) & 0xff
                }
                for i in (8 * whole)..<data.count {
                    ones[i >> 3] += data[i]
                    bytes[i >> 3] |= data[i] << UInt16(7 - (i & 7))
                }
            }
        }
    }

    func excursion(_ raw: UnsafeBufferPointer<UInt16>) -> Double {
        if CPUFeatures.hasAVX2, let base = raw.baseAddress {
            return qrng_excursion_avx2(base, raw.count, rawMean)
        }
        return portableExcursion(raw)
    }


    /// The excursion one sample at a time (the AVX2 kernel computes the same doubles).
    func portableExcursion(_ raw: UnsafeBufferPointer<UInt16>) -> Double {
        // The running sum is a whole number below 2^53, so summing in integers gives the same doubles as summing
        // in doubles, without a floating-point addition's latency between one sample and the next.
        var sum = 0
        var largest = 0.0
        for i in 0..<raw.count {
            sum &+= Int(raw[i])
            let deviation = abs(Double(sum) - Double(i &+ 1) * rawMean)
            largest = deviation > largest ? deviation : largest
        }
        return largest
    }

    /// Runs of the sequence of comparisons s[i] > s[i+1] (−1) or ≤ (+1): their number, the longest, and the larger
    /// of the numbers of +1 and −1.
    func directionalRuns(_ s: UnsafeBufferPointer<UInt16>, masks: inout [UInt64]) -> (Int, Int, Int) {
        let count = s.count - 1
        guard count > 0 else { return (0, 0, 0) }
        BitRuns.maskDescents(s, into: &masks)
        let (runs, longest, downs) = masks.withUnsafeBufferPointer { BitRuns.measure($0, count: count) }
        return (runs, longest, max(downs, count - downs))
    }

    /// Runs of the sequence s[i] < median (−1) or ≥ median (+1): their number and the longest.
    func medianRuns(_ s: UnsafeBufferPointer<UInt16>, masks: inout [UInt64]) -> (Int, Int) {
        guard !s.isEmpty else { return (0, 0) }
        // For whole-number samples, s < median exactly when s < ⌈median⌉.
        let threshold = UInt16(clamping: Int(median.rounded(.up)))
        BitRuns.maskBelow(s, threshold: threshold, into: &masks)
        let (runs, longest, _) = masks.withUnsafeBufferPointer { BitRuns.measure($0, count: s.count) }
        return (runs, longest)
    }

    /// §5.1.7/§5.1.8: from the start, the number of samples read until one repeats; then again after it.
    func collisions(_ s: UnsafeBufferPointer<UInt16>, alphabet: Int) -> (Double, Int) {
        var seen = [Int32](repeating: -1, count: alphabet)
        var window: Int32 = 0
        var sum = 0
        var count = 0
        var maximum = 0
        var start = 0
        seen.withUnsafeMutableBufferPointer { seen in
            var i = 0
            while i < s.count {
                let symbol = Int(s[i])
                if seen[symbol] == window {
                    let length = i - start + 1
                    sum += length
                    count += 1
                    maximum = max(maximum, length)
                    window += 1
                    start = i + 1
                } else {
                    seen[symbol] = window
                }
                i += 1
            }
        }
        return (Double(sum) / Double(count), maximum)
    }

    /// Counted in arithmetic, without a branch (matches are too irregular to predict) or a comparison, which the
    /// compiler otherwise turns back into a branch; the loop is then vectorised.
    func periodicity(_ s: UnsafeBufferPointer<UInt16>, lag: Int) -> Int {
        guard s.count > lag else { return 0 }
        let base = s.baseAddress!
        // Counted in 32 bits, four to a vector rather than two: below 2^32 samples the count cannot wrap.
        guard s.count - lag < Int(UInt32.max) else {
            var matches = 0
            for i in 0..<(s.count - lag) where base[i] == base[i &+ lag] { matches += 1 }
            return matches
        }
        var matches: UInt32 = 0
        for i in 0..<(s.count - lag) {
            // 1 exactly when the two are equal: their difference minus one wraps to the top bit only from zero.
            let difference = UInt32(base[i] ^ base[i &+ lag])
            matches &+= (difference &- 1) >> 31
        }
        return Int(matches)
    }

    func covariance(_ s: UnsafeBufferPointer<UInt16>, lag: Int) -> UInt64 {
        guard s.count > lag else { return 0 }
        let base = s.baseAddress!
        var sum: UInt64 = 0
        // Products of 16-bit values fit 32 bits.
        for i in 0..<(s.count - lag) { sum &+= UInt64(UInt32(base[i]) &* UInt32(base[i &+ lag])) }
        return sum
    }

    /// §5.1.11: the samples written as decimal numbers separated by spaces, compressed with bzip2 at block size 5
    /// as the reference tool calls libbz2 (`BZ2_bzBuffToBuffCompress(…, 5, 0, 0)`); `Bzip2Length` gives that size
    /// without compressing.
    func compression(_ raw: UnsafeBufferPointer<UInt16>) -> Int {
        // Numbers below 1,000 (samples of up to 9 bits, and more when small) without writing the text.
        if let length = Bzip2Length.compressedLength(ofDecimal: raw, workspace: compressionWorkspace.bzip2) {
            return length
        }
        // Each value's digits and the space after it, packed little-endian in a word: written eight bytes at a
        // time, the text advances by the digit count plus one. Values run up to 65,535, five digits.
        let text = compressionWorkspace.text(capacity: raw.count * 6 + 8)
        var length = 0
        Self.decimalWords.withUnsafeBufferPointer { words in
            for value in raw {
                let word = words[Int(value)]
                UnsafeMutableRawPointer(text + length).storeBytes(of: word, as: UInt64.self)
                length &+= Int(word >> 56)
            }
        }
        // No space after the last value.
        if length > 0 { length -= 1 }
        return Bzip2Length.compressedLength(
            of: UnsafeBufferPointer(start: text, count: length), workspace: compressionWorkspace.bzip2)
    }

    /// For each 16-bit value: its decimal digits and a space in the low bytes (little-endian), their count in the
    /// top byte.
    static let decimalWords: [UInt64] = (0...Int(UInt16.max)).map { value in
        let characters = Array(String(value).utf8) + [32]
        var word: UInt64 = 0
        for (index, character) in characters.enumerated() { word |= UInt64(character) << (8 * index) }
        return word | UInt64(characters.count) << 56
    }
}

/// Buffers for the compression statistic (§5.1.11): the samples' text and bzip2's, allocated on first use and
/// kept, so that the shuffles after the first touch no new memory.
final class CompressionWorkspace {
    private var textBuffer = UnsafeMutablePointer<UInt8>.allocate(capacity: 0)
    private var textCapacity = 0
    /// At block size 5, as the reference tool calls libbz2.
    private(set) lazy var bzip2 = Bzip2Length.Workspace(blockSize100k: 5)

    /// Room for `capacity` bytes of text (its contents are not kept).
    func text(capacity: Int) -> UnsafeMutablePointer<UInt8> {
        if capacity > textCapacity {
            textBuffer.deallocate()
            textBuffer = .allocate(capacity: capacity)
            textCapacity = capacity
        }
        return textBuffer
    }

    deinit { textBuffer.deallocate() }
}
