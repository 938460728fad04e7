import QRNG

/// SP 800-22 §2.3 and §2.4: runs of identical bits, and the longest run of ones in blocks.
extension SP80022 {
    /// The runs test, §2.3.
    ///
    /// V_n(obs) = 1 + the number of k with εₖ ≠ εₖ₊₁, P = erfc(|V_n − 2nπ(1−π)| / (2√(2n)·π(1−π))). When the
    /// frequency prerequisite fails, |π − ½| ≥ τ = 2/√n, the standard sets the P-value to 0 (§2.3.4 step 2),
    /// so the sequence fails rather than being left out; the statistic is then reported as 0.
    public static func runs(_ bits: BitBuffer) -> TestResult {
        runs(PackedBits(bits))
    }

    static func runs(_ bits: PackedBits) -> TestResult {
        let n = bits.count
        guard n > 1 else { return .notApplicable(.runs, "the runs test needs at least two bits") }
        var ones = 0
        var changes = 0
        bits.withWords { words in
            ones = words.popcount(in: 0..<n)
            // Bit j of `word ^ next` compares εⱼ with εⱼ₊₁, for the n − 1 pairs.
            let wordCount = (n - 1 + 63) >> 6
            for index in 0..<wordCount {
                let shifted = (words[index] << 1) | (words[index + 1] >> 63)
                var transitions = words[index] ^ shifted
                if index == wordCount - 1 && (n - 1) & 63 != 0 {
                    transitions &= ~(UInt64.max >> UInt64((n - 1) & 63))
                }
                changes += transitions.nonzeroBitCount
            }
        }
        let pi = Double(ones) / Double(n)
        if abs(pi - 0.5) >= 2 / Double(n).squareRoot() {
            return TestResult(test: .runs, subtests: [SubtestResult(statistic: 0, pValue: 0)])
        }
        let observedRuns = Double(changes + 1)
        let product = pi * (1 - pi)
        let argument = abs(observedRuns - 2 * Double(n) * product) / (2 * (2 * Double(n)).squareRoot() * product)
        return TestResult(test: .runs, subtests: [
            SubtestResult(statistic: observedRuns, pValue: SpecialFunctions.erfc(argument)),
        ])
    }

    /// The block lengths and classes of the longest run of ones test, §2.4.2 and §3.4, by sequence length.
    struct LongestRunClasses {
        let blockLength: Int
        /// The longest runs that bound the classes: ν₀ counts runs ≤ first, ν_K runs ≥ last.
        let runs: ClosedRange<Int>
        /// The class probabilities. For M = 8 the exact dyadic values and for M = 128 the ten-digit values of
        /// NIST STS's code, both of which round to §3.4's four-digit table; for M = 10⁴ §3.4's four digits,
        /// as in the code and in Appendix B's results.
        let probabilities: [Double]

        init?(length n: Int) {
            switch n {
            case ..<128: return nil
            case ..<6272:
                (blockLength, runs) = (8, 1...4)
                probabilities = [0.21484375, 0.3671875, 0.23046875, 0.1875]
            case ..<750_000:
                (blockLength, runs) = (128, 4...9)
                probabilities = [0.1174035788, 0.242955959, 0.249363483, 0.17517706, 0.102701071, 0.112398847]
            default:
                (blockLength, runs) = (10_000, 10...16)
                probabilities = [0.0882, 0.2092, 0.2483, 0.1933, 0.1208, 0.0675, 0.0727]
            }
        }
    }

    /// The test for the longest run of ones in a block, §2.4: M = 8, 128 or 10⁴ by n (at least 128 bits),
    /// χ² over K + 1 classes, P = igamc(K/2, χ²/2).
    public static func longestRunOfOnes(_ bits: BitBuffer) -> TestResult {
        longestRunOfOnes(PackedBits(bits))
    }

    static func longestRunOfOnes(_ bits: PackedBits) -> TestResult {
        guard let classes = LongestRunClasses(length: bits.count) else {
            return .notApplicable(.longestRunOfOnes, "n = \(bits.count) is below the 128 bits the test needs")
        }
        let m = classes.blockLength
        let blockCount = bits.count / m
        var counts = [Int](repeating: 0, count: classes.probabilities.count)
        bits.withWords { words in
            for block in 0..<blockCount {
                let longest = longestRun(words, in: block * m..<(block + 1) * m)
                let run = min(max(longest, classes.runs.lowerBound), classes.runs.upperBound)
                counts[run - classes.runs.lowerBound] += 1
            }
        }
        let chiSquare = SP80022.chiSquare(counts, probabilities: classes.probabilities, total: blockCount)
        let degrees = Double(classes.probabilities.count - 1)
        return TestResult(test: .longestRunOfOnes, subtests: [
            SubtestResult(statistic: chiSquare, pValue: SpecialFunctions.igamc(degrees / 2, chiSquare / 2)),
        ])
    }

    /// The longest run of ones in `range`, 64 bits at a time: a run is the carry from the previous chunk plus
    /// the chunk's leading ones, or lies inside a chunk, where `x &= x << 1` removes one bit from every run.
    static func longestRun(_ words: UnsafePointer<UInt64>, in range: Range<Int>) -> Int {
        var longest = 0
        var carry = 0
        var offset = range.lowerBound
        while offset < range.upperBound {
            let width = min(64, range.upperBound - offset)
            let chunk = width == 64 ? words.word(at: offset) : words.bits(at: offset, width: width) << (64 - width)
            offset += width
            if width == 64 ? chunk == .max : chunk == ~(UInt64.max >> UInt64(width)) {
                carry += width
                longest = max(longest, carry)
                continue
            }
            longest = max(longest, carry + (~chunk).leadingZeroBitCount)
            var x = chunk
            var inner = 0
            while x != 0 {
                x &= x << 1
                inner += 1
            }
            longest = max(longest, inner)
            carry = (~(chunk >> UInt64(64 - width))).trailingZeroBitCount
        }
        return longest
    }

    /// Pearson's χ² = Σ (νᵢ − N·πᵢ)² / (N·πᵢ).
    static func chiSquare(_ counts: [Int], probabilities: [Double], total: Int) -> Double {
        var sum = 0.0
        for (count, probability) in zip(counts, probabilities) {
            let expected = Double(total) * probability
            let difference = Double(count) - expected
            sum += difference * difference / expected
        }
        return sum
    }
}
