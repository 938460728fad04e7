internal import CQRNGAssessmentKernels
import QRNG

/// The runs of a sequence of bits packed 64 to a word: bit i of the sequence is bit i % 64 of word i / 64.
///
/// The permutation tests measure the runs of the same comparisons (below the median; each sample greater than
/// the next) in every one of up to 10,000 shuffles, so this is their inner loop. Packing the comparisons into
/// words lets one XOR find all 64 run boundaries at once and a population count count them; only the longest
/// run needs a look inside a word, and only when the word could hold a run longer than the longest so far.
enum BitRuns {

    /// The number of runs, the length of the longest and the number of ones among the first `count` bits.
    static func measure(_ words: UnsafeBufferPointer<UInt64>, count: Int) -> (runs: Int, longest: Int, ones: Int) {
        guard count > 0 else { return (0, 0, 0) }
        var runs = 1
        var longest = 0
        var ones = 0
        // The run in progress at the end of the words read so far, and the bit it is a run of.
        var current = 0
        var lastBit = words[0] & 1
        let wordCount = (count + 63) / 64
        for index in 0..<wordCount {
            let valid = index == wordCount - 1 ? count - 64 * index : 64
            let validMask: UInt64 = valid == 64 ? ~0 : (1 << UInt64(valid)) - 1
            let word = words[index] & validMask
            ones += word.nonzeroBitCount
            // Bit i of `starts` is set when a new run starts at bit i of this word.
            let starts = (word ^ (word << 1 | lastBit)) & validMask
            lastBit = (word >> UInt64(valid - 1)) & 1
            guard starts != 0 else {
                current += valid
                continue
            }
            runs += starts.nonzeroBitCount
            let first = starts.trailingZeroBitCount
            let last = 63 - starts.leadingZeroBitCount
            longest = max(longest, current + first)
            if last > first && last - first > longest
                && containsGap(starts, from: first, to: last, longerThan: longest)
            {
                var rest = starts & (starts &- 1)
                var previous = first
                while rest != 0 {
                    let next = rest.trailingZeroBitCount
                    longest = max(longest, next - previous)
                    previous = next
                    rest &= rest &- 1
                }
            }
            current = valid - last
        }
        return (runs, max(longest, current), ones)
    }

    /// Whether two successive set bits of `starts` between bits `first` and `last` lie more than `length` apart:
    /// whether the clear bits strictly between them include `length` in a row.
    @inline(__always)
    private static func containsGap(_ starts: UInt64, from first: Int, to last: Int, longerThan length: Int) -> Bool {
        guard length > 0 else { return true }
        // Clear bits of `starts` strictly inside (first, last), as ones.
        let inside = (UInt64(1) << UInt64(last)) &- (UInt64(1) << UInt64(first + 1))
        var ones = ~starts & inside
        // After the loop, bit i is set only if bits i ..< i + length were all set.
        var covered = 1
        while covered < length && ones != 0 {
            let step = min(covered, length - covered)
            ones &= ones >> UInt64(step)
            covered += step
        }
        return ones != 0
    }

    /// Bit i set when `values[i] < threshold`, for i < values.count.
    static func maskBelow(
        _ values: UnsafeBufferPointer<UInt16>, threshold: UInt16, into masks: inout [UInt64],
        vectorized: Bool = CPUFeatures.hasAVX2
    ) {
        let count = values.count
        masks.removeAll(keepingCapacity: true)
        masks.append(contentsOf: repeatElement(0, count: (count + 63) / 64))
        guard count > 0 else { return }
        masks.withUnsafeMutableBufferPointer { masks in
            if vectorized {
                qrng_mask_below_u16_avx2(values.baseAddress!, count, threshold, masks.baseAddress!)
                return
            }
            for i in 0..<count where values[i] < threshold { masks[i >> 6] |= 1 << UInt64(i & 63) }
        }
    }

    /// Bit i set when `values[i] > values[i + 1]`, for i < values.count − 1.
    static func maskDescents(
        _ values: UnsafeBufferPointer<UInt16>, into masks: inout [UInt64],
        vectorized: Bool = CPUFeatures.hasAVX2
    ) {
        let count = max(values.count - 1, 0)
        masks.removeAll(keepingCapacity: true)
        masks.append(contentsOf: repeatElement(0, count: (count + 63) / 64))
        guard count > 0 else { return }
        masks.withUnsafeMutableBufferPointer { masks in
            if vectorized {
                qrng_mask_descents_u16_avx2(values.baseAddress!, count, masks.baseAddress!)
                return
            }
            for i in 0..<count where values[i] > values[i + 1] { masks[i >> 6] |= 1 << UInt64(i & 63) }
        }
    }
}
