import QRNG
import QRNGTestSupport
import Testing

@Suite struct HealthCutoffsTests {
    /// Every row of testvectors/health/cutoffs.rsp (exact binomial tails from tools/health_cutoffs.py), which
    /// includes SP 800-90B Table 2 for α = 2⁻²⁰.
    @Test func cutoffsMatchTheIndependentTable() throws {
        let records = try TestVectors.records("health/cutoffs.rsp")
        #expect(records.count >= 60)
        for record in records {
            let bits = try record.int("bits_per_sample")
            let alpha = try ErrorProbability(log2: try record.double("alpha_log2"))
            let minEntropy = try record.double("min_entropy")
            let cutoffs = try HealthCutoffs(bitsPerSample: bits, minEntropy: minEntropy, alpha: alpha)
            let label = "α = \(alpha), \(bits)-bit samples, H = \(minEntropy)"
            #expect(cutoffs.repetitionCountCutoff == (try record.int("rct_cutoff")), "RCT cutoff, \(label)")
            #expect(cutoffs.adaptiveProportionWindow == (try record.int("window")), "APT window, \(label)")
            #expect(cutoffs.adaptiveProportionCutoff == (try record.int("apt_cutoff")), "APT cutoff, \(label)")
        }
    }

    /// SP 800-90B Table 2 and the §4.4.1 worked example, restated here so the test stands on its own.
    @Test(arguments: [
        (1, 0.2, 941), (1, 0.4, 840), (1, 0.6, 748), (1, 0.8, 664), (1, 1.0, 589),
        (8, 0.5, 410), (8, 1.0, 311), (8, 2.0, 177), (8, 4.0, 62), (8, 8.0, 13),
    ])
    func standardTable2(bits: Int, minEntropy: Double, cutoff: Int) throws {
        let cutoffs = try HealthCutoffs(
            bitsPerSample: bits, minEntropy: minEntropy, alpha: try ErrorProbability(log2: -20))
        #expect(cutoffs.adaptiveProportionCutoff == cutoff)
    }

    @Test func repetitionCountWorkedExample() throws {
        let cutoffs = try HealthCutoffs(bitsPerSample: 8, minEntropy: 2, alpha: try ErrorProbability(log2: -20))
        #expect(cutoffs.repetitionCountCutoff == 11)
    }

    @Test func decimalMinEntropyIsTakenAsWritten() throws {
        // 30 / 0.3 is 100.000…04 in binary floating point; the cutoff must still be 1 + 100.
        let cutoffs = try HealthCutoffs(bitsPerSample: 1, minEntropy: 0.3)
        #expect(cutoffs.repetitionCountCutoff == 101)
    }

    @Test(arguments: [(1, 0.0), (1, -0.5), (1, 1.01), (8, 8.5), (8, .nan), (8, .infinity)])
    func minEntropyOutOfRangeIsRejected(bits: Int, minEntropy: Double) {
        #expect {
            try HealthCutoffs(bitsPerSample: bits, minEntropy: minEntropy)
        } throws: { error in
            guard let error = error as? QRNGError else { return false }
            return error.code == .invalidArgument && error.context.field == "min-entropy"
        }
    }

    @Test func sampleWidthOutOfRangeIsRejected() {
        #expect(throws: QRNGError.self) { try HealthCutoffs(bitsPerSample: 0, minEntropy: 0.5) }
        #expect(throws: QRNGError.self) { try HealthCutoffs(bitsPerSample: 17, minEntropy: 0.5) }
    }

    @Test func alphaParsing() throws {
        #expect(try ErrorProbability(parsing: "2^-30").negativeLog2 == 30)
        #expect(try ErrorProbability(parsing: " 2^-40 ").negativeLog2 == 40)
        #expect(abs(try ErrorProbability(parsing: "0.25").negativeLog2 - 2) < 1e-12)
        #expect(throws: QRNGError.self) { try ErrorProbability(parsing: "2^5") }
        #expect(throws: QRNGError.self) { try ErrorProbability(parsing: "1.5") }
        #expect(throws: QRNGError.self) { try ErrorProbability(parsing: "often") }
    }
}
