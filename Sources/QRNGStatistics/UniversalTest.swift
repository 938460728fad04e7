#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import QRNG

/// SP 800-22 §2.9: Maurer's "universal statistical" test, the distances between repeats of L-bit blocks.
extension SP80022 {
    /// Maurer's universal statistical test, §2.9.
    ///
    /// The first Q blocks of L bits initialise a table of last positions; for each of the K = ⌊n/L⌋ − Q
    /// following blocks, f_n = (1/K) Σ log₂(i − T[block]). σ = c·√(variance(L)/K) with
    /// c = 0.7 − 0.8/L + (4 + 32/L)·K^(−3/L)/15, P = erfc(|f_n − expectedValue(L)|/(√2·σ)). Without L and Q,
    /// they come from §2.9.7's table for n (at least 387,840 bits, L = 6).
    public static func universal(_ bits: BitBuffer, blockLength: Int? = nil,
                                 initializationBlocks: Int? = nil) -> TestResult {
        universal(PackedBits(bits), blockLength: blockLength, initializationBlocks: initializationBlocks)
    }

    /// §2.9.7's table: the least n for each block length L = 6…16.
    static let universalMinimumLengths = [
        387_840, 904_960, 2_068_480, 4_654_080, 10_342_400, 22_753_280, 49_643_520, 107_560_960, 231_669_760,
        496_435_200, 1_059_061_760,
    ]

    /// §2.9.4 step 5's expected value and variance of f_n for L = 1…16 (index L − 1).
    static let universalExpectedValues = [
        0.7326495, 1.5374383, 2.4016068, 3.3112247, 4.2534266, 5.2177052, 6.1962507, 7.1836656, 8.1764248,
        9.1723243, 10.170032, 11.168765, 12.168070, 13.167693, 14.167488, 15.167379,
    ]
    static let universalVariances = [
        0.690, 1.338, 1.901, 2.358, 2.705, 2.954, 3.125, 3.238, 3.311, 3.356, 3.384, 3.401, 3.410, 3.416, 3.419,
        3.421,
    ]

    /// log₂ d for the distances d < 2¹³, which are most of them.
    private static let logTable = (0..<1 << 13).map { $0 == 0 ? 0 : log2(Double($0)) }

    static func universal(_ bits: PackedBits, blockLength: Int?, initializationBlocks: Int?) -> TestResult {
        let n = bits.count
        let l: Int
        if let blockLength {
            l = blockLength
        } else if let index = universalMinimumLengths.lastIndex(where: { n >= $0 }) {
            l = 6 + index
        } else {
            return .notApplicable(.universal, "n = \(n) is below the 387,840 bits of §2.9.7's table (L = 6)")
        }
        precondition((1...16).contains(l), "the universal test's block length is 1…16")
        let q = initializationBlocks ?? 10 << l
        let k = n / l - q
        guard k > 0 else {
            return .notApplicable(.universal, "n = \(n) leaves no test blocks after Q = \(q) blocks of L = \(l)")
        }
        var lastSeen = [Int](repeating: 0, count: 1 << l)
        var sum = 0.0
        bits.withWords { words in
            lastSeen.withUnsafeMutableBufferPointer { lastSeen in
                logTable.withUnsafeBufferPointer { logTable in
                    for i in 1...q { lastSeen[Int(words.bits(at: (i - 1) * l, width: l))] = i }
                    for i in q + 1...q + k {
                        let block = Int(words.bits(at: (i - 1) * l, width: l))
                        let distance = i - lastSeen[block]
                        sum += distance < logTable.count ? logTable[distance] : log2(Double(distance))
                        lastSeen[block] = i
                    }
                }
            }
        }
        let fn = sum / Double(k)
        let c = 0.7 - 0.8 / Double(l) + (4 + 32 / Double(l)) * pow(Double(k), -3 / Double(l)) / 15
        let sigma = c * (universalVariances[l - 1] / Double(k)).squareRoot()
        let pValue = SpecialFunctions.erfc(abs(fn - universalExpectedValues[l - 1]) / (2.0.squareRoot() * sigma))
        return TestResult(test: .universal, subtests: [SubtestResult(statistic: fn, pValue: pValue)])
    }
}
