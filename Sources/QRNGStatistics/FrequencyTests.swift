import QRNG

/// SP 800-22 §2.1 and §2.2: the proportion of ones in the whole sequence and within blocks.
extension SP80022 {
    /// The frequency (monobit) test, §2.1: s_obs = |2·ones − n| / √n, P = erfc(s_obs / √2).
    public static func frequency(_ bits: BitBuffer) -> TestResult {
        frequency(PackedBits(bits))
    }

    static func frequency(_ bits: PackedBits) -> TestResult {
        let n = bits.count
        guard n > 0 else { return .notApplicable(.frequency, "the sequence is empty") }
        let ones = bits.withWords { $0.popcount(in: 0..<n) }
        let statistic = Double(abs(2 * ones - n)) / Double(n).squareRoot()
        let pValue = SpecialFunctions.erfc(statistic / 2.0.squareRoot())
        return TestResult(test: .frequency, subtests: [SubtestResult(statistic: statistic, pValue: pValue)])
    }

    /// The frequency test within a block, §2.2: N = ⌊n/M⌋ blocks, χ² = 4M Σ (πᵢ − ½)², P = igamc(N/2, χ²/2).
    public static func blockFrequency(_ bits: BitBuffer, blockLength: Int = 128) -> TestResult {
        blockFrequency(PackedBits(bits), blockLength: blockLength)
    }

    static func blockFrequency(_ bits: PackedBits, blockLength m: Int) -> TestResult {
        let blockCount = m > 0 ? bits.count / m : 0
        guard blockCount > 0 else {
            return .notApplicable(.blockFrequency, "n = \(bits.count) is shorter than one block of M = \(m) bits")
        }
        // Σ (πᵢ − ½)² = Σ (onesᵢ − M/2)² / M², kept in integers (×4) until the end so that nothing rounds.
        var sumOfSquares = 0.0
        bits.withWords { words in
            for block in 0..<blockCount {
                let deviation = 2 * words.popcount(in: block * m..<(block + 1) * m) - m
                sumOfSquares += Double(deviation * deviation)
            }
        }
        let chiSquare = sumOfSquares / Double(m)
        let pValue = SpecialFunctions.igamc(Double(blockCount) / 2, chiSquare / 2)
        return TestResult(test: .blockFrequency, subtests: [SubtestResult(statistic: chiSquare, pValue: pValue)])
    }
}
