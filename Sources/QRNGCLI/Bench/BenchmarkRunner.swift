import QRNG

/// One benchmark: a set-up outside the clock and a body that does a fixed amount of work and returns a checksum
/// of its result, so the optimiser cannot drop the work.
struct Benchmark {
    /// What the work is measured in.
    enum Unit {
        /// Bytes (of input, for stages that consume), reported in MB/s.
        case bytes
        /// Bits (of input), reported in Mbit/s or Gbit/s.
        case bits
        /// Countable things, reported per second with their name.
        case items(String)
    }

    let name: String
    let unit: Unit
    /// Work per run of the body, in `unit`.
    let workPerRun: Double
    /// The benchmark, if any, this one is compared with (same run, same machine).
    let baseline: String?
    let setUp: () throws -> () throws -> UInt64

    /// Work per second expressed in bytes, for ratios between benchmarks of different units (bits count 1/8).
    func bytesPerSecond(_ rate: Double) -> Double? {
        switch unit {
        case .bytes: rate
        case .bits: rate / 8
        case .items: nil
        }
    }
}

/// A measured benchmark.
struct BenchmarkResult {
    let benchmark: Benchmark
    /// Work per second over the median run, and over the fastest.
    let medianRate: Double
    let bestRate: Double
    let runs: Int
    let checksum: UInt64
    /// Median rate divided by the baseline's, both in bytes per second.
    var ratio: Double?

    var formattedRate: String { Self.format(medianRate, unit: benchmark.unit) }

    /// The median run's duration: for benchmarks whose target is a time (the SP 800-22 battery).
    var formattedMedianTime: String {
        let seconds = benchmark.workPerRun / medianRate
        return seconds >= 1 ? String(format3: seconds) + " s" : String(format3: seconds * 1000) + " ms"
    }

    static func format(_ rate: Double, unit: Benchmark.Unit) -> String {
        func scaled(_ value: Double, _ units: [String]) -> String {
            var value = value
            var index = 0
            while value >= 1000 && index < units.count - 1 {
                value /= 1000
                index += 1
            }
            return String(format3: value) + " " + units[index]
        }
        switch unit {
        case .bytes: return scaled(rate, ["B/s", "kB/s", "MB/s", "GB/s"])
        case .bits: return scaled(rate, ["bit/s", "kbit/s", "Mbit/s", "Gbit/s", "Tbit/s"])
        case .items(let name): return scaled(rate, ["\(name)/s", "k\(name)/s", "M\(name)/s", "G\(name)/s"])
        }
    }
}

/// Runs benchmarks: one warm-up, then timed runs until `minimumSeconds` have passed (at least three runs).
struct BenchmarkRunner {
    var minimumSeconds: Double
    var progress: (String) -> Void = { _ in }

    func run(_ benchmarks: [Benchmark]) throws -> [BenchmarkResult] {
        var results: [BenchmarkResult] = []
        for benchmark in benchmarks {
            progress(benchmark.name)
            let body = try benchmark.setUp()
            var checksum = try body()  // warm-up
            var durations: [Double] = []
            let clock = ContinuousClock()
            let start = clock.now
            while durations.count < 3 || (clock.now - start).seconds < minimumSeconds {
                let runStart = clock.now
                checksum ^= try body()
                durations.append((clock.now - runStart).seconds)
            }
            durations.sort()
            let median = durations[durations.count / 2]
            results.append(
                BenchmarkResult(
                    benchmark: benchmark, medianRate: benchmark.workPerRun / median,
                    bestRate: benchmark.workPerRun / durations[0], runs: durations.count, checksum: checksum))
        }
        for index in results.indices {
            guard let baselineName = results[index].benchmark.baseline,
                let baseline = results.first(where: { $0.benchmark.name == baselineName }),
                let rates = Self.comparableRates(results[index], baseline)
            else { continue }
            results[index].ratio = rates.own / rates.baseline
        }
        return results
    }
}

extension BenchmarkRunner {
    /// The two rates in one unit: bytes per second, or the things counted when both count the same things.
    static func comparableRates(
        _ result: BenchmarkResult, _ baseline: BenchmarkResult
    ) -> (own: Double, baseline: Double)? {
        if case .items(let own) = result.benchmark.unit, case .items(let theirs) = baseline.benchmark.unit {
            return own == theirs ? (result.medianRate, baseline.medianRate) : nil
        }
        guard let own = result.benchmark.bytesPerSecond(result.medianRate),
            let theirs = baseline.benchmark.bytesPerSecond(baseline.medianRate)
        else { return nil }
        return (own, theirs)
    }
}

extension Duration {
    var seconds: Double {
        let (whole, fraction) = components
        return Double(whole) + Double(fraction) * 1e-18
    }
}

extension String {
    /// `value` with three significant digits, without Foundation's formatting.
    init(format3 value: Double) {
        guard value.isFinite else {
            self = "\(value)"
            return
        }
        let digits = value >= 100 ? 0 : value >= 10 ? 1 : 2
        let scale = [1.0, 10, 100][digits]
        let rounded = (value * scale).rounded() / scale
        var text = String(rounded)
        if digits == 0, text.hasSuffix(".0") { text.removeLast(2) }
        self = text
    }
}
