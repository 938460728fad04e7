import Foundation
@testable import QRNG
@testable import QRNGStatistics
import QRNGTestSupport
import Testing

/// SP 800-22 Rev 1a's worked examples, its Appendix B results for e, and P-values from NIST STS's own code
/// (sp80022suite) and an independent reference on pseudo-random data: testvectors/sts/, written by
/// tools/sts_vectors.py.
@Suite struct StatisticsKnownAnswerTests {
    static let e: BitBuffer = {
        let data = try! Data(contentsOf: TestVectors.directory.appendingPathComponent("sts/e.bin"))
        return BitBuffer(packedBytes: Array(data))
    }()

    static func input(_ record: VectorRecord) throws -> BitBuffer {
        let length = try record.int("length")
        if let text = record.fields["bits"] {
            var bits = BitBuffer()
            for character in text { bits.append(character == "1") }
            #expect(bits.count == length)
            return bits
        }
        #expect(try record.string("data") == "e.bin")
        return e.extracting(0..<length)
    }

    /// The test a record names, run with its parameters.
    static func run(_ record: VectorRecord, _ bits: BitBuffer, constants: ReferenceConstants) throws -> TestResult {
        func parameter(_ key: String) throws -> Int { try record.int(key) }
        switch try record.string("test") {
        case "frequency": return SP80022.frequency(bits)
        case "block-frequency": return SP80022.blockFrequency(bits, blockLength: try parameter("block_length"))
        case "runs": return SP80022.runs(bits)
        case "longest-run": return SP80022.longestRunOfOnes(bits)
        case "rank":
            return SP80022.rank(bits, rows: record.fields["rows"].flatMap { Int($0) } ?? 32,
                                columns: record.fields["columns"].flatMap { Int($0) } ?? 32)
        case "fft": return SP80022.discreteFourierTransform(bits, constants: constants)
        case "non-overlapping-template":
            let template = try #require(UInt32(try record.string("template"), radix: 2))
            return SP80022.nonOverlappingTemplateMatching(bits, templates: [template],
                                                         templateLength: try parameter("template_length"),
                                                         blockCount: try parameter("block_count"))
        case "overlapping-template":
            return SP80022.overlappingTemplateMatching(bits, templateLength: try parameter("template_length"),
                                                       blockLength: try parameter("block_length"), constants: constants)
        case "universal":
            return SP80022.universal(bits, blockLength: try parameter("block_length"),
                                     initializationBlocks: try parameter("initialization_blocks"))
        case "linear-complexity":
            return SP80022.linearComplexity(bits, blockLength: try parameter("block_length"), constants: constants)
        case "serial": return SP80022.serial(bits, blockLength: try parameter("block_length"))
        case "approximate-entropy": return SP80022.approximateEntropy(bits, blockLength: try parameter("block_length"))
        case "cumulative-sums": return SP80022.cumulativeSums(bits, constants: constants)
        case "random-excursions":
            let enforcing = record.fields["enforcing_cycle_minimum"] != "no"
            return SP80022.randomExcursions(bits, enforcingCycleMinimum: enforcing)
        case "random-excursions-variant":
            let enforcing = record.fields["enforcing_cycle_minimum"] != "no"
            return SP80022.randomExcursionsVariant(bits, enforcingCycleMinimum: enforcing)
        case let other: throw VectorError("unknown test \(other)")
        }
    }

    /// Whether `value` rounds to `published`, given to as many decimals as it is printed with.
    static func rounds(_ value: Double, to published: String) -> Bool {
        let decimals = published.split(separator: ".").last.map(\.count) ?? 0
        return abs(value - Double(published)!) <= 0.5 * pow(10, -Double(decimals)) + 1e-12
    }

    static let examples = try! TestVectors.records("sts/examples.rsp")

    @Test(arguments: examples.indices)
    func workedExample(index: Int) throws {
        let record = Self.examples[index]
        let section = try record.string("section")
        let bits = try Self.input(record)
        if try record.string("test") == "berlekamp-massey" {
            var solver = BerlekampMassey(maximumLength: bits.count)
            let complexity = PackedBits(bits).withWords { solver.linearComplexity($0, from: 0, count: bits.count) }
            #expect(complexity == (try record.int("linear_complexity")), "§\(section)")
            #expect(complexity == (try record.int("published_statistic")), "§\(section)")
            return
        }
        let subtest = record.fields["subtest"] ?? ""
        let published = try record.string("published_p_value")
        let matching = try record.string("matches_published").split(separator: " ").map(String.init)
        for (constants, key, label) in [(ReferenceConstants.specification, "p_value", "specification"),
                                        (.nistSTS, "p_value_nist_sts", "nist-sts")] {
            let result = try Self.run(record, bits, constants: constants)
            let value = try #require(result.pValue(subtest), "§\(section) \(subtest): no P-value; \(result)")
            let expected = try record.double(key)
            #expect(abs(value - expected) < 1e-9, "§\(section) \(subtest) (\(label)): \(value), recomputed \(expected)")
            if matching.contains(label) {
                #expect(Self.rounds(value, to: published),
                        "§\(section) \(subtest) (\(label)): \(value), published \(published)")
            } else {
                #expect(!Self.rounds(value, to: published),
                        "§\(section) \(subtest) (\(label)) now matches \(published)")
            }
        }
    }

    static let appendix = try! TestVectors.records("sts/appendix_b.rsp")

    @Test func appendixBResultsForE() throws {
        #expect(Self.e.count == 1_000_000)
        #expect(Self.e.nonzeroBitCount == 500_029, "§2.11.8 counts 500,029 ones in e")
        var nist = StatisticalTestParameters()
        nist.constants = .nistSTS
        let results = [
            "specification": try runAllTests(on: Self.e),
            "nist-sts": try runAllTests(on: Self.e, parameters: nist),
        ]
        for record in Self.appendix {
            let name = try record.string("test")
            let test = try #require(StatisticalTest(name: name))
            let subtest = record.fields["subtest"] ?? ""
            let published = try record.string("published_p_value")
            let matching = try record.string("matches_published").split(separator: " ").map(String.init)
            for (label, key) in [("specification", "p_value"), ("nist-sts", "p_value_nist_sts")] {
                let result = try #require(results[label]![test])
                let value = try #require(result.pValue(subtest))
                #expect(abs(value - (try record.double(key))) < 1e-9, "\(name) \(subtest) (\(label)): \(value)")
                #expect(Self.rounds(value, to: published) == matching.contains(label),
                        "\(name) \(subtest) (\(label)): \(value), published \(published), matches \(matching)")
            }
            let minimum = try #require(results["nist-sts"]![test]?.pValues.min())
            #expect(abs(minimum - (try record.double("sp80022suite_minimum"))) < 1e-8,
                    "\(name): smallest P-value \(minimum) against NIST STS's code")
        }
    }

    /// Flipping every bit mirrors the walk, so state x's results become state −x's: §2.14.8's published values
    /// for the positive states are not the negative states' under another sign convention.
    @Test func flippedEMirrorsTheExcursions() throws {
        let flipped = BitBuffer(words: Self.e.words.map { ~$0 }, count: Self.e.count)
        let pairs = [(SP80022.randomExcursions(Self.e), SP80022.randomExcursions(flipped)),
                     (SP80022.randomExcursionsVariant(Self.e), SP80022.randomExcursionsVariant(flipped))]
        for (original, mirrored) in pairs {
            try #require(original.isApplicable && mirrored.isApplicable)
            #expect(original.pValues == mirrored.pValues.reversed())
        }
        let published = try #require(Self.examples.first {
            $0.fields["section"] == "2.14.8" && $0.fields["subtest"] == "x = -1"
        }).string("published_p_value")
        let positive = try #require(SP80022.randomExcursions(flipped).pValue("x = 1"))
        #expect(Self.rounds(positive, to: published), "the flipped walk's x = +1 is e's x = −1, as §2.14.8 prints it")
    }

    static let crosscheck = try! TestVectors.records("sts/crosscheck.rsp")

    static var crosscheckSequences: [[Int]] {
        var seen: [[Int]] = []
        for record in crosscheck {
            let key = [try! record.int("seed"), try! record.int("length")]
            if !seen.contains(key) { seen.append(key) }
        }
        return seen
    }

    /// Every sub-test's P-value against the reference, and each test's smallest against NIST STS's code.
    @Test(arguments: crosscheckSequences)
    func pseudoRandomSequence(key: [Int]) throws {
        let (seed, length) = (key[0], key[1])
        var generator = Xoshiro256StarStar(seed: UInt64(seed))
        let bits = BitBuffer.random(count: length, using: &generator)
        var nistParameters = StatisticalTestParameters()
        nistParameters.constants = .nistSTS
        let specification = try runAllTests(on: bits)
        let nist = try runAllTests(on: bits, parameters: nistParameters)
        let records = Self.crosscheck.filter {
            $0.fields["seed"] == String(seed) && $0.fields["length"] == String(length)
        }
        for record in records {
            let name = try record.string("test")
            let test = try #require(StatisticalTest(name: name))
            let ours = try #require(specification[test])
            let oursNIST = try #require(nist[test])
            if record.fields["not_applicable"] == "yes" {
                #expect(!ours.isApplicable && !oursNIST.isApplicable, "seed \(seed), n = \(length), \(name)")
                continue
            }
            let expected = try record.string("p_values").split(separator: ",").map { Double($0)! }
            let expectedNIST = try (record.fields["p_values_nist_sts"] ?? record.string("p_values"))
                .split(separator: ",").map { Double($0)! }
            #expect(ours.pValues.count == expected.count, "seed \(seed), n = \(length), \(name)")
            for (index, (value, reference)) in zip(ours.pValues, expected).enumerated() {
                #expect(abs(value - reference) < 1e-9,
                        "seed \(seed), n = \(length), \(name) #\(index): \(value), reference \(reference)")
            }
            for (index, (value, reference)) in zip(oursNIST.pValues, expectedNIST).enumerated() {
                #expect(abs(value - reference) < 1e-9,
                        "seed \(seed), n = \(length), \(name) #\(index) (nist-sts): \(value), reference \(reference)")
            }
            if let suite = record.fields["sp80022suite_minimum"].flatMap(Double.init) {
                let minimum = try #require(oursNIST.pValues.min())
                #expect(abs(minimum - suite) < 1e-8,
                        "seed \(seed), n = \(length), \(name): \(minimum), NIST STS \(suite)")
            }
        }
    }
}
