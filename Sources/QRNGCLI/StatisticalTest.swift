import ArgumentParser
import Foundation
import QRNG
import QRNGStatistics

#if canImport(Glibc)
import Glibc
#endif

/// `qrng test`: the NIST SP 800-22 Rev 1a battery on a file, standard input or a fresh simulated stream.
///
/// Named apart from Swift Testing's `Test`; its command name is `test`.
struct RunStatisticalTests: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run the NIST SP 800-22 Rev 1a statistical tests on a bit stream.",
        discussion: """
            Reads FILE (or standard input for -) as bits packed MSB-first, as NIST STS reads binary files, or as \
            ASCII 0/1 with --format ascii, and cuts it into sequences of --length bits. With --source simulated the \
            bits come from a fresh stream of the pipeline instead (PSEUDO-RANDOM, labelled SIMULATED). Prints a \
            report in the layout of NIST STS's finalAnalysisReport.txt, or every P-value as JSON with --json. \
            The defaults are NIST STS's: n = 1,000,000; M = 128 (block frequency), m = 9 (templates), \
            m = 10 (approximate entropy), m = 16 (serial), M = 500 (linear complexity).
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case binary, ascii
    }

    @Argument(help: "The file to test; - for standard input.")
    var file: String?

    @Option(name: .customLong("sequences"),
            help: "How many sequences to test, 1 to 2^20 (default: every whole sequence in the input; 1 for --source).",
            transform: NumericDomain(1...0x1p20).integer)
    var sequenceCount: Int?

    @Option(name: .customLong("length"), help: "Bits per sequence, n, 1 to 2^32.",
            transform: NumericDomain(1...0x1p32).integer)
    var length = 1_000_000

    @Option(help: "Input format: binary (packed MSB-first) or ascii (0 and 1; whitespace ignored).")
    var format = Format.binary

    @Flag(help: "Print every P-value and the analysis as JSON instead of the text report.")
    var json = false

    @Flag(name: .customLong("p-values"), help: "Also list each sequence's P-values in the text report.")
    var listPValues = false

    @Option(name: .customLong("tests"), parsing: .upToNextOption,
            help: "The tests to run, by name, e.g. --tests frequency,fft,serial (after FILE); all when omitted.",
            transform: { $0.split(separator: ",").map(String.init) })
    var testLists: [[String]] = []

    var testNames: [String] { testLists.flatMap { $0 } }

    @Option(name: .customLong("block-frequency-length"), help: "Block frequency test: block length M, 1 to 2^32.",
            transform: NumericDomain(1...0x1p32).integer)
    var blockFrequencyLength = 128

    @Option(name: .customLong("non-overlapping-template-length"),
            help: "Non-overlapping template test: template length m (2…16).",
            transform: NumericDomain(2...16).integer)
    var nonOverlappingTemplateLength = 9

    @Option(name: .customLong("overlapping-template-length"), help: "Overlapping template test: template length m, 1 to 31.",
            transform: NumericDomain(1...31).integer)
    var overlappingTemplateLength = 9

    @Option(name: .customLong("approximate-entropy-length"), help: "Approximate entropy test: block length m, 1 to 24.",
            transform: NumericDomain(1...24).integer)
    var approximateEntropyLength = 10

    @Option(name: .customLong("serial-length"), help: "Serial test: block length m, 1 to 24.",
            transform: NumericDomain(1...24).integer)
    var serialLength = 16

    @Option(name: .customLong("linear-complexity-length"), help: "Linear complexity test: block length M, 1 to 2^20.",
            transform: NumericDomain(1...0x1p20).integer)
    var linearComplexityLength = 500

    @Option(name: .customLong("significance"), help: "The significance level α of each test, in (0, 1).",
            transform: NumericDomain(above: 0, below: 1).double)
    var significance = 0.01

    @Flag(name: .customLong("nist-sts-constants"),
          help: "Use NIST STS 2.1.2's constants where its code and SP 800-22 Rev 1a's text disagree.")
    var nistSTSConstants = false

    @Flag(name: .customLong("no-progress"), help: "Never draw a progress bar.")
    var noProgress = false

    @Flag(help: "Print each test's mean time per sequence on standard error.")
    var timings = false

    @Option(help: "With --source: what the source's data become, beam-splitter bits or arrival-time samples.")
    var mode: SourceOptions.Mode = .beamSplitter

    @OptionGroup(title: "Pipeline (with --source: a fresh stream instead of a FILE)") var pipeline: PipelineOptions

    /// The pipeline source to test instead of a file, if any (`--source`).
    var source: String? { pipeline.sourceOptions.source.first }

    func validate() throws {
        if file != nil && source != nil { throw ValidationError("give either FILE or --source, not both") }
        if file == nil && source == nil {
            throw ValidationError("give a FILE to test (- for standard input) or --source simulated")
        }
        for name in testNames where StatisticalTest(name: name) == nil {
            let known = StatisticalTest.allCases.map(\.commandLineName).joined(separator: ", ")
            throw ValidationError("--tests: unknown test '\(name)'; the tests are \(known)")
        }
        do {
            try parameters.validate()
        } catch {
            throw ValidationError("\(error.context.field ?? "parameter"): \(error.message)")
        }
    }

    var parameters: StatisticalTestParameters {
        var parameters = StatisticalTestParameters()
        if !testNames.isEmpty { parameters.tests = Set(testNames.compactMap(StatisticalTest.init(name:))) }
        parameters.blockFrequencyBlockLength = blockFrequencyLength
        parameters.nonOverlappingTemplateLength = nonOverlappingTemplateLength
        parameters.overlappingTemplateLength = overlappingTemplateLength
        parameters.approximateEntropyBlockLength = approximateEntropyLength
        parameters.serialBlockLength = serialLength
        parameters.linearComplexityBlockLength = linearComplexityLength
        parameters.significanceLevel = significance
        parameters.constants = nistSTSConstants ? .nistSTS : .specification
        return parameters
    }

    func run() throws {
        let input: StatisticalTestJob.Input
        if source != nil {
            input = .pipeline(try pipeline.configuration(mode: mode))
        } else {
            input = .file(file!, format: format)
        }
        var job = StatisticalTestJob(input: input, length: length, sequenceCount: sequenceCount, parameters: parameters)
        job.measuresTimes = timings
        var total = sequenceCount ?? (source != nil ? 1 : nil)
        if total == nil, format == .binary, let file, file != "-",
           let size = (try? FileManager.default.attributesOfItem(atPath: file))?[.size] as? Int {
            total = size * 8 / length
        }
        let progress = noProgress ? nil : ProgressBar(total: total)
        let start = Date()
        let outcome = try job.run { done in progress?.update(done) }
        progress?.finish()
        let seconds = Date().timeIntervalSince(start)
        print(json ? try outcome.json() : outcome.textReport(listingPValues: listPValues), terminator: "")
        var summary = "qrng test: \(outcome.results.count) sequence\(outcome.results.count == 1 ? "" : "s") of "
            + "\(length) bits in \(String(format: "%.3f", seconds)) s"
        if outcome.leftoverBits > 0 { summary += "; \(outcome.leftoverBits) trailing bits not tested" }
        if outcome.isSimulated { summary += " [SIMULATED]" }
        printToStandardError(summary)
        if timings, !outcome.results.isEmpty {
            for test in outcome.battery.tests {
                let milliseconds = (outcome.timings[test] ?? 0) / Double(outcome.results.count) * 1000
                printToStandardError("  \(test.reportName): \(String(format: "%.2f", milliseconds)) ms per sequence")
            }
        }
        if let failure = outcome.failure { throw failure }
    }
}

/// One run of `qrng test`, apart from argument parsing, so that tests can drive it.
struct StatisticalTestJob {
    enum Input {
        /// A file, or standard input for `-`.
        case file(String, format: RunStatisticalTests.Format)
        /// A fresh stream from a pipeline.
        case pipeline(PipelineConfiguration)
    }

    var input: Input
    var length: Int
    /// How many sequences; `nil` for every whole sequence in a file (one for a pipeline).
    var sequenceCount: Int?
    var parameters: StatisticalTestParameters
    /// Whether to time each test.
    var measuresTimes = false

    struct Outcome {
        var generator: String
        var provenance: Provenance?
        var battery: StatisticalTestBattery
        var results: [SequenceResult]
        var leftoverBits: Int
        /// Each test's total time in seconds, when measured.
        var timings: [StatisticalTest: Double] = [:]
        /// A health-test failure or the end of the simulated source, after the sequences already tested.
        var failure: QRNGError?

        var isSimulated: Bool { provenance?.isSimulated ?? false }

        var analysis: BatteryAnalysis { BatteryAnalysis(results: results, battery: battery) }

        var notes: [String] {
            var notes: [String] = []
            if let provenance, provenance.isSimulated {
                notes.append("SIMULATED source (pseudo-random, not quantum): \(provenance.detail)")
            }
            notes.append("\(results.count) sequence\(results.count == 1 ? "" : "s") of n = \(battery.length) bits; "
                + "SP 800-22 Rev 1a, \(battery.parameters.constants == .nistSTS ? "NIST STS 2.1.2" : "specification") "
                + "constants")
            return notes
        }

        func textReport(listingPValues: Bool) -> String {
            var text = analysis.report(generator: generator, notes: notes)
            if listingPValues || results.count == 1 {
                for (index, sequence) in results.enumerated() {
                    text += "\nP-VALUES OF SEQUENCE \(index + 1)\n"
                    for result in sequence.results {
                        if let reason = result.notApplicable {
                            text += "  \(result.test.reportName): not applicable (\(reason))\n"
                            continue
                        }
                        for subtest in result.subtests {
                            let name = subtest.name.isEmpty
                                ? result.test.reportName : "\(result.test.reportName) \(subtest.name)"
                            let verdict = subtest.pValue < battery.parameters.significanceLevel ? "FAILURE" : "SUCCESS"
                            text += "  \(verdict)  p_value = \(String(format: "%.6f", subtest.pValue))  \(name)\n"
                        }
                    }
                }
            }
            return text
        }

        func json() throws -> String {
            try prettyJSON(JSONReport(self)) + "\n"
        }
    }

    /// Tests the sequences one at a time as they are read; `progress` gets the number tested so far.
    func run(progress: (Int) -> Void = { _ in }) throws -> Outcome {
        let battery = try StatisticalTestBattery(length: length, parameters: parameters)
        var results: [SequenceResult] = []
        var timings: [StatisticalTest: Double] = [:]
        func test(_ bits: BitBuffer) -> SequenceResult {
            measuresTimes ? battery.run(bits, timings: &timings) : battery.run(bits)
        }
        switch input {
        case .file(let path, let format):
            var reader = try BitStreamReader(path: path, format: format)
            defer { reader.close() }
            while sequenceCount.map({ results.count < $0 }) ?? true {
                guard let bits = try reader.next(length) else { break }
                results.append(test(bits))
                progress(results.count)
            }
            if let sequenceCount, results.count < sequenceCount {
                let needed = sequenceCount * length
                throw QRNGError(.invalidInput,
                                "needs \(sequenceCount) sequences of \(length) bits (\(needed) bits), found "
                                    + "\(results.count * length + reader.bufferedBits)",
                                context: .init(file: path == "-" ? "standard input" : path))
            }
            if results.isEmpty {
                throw QRNGError(.invalidInput,
                                "holds \(reader.bufferedBits) bits, fewer than one sequence of \(length)",
                                context: .init(file: path == "-" ? "standard input" : path))
            }
            let leftover = sequenceCount == nil ? reader.bufferedBits : 0
            return Outcome(generator: path == "-" ? "standard input" : path, provenance: nil, battery: battery,
                           results: results, leftoverBits: leftover, timings: timings)
        case .pipeline(let configuration):
            let pipeline = try Pipeline(configuration: configuration)
            let pool = EntropyPool(provenance: pipeline.source.provenance)
            let producer = EntropyProducer(pipeline: pipeline, pool: pool)
            var failure: QRNGError?
            do {
                for _ in 0..<(sequenceCount ?? 1) {
                    var bits = try pool.take(bits: length)
                    results.append(test(bits))
                    bits.removeAll()
                    progress(results.count)
                }
            } catch {
                // Keep what was tested before the stream failed or ended; anything else is a real error.
                guard error.code == .healthTestFailure || error.code == .endOfInput else {
                    producer.stop()
                    throw error
                }
                failure = error
            }
            producer.stop()
            return Outcome(generator: "qrng --source \(pool.provenance.isSimulated ? "simulated" : pool.provenance.detail)",
                           provenance: pool.provenance,
                           battery: battery, results: results, leftoverBits: 0, timings: timings, failure: failure)
        }
    }
}

/// The JSON form of a run: every sequence's every P-value, and the analysis.
private struct JSONReport: Encodable {
    struct Subtest: Encodable {
        var name: String
        var statistic: Double
        var pValue: Double
    }

    struct Test: Encodable {
        var test: String
        var section: String
        var notApplicable: String?
        var subtests: [Subtest]
    }

    struct Sequence: Encodable {
        var index: Int
        var tests: [Test]
    }

    struct Row: Encodable {
        var test: String
        var subtest: String
        var histogram: [Int]
        var uniformityChiSquare: Double?
        var uniformityPValue: Double?
        var passed: Int
        var sampleSize: Int
        var notApplicable: Int
        var proportion: Double?
        var acceptableProportion: [Double]?
        var proportionIsSuspicious: Bool
        var uniformityIsSuspicious: Bool
    }

    var generator: String
    var simulated: Bool
    var provenance: String?
    var sequenceLength: Int
    var sequenceCount: Int
    var significanceLevel: Double
    var constants: String
    var parameters: StatisticalTestParameters
    var sequences: [Sequence]
    var analysis: [Row]

    init(_ outcome: StatisticalTestJob.Outcome) {
        generator = outcome.generator
        simulated = outcome.isSimulated
        provenance = outcome.provenance?.description
        sequenceLength = outcome.battery.length
        sequenceCount = outcome.results.count
        significanceLevel = outcome.battery.parameters.significanceLevel
        constants = outcome.battery.parameters.constants.rawValue
        parameters = outcome.battery.parameters
        sequences = outcome.results.enumerated().map { index, sequence in
            Sequence(index: index + 1, tests: sequence.results.map { result in
                Test(test: result.test.reportName, section: result.test.section, notApplicable: result.notApplicable,
                     subtests: result.subtests.map {
                         Subtest(name: $0.name, statistic: $0.statistic, pValue: $0.pValue)
                     })
            })
        }
        analysis = outcome.analysis.rows.map { row in
            Row(test: row.test.reportName, subtest: row.subtest, histogram: row.histogram,
                uniformityChiSquare: row.uniformityChiSquare, uniformityPValue: row.uniformityPValue,
                passed: row.passed, sampleSize: row.sampleSize, notApplicable: row.notApplicable,
                proportion: row.proportion,
                acceptableProportion: row.acceptableProportion.map { [$0.lowerBound, $0.upperBound] },
                proportionIsSuspicious: row.proportionIsSuspicious, uniformityIsSuspicious: row.uniformityIsSuspicious)
        }
    }
}
