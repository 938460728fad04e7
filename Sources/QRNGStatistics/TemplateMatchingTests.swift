#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import QRNG

/// SP 800-22 §2.7 and §2.8: occurrences of fixed m-bit templates.
extension SP80022 {
    /// The non-overlapping template matching test, §2.7, for every aperiodic template of length m.
    ///
    /// The sequence is cut into N blocks of M = ⌊n/N⌋ bits; W_j counts the template's occurrences in block j,
    /// the window jumping past each match. μ = (M − m + 1)/2^m, σ² = M(2^−m − (2m − 1)·2^−2m),
    /// χ² = Σ (W_j − μ)²/σ², P = igamc(N/2, χ²/2), one P-value per template, in the order of NIST STS's
    /// template files (ascending binary value).
    public static func nonOverlappingTemplateMatching(_ bits: BitBuffer, templateLength: Int = 9,
                                                      blockCount: Int = 8) -> TestResult {
        NonOverlappingTemplateTest(templateLength: templateLength, blockCount: blockCount).run(PackedBits(bits))
    }

    /// The non-overlapping template matching test, §2.7, for the given templates (each `templateLength`
    /// bits, right-aligned, the first bit most significant) instead of all aperiodic ones.
    public static func nonOverlappingTemplateMatching(_ bits: BitBuffer, templates: [UInt32], templateLength: Int,
                                                      blockCount: Int = 8) -> TestResult {
        NonOverlappingTemplateTest(templateLength: templateLength, blockCount: blockCount, templates: templates)
            .run(PackedBits(bits))
    }

    /// The templates of length m (2…21) that NIST STS's `templates/template<m>` files list: those with no
    /// proper prefix equal to a suffix (unbordered, which SP 800-22 calls aperiodic: two occurrences can
    /// never overlap), in ascending order. There are 148 for m = 9.
    public static func aperiodicTemplates(length m: Int) -> [UInt32] {
        precondition((2...21).contains(m), "template lengths are 2…21")
        return (0..<UInt32(1) << UInt32(m)).filter { template in
            !(1..<m).contains { k in
                template >> UInt32(m - k) == template & ((1 << UInt32(k)) - 1)
            }
        }
    }

    /// The overlapping template matching test, §2.8: the all-ones template of length m, N = ⌊n/M⌋ blocks,
    /// νᵢ = the blocks with i overlapping occurrences (i = 0…4) or at least 5, χ² against §3.8's
    /// probabilities, P = igamc(5/2, χ²/2).
    public static func overlappingTemplateMatching(_ bits: BitBuffer, templateLength: Int = 9,
                                                   blockLength: Int = 1032,
                                                   constants: ReferenceConstants = .specification) -> TestResult {
        OverlappingTemplateTest(templateLength: templateLength, blockLength: blockLength, constants: constants)
            .run(PackedBits(bits))
    }

    /// The probabilities that an M-bit block of a random sequence holds exactly u = 0…K − 1, or at least K,
    /// overlapping occurrences of m ones, computed exactly.
    ///
    /// A Markov chain on (the trailing run of ones capped at m − 1, the occurrences so far capped at K) is run
    /// over the M bits. For m = 9, M = 1032, K = 5 this gives SP 800-22 Rev 1a §3.8's values 0.364091,
    /// 0.185659, 0.139381, 0.100571, 0.070432, 0.139865 (the Hamano–Kaneko correction of Rev 1's values).
    public static func overlappingTemplateProbabilities(templateLength m: Int, blockLength: Int,
                                                        classes k: Int = 5) -> [Double] {
        let runStates = m  // trailing run 0…m − 1; a one after m − 1 ones is an occurrence and stays at m − 1
        var state = [Double](repeating: 0, count: runStates * (k + 1))
        var next = state
        state[0] = 1
        for _ in 0..<blockLength {
            for index in next.indices { next[index] = 0 }
            for run in 0..<runStates {
                for count in 0...k {
                    let p = state[run * (k + 1) + count]
                    guard p != 0 else { continue }
                    next[count] += p / 2  // a zero ends the run
                    if run == m - 1 {
                        next[run * (k + 1) + min(count + 1, k)] += p / 2  // the run reaches m: an occurrence
                    } else {
                        next[(run + 1) * (k + 1) + count] += p / 2
                    }
                }
            }
            swap(&state, &next)
        }
        var result = [Double](repeating: 0, count: k + 1)
        for run in 0..<runStates {
            for count in 0...k { result[count] += state[run * (k + 1) + count] }
        }
        return result
    }

    /// NIST STS 2.1.2's class probabilities for the overlapping template test: π_u = `Pr(u, η)` for u < K with
    /// η = (M − m + 1)/2^(m+1), and π_K = 1 − Σ. This is SP 800-22 Rev 1's approximation, which Rev 1a's §3.8
    /// replaced; the published P-values of §2.8.8 and Appendix B were computed with it.
    public static func overlappingTemplateProbabilitiesOfNISTSTS(templateLength m: Int, blockLength: Int,
                                                                 classes k: Int = 5) -> [Double] {
        let eta = Double(blockLength - m + 1) / exp2(Double(m)) / 2
        var result: [Double] = []
        for u in 0..<k {
            if u == 0 {
                result.append(exp(-eta))
                continue
            }
            var sum = 0.0
            for l in 1...u {
                let lnGamma = SpecialFunctions.logGamma
                let logTerm = -eta - Double(u) * log(2) + Double(l) * log(eta) - lnGamma(Double(l + 1))
                    + lnGamma(Double(u)) - lnGamma(Double(l)) - lnGamma(Double(u - l + 1))
                sum += exp(logTerm)
            }
            result.append(sum)
        }
        result.append(1 - result.reduce(0, +))
        return result
    }
}

/// The non-overlapping template test prepared for a template length and block count.
///
/// The count W_j is the number of matches found by sliding a window along the block and jumping m bits past
/// each match (§2.7.4 step 2). For an aperiodic template two occurrences cannot overlap, so this count equals
/// the number of all occurrences, and one pass that tallies every m-bit window of each block serves all 148
/// templates at once. Templates given explicitly are checked for aperiodicity and, if periodic, counted by
/// the window-jumping scan itself.
struct NonOverlappingTemplateTest: Sendable {
    let templateLength: Int
    let blockCount: Int
    let templates: [UInt32]
    private let periodic: [Bool]

    init(templateLength: Int, blockCount: Int, templates: [UInt32]? = nil) {
        precondition((2...16).contains(templateLength), "template lengths are 2…16")
        precondition(blockCount >= 1, "at least one block")
        self.templateLength = templateLength
        self.blockCount = blockCount
        let templates = templates ?? SP80022.aperiodicTemplates(length: templateLength)
        let aperiodic = Set(SP80022.aperiodicTemplates(length: templateLength))
        self.templates = templates
        self.periodic = templates.map { !aperiodic.contains($0) }
    }

    /// The sub-test name of a template, e.g. `B = 000000001`.
    static func name(_ template: UInt32, length: Int) -> String {
        let digits = String(template, radix: 2)
        return "B = " + String(repeating: "0", count: length - digits.count) + digits
    }

    func run(_ bits: PackedBits) -> TestResult {
        let m = templateLength
        let blockLength = bits.count / blockCount
        let mean = Double(blockLength - m + 1) / exp2(Double(m))
        guard blockLength >= m, mean > 0 else {
            return .notApplicable(.nonOverlappingTemplateMatching,
                                  "blocks of M = \(blockLength) bits are shorter than the template (m = \(m))")
        }
        let variance = Double(blockLength) * (1 / exp2(Double(m)) - Double(2 * m - 1) / exp2(Double(2 * m)))
        let patterns = 1 << m
        var counts = [UInt32](repeating: 0, count: patterns * blockCount)
        bits.withWords { words in
            counts.withUnsafeMutableBufferPointer { counts in
                for block in 0..<blockCount {
                    let histogram = counts.baseAddress! + block * patterns
                    Self.tallyWindows(words, from: block * blockLength, to: (block + 1) * blockLength, width: m,
                                      into: histogram)
                }
            }
        }
        var subtests: [SubtestResult] = []
        subtests.reserveCapacity(templates.count)
        for (index, template) in templates.enumerated() {
            var chiSquare = 0.0
            for block in 0..<blockCount {
                let observed = periodic[index]
                    ? bits.withWords { Self.scanCount($0, template, width: m, from: block * blockLength,
                                                      to: (block + 1) * blockLength) }
                    : Int(counts[block * patterns + Int(template)])
                let difference = Double(observed) - mean
                chiSquare += difference * difference / variance
            }
            let pValue = SpecialFunctions.igamc(Double(blockCount) / 2, chiSquare / 2)
            subtests.append(SubtestResult(name: Self.name(template, length: m), statistic: chiSquare, pValue: pValue))
        }
        return TestResult(test: .nonOverlappingTemplateMatching, subtests: subtests)
    }

    /// Adds one to `histogram[v]` for the value v of every `width`-bit window lying inside [start, end).
    static func tallyWindows(_ words: UnsafePointer<UInt64>, from start: Int, to end: Int, width: Int,
                             into histogram: UnsafeMutablePointer<UInt32>) {
        guard end - start >= width else { return }
        let mask = (UInt64(1) << UInt64(width)) - 1
        var window = width > 1 ? words.bits(at: start, width: width - 1) : 0
        var position = start + width - 1  // the last bit of the next window
        // Bit by bit until `position` is word-aligned, then 64 windows per word.
        while position < end && position & 63 != 0 {
            window = ((window << 1) | UInt64(words.bit(at: position))) & mask
            histogram[Int(window)] &+= 1
            position += 1
        }
        while position + 64 <= end {
            let word = words[position >> 6]
            var shift: UInt64 = 64
            while shift > 0 {
                shift -= 1
                window = ((window << 1) | ((word >> shift) & 1)) & mask
                histogram[Int(window)] &+= 1
            }
            position += 64
        }
        while position < end {
            window = ((window << 1) | UInt64(words.bit(at: position))) & mask
            histogram[Int(window)] &+= 1
            position += 1
        }
    }

    /// §2.7.4 step 2 literally: slide the window, and after a match jump past it.
    static func scanCount(_ words: UnsafePointer<UInt64>, _ template: UInt32, width: Int, from start: Int,
                          to end: Int) -> Int {
        var count = 0
        var position = start
        while position + width <= end {
            if words.bits(at: position, width: width) == UInt64(template) {
                count += 1
                position += width
            } else {
                position += 1
            }
        }
        return count
    }
}

/// The overlapping template test prepared for its parameters and class probabilities.
struct OverlappingTemplateTest: Sendable {
    let templateLength: Int
    let blockLength: Int
    let probabilities: [Double]

    init(templateLength: Int, blockLength: Int, constants: ReferenceConstants) {
        precondition(templateLength >= 1 && templateLength <= 63 && blockLength >= templateLength,
                     "the template must fit in a block")
        self.templateLength = templateLength
        self.blockLength = blockLength
        probabilities = constants == .nistSTS
            ? SP80022.overlappingTemplateProbabilitiesOfNISTSTS(templateLength: templateLength,
                                                                blockLength: blockLength)
            : SP80022.overlappingTemplateProbabilities(templateLength: templateLength, blockLength: blockLength)
    }

    func run(_ bits: PackedBits) -> TestResult {
        let m = templateLength
        let blockCount = bits.count / blockLength
        guard blockCount > 0 else {
            return .notApplicable(.overlappingTemplateMatching,
                                  "n = \(bits.count) is shorter than one block of M = \(blockLength) bits")
        }
        // Bit j of `starts` is set when bits j…j + m − 1 are all ones: the AND of the sequence shifted by
        // 0…m − 1. Occurrences in a block are then a popcount over its first M − m + 1 start positions.
        let used = blockCount * blockLength
        let wordCount = (used + 63) / 64
        var starts = [UInt64](repeating: 0, count: wordCount + 1)
        bits.withWords { words in
            for index in 0..<wordCount {
                var all = UInt64.max
                for shift in 0..<m { all &= words.word(at: index * 64 + shift) }
                starts[index] = all
            }
        }
        var counts = [Int](repeating: 0, count: probabilities.count)
        starts.withUnsafeBufferPointer { starts in
            let pointer = starts.baseAddress!
            for block in 0..<blockCount {
                let first = block * blockLength
                let occurrences = pointer.popcount(in: first..<first + blockLength - m + 1)
                counts[min(occurrences, probabilities.count - 1)] += 1
            }
        }
        let chiSquare = SP80022.chiSquare(counts, probabilities: probabilities, total: blockCount)
        let degrees = Double(probabilities.count - 1)
        return TestResult(test: .overlappingTemplateMatching, subtests: [
            SubtestResult(statistic: chiSquare, pValue: SpecialFunctions.igamc(degrees / 2, chiSquare / 2)),
        ])
    }
}
