import QRNG
import QRNGTestSupport
import Testing

/// The induced-failure vectors and their no-failure controls in testvectors/health/ (tools/health_vectors.py).
@Suite struct HealthTestVectorTests {
    static let files = [
        "rct_binary_fail", "rct_binary_pass", "rct_8bit_fail", "rct_8bit_pass",
        "apt_binary_fail", "apt_binary_pass", "apt_8bit_fail", "apt_8bit_pass",
    ]

    struct Outcome: Equatable, CustomStringConvertible {
        var test: String
        var offset: Int?
        var description: String { offset.map { "\(test) at \($0)" } ?? test }
    }

    @Test(arguments: files)
    func vector(_ name: String) throws {
        let record = try #require(try TestVectors.records("health/\(name).rsp").first)
        let bits = try record.int("bits_per_sample")
        let count = try record.int("sample_count")
        let cutoffs = try HealthCutoffs(
            bitsPerSample: bits, minEntropy: try record.double("min_entropy"),
            alpha: try ErrorProbability(log2: try record.double("alpha_log2")))
        #expect(cutoffs.repetitionCountCutoff == (try record.int("rct_cutoff")))
        #expect(cutoffs.adaptiveProportionCutoff == (try record.int("apt_cutoff")))
        #expect(cutoffs.adaptiveProportionWindow == (try record.int("window")))

        let samples: [UInt16]
        if bits == 1 {
            let packed = try record.bits("samples", count: count)
            samples = (0..<count).map { packed[$0] ? 1 : 0 }
        } else {
            samples = try record.bytes("samples").map(UInt16.init)
        }
        #expect(samples.count == count)

        var rct = RepetitionCountTest(cutoff: cutoffs.repetitionCountCutoff)
        var apt = AdaptiveProportionTest(
            window: cutoffs.adaptiveProportionWindow, cutoff: cutoffs.adaptiveProportionCutoff)
        var observed = Outcome(test: "pass", offset: nil)
        for (index, sample) in samples.enumerated() {
            let rctFailed = rct.feed(sample)
            let aptFailed = apt.feed(sample)
            if rctFailed || aptFailed {
                observed = Outcome(test: rctFailed ? "rct_fail" : "apt_fail", offset: index)
                break
            }
        }
        let expectedTest = try record.string("expected")
        let expected = Outcome(
            test: expectedTest, offset: expectedTest == "pass" ? nil : try record.int("failure_offset"))
        #expect(observed == expected, "\(name): got \(observed), expected \(expected)")
    }
}
