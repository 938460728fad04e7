import ArgumentParser
import QRNG

extension CarrylessMultiplier.Kernel: ExpressibleByArgument {}

/// `qrng bench`: times each pipeline stage in this build against baselines measured in the same run.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time each pipeline stage against baselines (/dev/urandom, OpenSSL SHA-256) from the same run.",
        discussion: """
            Build in release mode first (swift build -c release). NAME selects benchmarks whose name starts \
            with it, e.g. `qrng bench extract health/binary`. Figures are medians over repeated runs after a \
            warm-up; ratios compare bytes per second with the baseline named in the table.

            `health/faults` is opt-in too: for every fault in the simulator's catalogue it reports which test or \
            monitor caught it and the detection latency in samples. \
            `health/false-alarms` is opt-in and runs only when named in full: it counts the health monitor's \
            false alarms over --false-alarm-samples healthy simulated samples (10^9 by default, a minute or so) \
            and compares each test's count with what α predicts.
            """
    )

    @Argument(help: "Benchmarks to run (name prefixes); all when none is given.")
    var names: [String] = []

    @Flag(help: "Print the results as JSON.")
    var json = false

    @Flag(help: "List the benchmarks and exit.")
    var list = false

    @Option(help: "Minimum measured time per benchmark, in seconds, in (0, 3600].",
            transform: NumericDomain(above: 0, through: 3600).double)
    var seconds: Double = 1

    @Option(help: "Carry-less multiply kernel for the Toeplitz benchmarks: portable, pclmul or vpclmul (default: best).")
    var kernel: CarrylessMultiplier.Kernel?

    @Option(help: .hidden, transform: NumericDomain(1...0x1p20).integer)
    var kernelWords: Int?

    @Option(help: "Samples for the opt-in health/false-alarms run, 1 to 2^50.",
            transform: NumericDomain(1...0x1p50).integer)
    var falseAlarmSamples: UInt64 = 1_000_000_000

    func run() throws {
        if let kernel {
            guard kernel.isAvailable else { throw ValidationError("the \(kernel) kernel is not available on this CPU") }
            Benchmarks.multiplier = CarrylessMultiplier(kernel: kernel, kernelWords: kernelWords)
        } else if let kernelWords {
            Benchmarks.multiplier = CarrylessMultiplier(kernel: CarrylessMultiplier.best.kernel, kernelWords: kernelWords)
        }
        let all = Benchmarks.all()
        if list {
            for benchmark in all { print(benchmark.name) }
            print("\(FalseAlarmBenchmark.name) (opt-in: runs only when named in full)")
            print("\(FaultDetection.benchmarkName) (opt-in: runs only when named in full)")
            return
        }
        var names = names
        if names.contains(FaultDetection.benchmarkName) {
            names.removeAll { $0 == FaultDetection.benchmarkName }
            print(try FaultDetection.report())
            if names.isEmpty { return }
        }
        if names.contains(FalseAlarmBenchmark.name) {
            names.removeAll { $0 == FalseAlarmBenchmark.name }
            #if DEBUG
            printToStandardError("qrng bench: this is a debug build; health/false-alarms will be slow")
            #endif
            print(try FalseAlarmBenchmark.run(samples: falseAlarmSamples))
            if names.isEmpty { return }
        }
        var selected = names.isEmpty ? all : all.filter { benchmark in names.contains { benchmark.name.hasPrefix($0) } }
        // Baselines of the selected benchmarks always run, so every ratio is from the same run.
        let neededBaselines = Set(selected.compactMap(\.baseline))
        selected = all.filter { benchmark in
            neededBaselines.contains(benchmark.name) || selected.contains { $0.name == benchmark.name }
        }
        guard !selected.isEmpty else { throw ValidationError("no benchmark matches \(names)") }
        #if DEBUG
        printToStandardError("qrng bench: this is a debug build; figures are meaningless (swift build -c release)")
        #endif
        let runner = BenchmarkRunner(minimumSeconds: seconds) { name in
            if !json { printToStandardError("running \(name)…") }
        }
        let results = try runner.run(selected)
        print(json ? Self.json(results) : Self.table(results))
    }

    static func table(_ results: [BenchmarkResult]) -> String {
        let rows = results.map { result in
            [
                result.benchmark.name, result.formattedRate, result.formattedMedianTime,
                result.ratio.map { String(format3: $0) + "×" } ?? "",
                result.benchmark.baseline ?? "", String(result.runs),
            ]
        }
        let header = ["benchmark", "median rate", "time per run", "ratio", "baseline (same run)", "runs"]
        let widths = (0..<header.count).map { column in
            ([header] + rows).map { $0[column].count }.max()!
        }
        func line(_ cells: [String]) -> String {
            zip(cells, widths).map { $0 + String(repeating: " ", count: $1 - $0.count) }.joined(separator: "  ")
        }
        return ([line(header), line(widths.map { String(repeating: "-", count: $0) })] + rows.map(line))
            .joined(separator: "\n")
    }

    static func json(_ results: [BenchmarkResult]) -> String {
        let objects = results.map { result -> String in
            let unit =
                switch result.benchmark.unit {
                case .bytes: "bytes"
                case .bits: "bits"
                case .items(let name): name
                }
            var fields = [
                "\"name\": \"\(result.benchmark.name)\"", "\"unit\": \"\(unit)\"",
                "\"median_per_second\": \(result.medianRate)", "\"best_per_second\": \(result.bestRate)",
                "\"median_seconds_per_run\": \(result.benchmark.workPerRun / result.medianRate)",
                "\"runs\": \(result.runs)", "\"checksum\": \(result.checksum)",
            ]
            if let baseline = result.benchmark.baseline { fields.append("\"baseline\": \"\(baseline)\"") }
            if let ratio = result.ratio { fields.append("\"ratio_to_baseline\": \(ratio)") }
            return "  {" + fields.joined(separator: ", ") + "}"
        }
        return "[\n" + objects.joined(separator: ",\n") + "\n]"
    }
}
