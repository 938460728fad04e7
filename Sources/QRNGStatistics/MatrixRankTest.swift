#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import QRNG

/// SP 800-22 §2.5: the rank over GF(2) of disjoint M × Q matrices cut from the sequence.
extension SP80022 {
    /// The binary matrix rank test, §2.5: N = ⌊n/(MQ)⌋ matrices filled row by row; F_M full-rank matrices,
    /// F_{M−1} of rank one less, the rest; χ² against §3.5's probabilities, P = igamc(1, χ²/2) = e^(−χ²/2).
    public static func rank(_ bits: BitBuffer, rows: Int = 32, columns: Int = 32) -> TestResult {
        MatrixRankTest(rows: rows, columns: columns).run(PackedBits(bits))
    }
}

struct MatrixRankTest: Sendable {
    let rows: Int
    let columns: Int
    /// The probabilities that a random matrix has full rank, one less, and less than that.
    let probabilities: [Double]

    init(rows: Int, columns: Int) {
        precondition((1...64).contains(columns) && rows >= 1, "columns must be 1…64")
        self.rows = rows
        self.columns = columns
        let full = min(rows, columns)
        let pFull = Self.rankProbability(full, rows: rows, columns: columns)
        let pNext = Self.rankProbability(full - 1, rows: rows, columns: columns)
        probabilities = [pFull, pNext, 1 - pFull - pNext]
    }

    /// §3.5: P(rank = r) = 2^(r(Q+M−r) − MQ) ∏_{i<r} (1 − 2^(i−Q))(1 − 2^(i−M)) / (1 − 2^(i−r)), the formula
    /// NIST STS evaluates for 32 × 32 (0.288788, 0.577576, 0.133636); it is exact for every M and Q.
    static func rankProbability(_ r: Int, rows m: Int, columns q: Int) -> Double {
        guard r >= 0 else { return 0 }
        var product = 1.0
        for i in 0..<r {
            product *= (1 - exp2(Double(i - q))) * (1 - exp2(Double(i - m))) / (1 - exp2(Double(i - r)))
        }
        return exp2(Double(r * (q + m - r) - m * q)) * product
    }

    func run(_ bits: PackedBits) -> TestResult {
        let matrixBits = rows * columns
        let matrixCount = bits.count / matrixBits
        guard matrixCount > 0 else {
            return .notApplicable(.rank, "n = \(bits.count) is shorter than one \(rows) × \(columns) matrix")
        }
        let full = min(rows, columns)
        var counts = [0, 0, 0]
        var matrix = [UInt64](repeating: 0, count: rows)
        bits.withWords { words in
            matrix.withUnsafeMutableBufferPointer { matrix in
                for index in 0..<matrixCount {
                    let start = index * matrixBits
                    for row in 0..<rows { matrix[row] = words.bits(at: start + row * columns, width: columns) }
                    let rank = Self.rank(matrix, columns: columns)
                    counts[rank == full ? 0 : rank == full - 1 ? 1 : 2] += 1
                }
            }
        }
        let chiSquare = SP80022.chiSquare(counts, probabilities: probabilities, total: matrixCount)
        return TestResult(test: .rank, subtests: [
            SubtestResult(statistic: chiSquare, pValue: SpecialFunctions.igamc(1, chiSquare / 2)),
        ])
    }

    /// Gaussian elimination over GF(2), rows as bit masks; destroys `matrix`.
    static func rank(_ matrix: UnsafeMutableBufferPointer<UInt64>, columns: Int) -> Int {
        let rows = matrix.count
        var rank = 0
        var column = columns - 1
        while column >= 0 && rank < rows {
            var pivot = rank
            while pivot < rows && (matrix[pivot] >> UInt64(column)) & 1 == 0 { pivot += 1 }
            if pivot < rows {
                let pivotRow = matrix[pivot]
                matrix[pivot] = matrix[rank]
                matrix[rank] = pivotRow
                for row in rank + 1..<rows {
                    // Subtract the pivot row from every row below with a one in this column, without a branch.
                    matrix[row] ^= pivotRow & (0 &- ((matrix[row] >> UInt64(column)) & 1))
                }
                rank += 1
            }
            column -= 1
        }
        return rank
    }
}
