internal import CQRNGAssessmentKernels
import QRNG

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
