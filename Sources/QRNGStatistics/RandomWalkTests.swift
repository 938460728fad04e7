#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import QRNG

/// SP 800-22 §2.13–§2.15: the random walk S_k = Σ_{i≤k} (2εᵢ − 1).
extension SP80022 {
    /// The cumulative sums test, §2.13, forward (mode 0) and reverse (mode 1): z = max |S_k| of the walk run
    /// from the start or from the end, and
    /// P = 1 − Σ_{k=⌊(−n/z+1)/4⌋}^{⌊(n/z−1)/4⌋} [Φ((4k+1)z/√n) − Φ((4k−1)z/√n)]
    ///       + Σ_{k=⌊(−n/z−3)/4⌋}^{⌊(n/z−1)/4⌋} [Φ((4k+3)z/√n) − Φ((4k+1)z/√n)].
    ///
    /// With ``ReferenceConstants/nistSTS`` the summation limits are NIST STS's C integer arithmetic, ⌊n/z⌋ and
    /// quotients truncated toward zero, which drops a term or two of the series for short sequences: that is
    /// how §2.13.4's example gets 0.4116588 where the formula as printed gives 0.4115847. For n = 10⁶ the two
    /// differ by less than 10⁻²⁰.
    public static func cumulativeSums(_ bits: BitBuffer, constants: ReferenceConstants = .specification)
        -> TestResult {
        cumulativeSums(PackedBits(bits), constants: constants)
    }

    /// The random excursions test, §2.14: J cycles of the walk (0, S₁, …, S_n, 0) between zeros; for each
    /// state x = ±1…±4, νₖ(x) = the cycles visiting x exactly k times (k = 0…4) or at least 5 times;
    /// χ²(x) = Σ (νₖ(x) − Jπₖ(x))²/(Jπₖ(x)), P = igamc(5/2, χ²/2). Does not apply when
    /// J < max(0.005·√n, 500).
    ///
    /// `enforcingCycleMinimum: false` computes the P-values whatever J is, for the standard's ten-bit example.
    public static func randomExcursions(_ bits: BitBuffer, enforcingCycleMinimum: Bool = true) -> TestResult {
        var walk = RandomWalk(PackedBits(bits))
        walk.enforcesCycleMinimum = enforcingCycleMinimum
        return walk.randomExcursions
    }

    /// The random excursions variant test, §2.15: ξ(x) = the visits to state x = ±1…±9 over the whole walk,
    /// P = erfc(|ξ(x) − J|/√(2J(4|x| − 2))). Does not apply when J < max(0.005·√n, 500).
    public static func randomExcursionsVariant(_ bits: BitBuffer, enforcingCycleMinimum: Bool = true) -> TestResult {
        var walk = RandomWalk(PackedBits(bits))
        walk.enforcesCycleMinimum = enforcingCycleMinimum
        return walk.randomExcursionsVariant
    }

    static func cumulativeSums(_ bits: PackedBits, constants: ReferenceConstants) -> TestResult {
        let n = bits.count
        guard n > 0 else { return .notApplicable(.cumulativeSums, "the sequence is empty") }
        // Byte by byte with a table of each byte's net step and the highest and lowest partial sums inside it.
        var sum = 0, highest = 0, lowest = 0
        bits.withWords { words in
            let table = ByteWalk.table
            let wholeBytes = n / 8
            var byteIndex = 0
            while byteIndex < wholeBytes {
                let byte = Int((words[byteIndex >> 3] >> UInt64(56 - 8 * (byteIndex & 7))) & 0xff)
                let step = table[byte]
                highest = max(highest, sum + Int(step.highest))
                lowest = min(lowest, sum + Int(step.lowest))
                sum += Int(step.net)
                byteIndex += 1
            }
            for position in wholeBytes * 8..<n {
                sum += 2 * words.bit(at: position) - 1
                highest = max(highest, sum)
                lowest = min(lowest, sum)
            }
        }
        // Forward: max over k of |S_k|. Reverse: the walk from the end reaches S_n − S_k, k = n−1 … 0 (S₀ = 0).
        let forward = max(highest, -lowest)
        let reverse = max(highest - sum, sum - lowest)
        return TestResult(test: .cumulativeSums, subtests: [
            SubtestResult(name: "forward", statistic: Double(forward),
                          pValue: cumulativeSumsPValue(z: forward, n: n, constants: constants)),
            SubtestResult(name: "reverse", statistic: Double(reverse),
                          pValue: cumulativeSumsPValue(z: reverse, n: n, constants: constants)),
        ])
    }

    static func cumulativeSumsPValue(z: Int, n: Int, constants: ReferenceConstants = .specification) -> Double {
        let zn = Double(z), nn = Double(n)
        let root = nn.squareRoot()
        // The limits ⌊(−n/z + 1)/4⌋ … ⌊(n/z − 1)/4⌋ and ⌊(−n/z − 3)/4⌋ … ⌊(n/z − 1)/4⌋, or NIST STS's C integer
        // division, whose quotients truncate toward zero (Swift's `/` on Int does the same).
        let limits: (first: ClosedRange<Int>, second: ClosedRange<Int>)
        if constants == .nistSTS {
            let ratio = n / z
            limits = ((-ratio + 1) / 4...(ratio - 1) / 4, (-ratio - 3) / 4...(ratio - 1) / 4)
        } else {
            let upper = Int(((nn / zn - 1) / 4).rounded(.down))
            limits = (Int(((-nn / zn + 1) / 4).rounded(.down))...upper,
                      Int(((-nn / zn - 3) / 4).rounded(.down))...upper)
        }
        var first = 0.0
        for k in limits.first {
            let kk = Double(k)
            first += SpecialFunctions.normalCDF((4 * kk + 1) * zn / root)
                - SpecialFunctions.normalCDF((4 * kk - 1) * zn / root)
        }
        var second = 0.0
        for k in limits.second {
            let kk = Double(k)
            second += SpecialFunctions.normalCDF((4 * kk + 3) * zn / root)
                - SpecialFunctions.normalCDF((4 * kk + 1) * zn / root)
        }
        return 1 - first + second
    }
}

/// For each byte value, its net step and the highest and lowest partial sums its eight steps reach.
private enum ByteWalk {
    struct Step {
        var net: Int8
        var highest: Int8
        var lowest: Int8
    }

    static let table: [Step] = (0..<256).map { byte in
        var sum = 0, highest = Int.min, lowest = Int.max
        for bit in 0..<8 {
            sum += (byte >> (7 - bit)) & 1 == 1 ? 1 : -1
            highest = max(highest, sum)
            lowest = min(lowest, sum)
        }
        return Step(net: Int8(sum), highest: Int8(highest), lowest: Int8(lowest))
    }
}

/// One walk over the sequence for both random excursions tests: the cycles and the visits to x = −9…9.
struct RandomWalk {
    let length: Int
    /// J, the number of cycles.
    private(set) var cycles = 0
    /// ν[k][x + 4]: cycles visiting x exactly k times (k < 5) or at least 5 times (k = 5), x = −4…4.
    private(set) var cycleVisitClasses = [[Int]](repeating: [Int](repeating: 0, count: 9), count: 6)
    /// ξ(x) at index x + 9, x = −9…9.
    private(set) var totalVisits = [Int](repeating: 0, count: 19)

    init(_ bits: PackedBits) {
        length = bits.count
        var cycleCount = 0
        var sum = 0
        // visits[x + 9]: this cycle's visits to x; ν and ξ as flat arrays, folded in when a cycle closes.
        var visits = [Int](repeating: 0, count: 19)
        var classes = [Int](repeating: 0, count: 6 * 9)
        var totals = [Int](repeating: 0, count: 19)
        let n = length
        bits.withWords { words in
            visits.withUnsafeMutableBufferPointer { visits in
                classes.withUnsafeMutableBufferPointer { classes in
                    totals.withUnsafeMutableBufferPointer { totals in
                        func closeCycle() {
                            cycleCount += 1
                            for x in -4...4 where x != 0 { classes[min(visits[x + 9], 5) * 9 + x + 4] += 1 }
                            for index in 0..<19 {
                                totals[index] += visits[index]
                                visits[index] = 0
                            }
                        }
                        for wordIndex in 0..<(n + 63) / 64 {
                            let word = words[wordIndex]
                            let bitsHere = min(64, n - wordIndex * 64)
                            for j in 0..<bitsHere {
                                sum += Int((word >> UInt64(63 - j)) & 1) &* 2 &- 1
                                if sum == 0 {
                                    closeCycle()
                                } else if UInt(bitPattern: sum &+ 9) < 19 {
                                    visits[sum + 9] &+= 1
                                }
                            }
                        }
                        // The walk is closed by an appended zero (§2.14.4 step 3), which ends the last cycle
                        // unless S_n = 0 already did, as in NIST STS.
                        if sum != 0 { closeCycle() }
                    }
                }
            }
        }
        cycles = cycleCount
        cycleVisitClasses = (0...5).map { k in Array(classes[k * 9..<(k + 1) * 9]) }
        totalVisits = totals
    }

    /// Whether the tests refuse a walk with fewer than ``minimumCycles`` cycles.
    var enforcesCycleMinimum = true

    /// max(0.005·√n, 500), the fewest cycles with which NIST STS applies the excursion tests.
    var minimumCycles: Double { max(0.005 * Double(length).squareRoot(), 500) }

    private var notApplicableReason: String? {
        enforcesCycleMinimum && Double(cycles) < minimumCycles
            ? "J = \(cycles) cycles, fewer than max(0.005·√n, 500) = \(Int(minimumCycles.rounded(.up)))"
            : nil
    }

    /// §3.14: π₀(x) = 1 − 1/(2|x|), πₖ(x) = (1/(4x²))(1 − 1/(2|x|))^(k−1) for k = 1…4,
    /// π₅(x) = (1/(2|x|))(1 − 1/(2|x|))⁴.
    static func excursionProbabilities(state x: Int) -> [Double] {
        let a = 1 / (2 * Double(abs(x)))
        var result = [1 - a]
        for k in 1...4 { result.append(1 / (4 * Double(x * x)) * pow(1 - a, Double(k - 1))) }
        result.append(a * pow(1 - a, 4))
        return result
    }

    static let excursionStates = [-4, -3, -2, -1, 1, 2, 3, 4]
    static let variantStates = [-9, -8, -7, -6, -5, -4, -3, -2, -1, 1, 2, 3, 4, 5, 6, 7, 8, 9]

    var randomExcursions: TestResult {
        if let notApplicableReason { return .notApplicable(.randomExcursions, notApplicableReason) }
        let j = Double(cycles)
        let subtests = Self.excursionStates.map { x in
            let probabilities = Self.excursionProbabilities(state: x)
            var chiSquare = 0.0
            for k in 0...5 {
                let expected = j * probabilities[k]
                let difference = Double(cycleVisitClasses[k][x + 4]) - expected
                chiSquare += difference * difference / expected
            }
            return SubtestResult(name: "x = \(x)", statistic: chiSquare,
                                 pValue: SpecialFunctions.igamc(2.5, chiSquare / 2))
        }
        return TestResult(test: .randomExcursions, subtests: subtests)
    }

    var randomExcursionsVariant: TestResult {
        if let notApplicableReason { return .notApplicable(.randomExcursionsVariant, notApplicableReason) }
        let j = Double(cycles)
        let subtests = Self.variantStates.map { x in
            let visits = Double(totalVisits[x + 9])
            let pValue = SpecialFunctions.erfc(abs(visits - j) / (2 * j * (4 * Double(abs(x)) - 2)).squareRoot())
            return SubtestResult(name: "x = \(x)", statistic: visits, pValue: pValue)
        }
        return TestResult(test: .randomExcursionsVariant, subtests: subtests)
    }
}
