import QRNG
import QRNGAssessment

#if canImport(Glibc)
import Glibc
#endif

extension Benchmarks {
    /// The environment variable naming a folder with NIST's reference tool (`ea_non_iid`, `ea_iid`, built from
    /// usnistgov/SP800-90B_EntropyAssessment); when set, the tool is run on the same samples as a baseline.
    static let referenceToolVariable = "QRNG_EA_DIR"

    /// SP 800-90B assessments of 1,000,000 seeded 8-bit samples, the size the targets are stated for, and the IID
    /// track on 1,000,000 seeded bits. With `QRNG_EA_DIR` set, NIST's reference tool assesses the same files in the
    /// same run, pinned to one core with `taskset` (its IID track otherwise spreads its shuffles over every core)
    /// so that both sides use one.
    static func assessment() -> [Benchmark] {
        let count = 1_000_000
        var generator = Xoshiro256StarStar(seed: 21)
        let samples = (0..<count).map { _ in UInt16(truncatingIfNeeded: generator.next() >> 56) }
        var bitGenerator = Xoshiro256StarStar(seed: 22)
        let bits = (0..<count).map { _ in UInt16(truncatingIfNeeded: bitGenerator.next() & 1) }
        var benchmarks = [
            Benchmark(
                name: "assess/non-iid-1M-8bit", unit: .items("samples"), workPerRun: Double(count),
                baseline: referenceDirectory == nil ? nil : "reference/ea_non_iid"
            ) {
                return {
                    let report = try MinEntropyAssessment.nonIID(samples: samples, bitsPerSample: 8)
                    return UInt64((report.minEntropy * 1e6).rounded())
                }
            },
            iidTrack("assess/iid-1M-8bit", samples: samples, bitsPerSample: 8, reference: "reference/ea_iid"),
            // 1,000,000 seeded bits: binary data takes its own paths (the shuffle as bits, the conversions of
            // §5.1, bzip2 on text of two one-byte words). (The low bits of the 8-bit samples above would not do: by
            // chance one of their statistics ranks among the most extreme, so its shuffling runs to the full
            // 10,000.)
            iidTrack("assess/iid-1M-binary", samples: bits, bitsPerSample: 1, reference: "reference/ea_iid-binary"),
        ]
        if let directory = referenceDirectory {
            let runs = [
                (name: "ea_non_iid", tool: "ea_non_iid", samples: samples, bitsPerSample: 8),
                (name: "ea_iid", tool: "ea_iid", samples: samples, bitsPerSample: 8),
                (name: "ea_iid-binary", tool: "ea_iid", samples: bits, bitsPerSample: 1),
            ]
            for (name, tool, samples, bitsPerSample) in runs {
                benchmarks.append(
                    Benchmark(
                        name: "reference/\(name)", unit: .items("samples"), workPerRun: Double(count), baseline: nil
                    ) {
                        // The file is unlinked at once and reached through a descriptor the tool inherits, so
                        // nothing is left behind however the benchmark ends.
                        let path = "/tmp/qrng-bench-\(getpid())-\(name).bin"
                        try WritableFile(path: path).write(samples.map { UInt8(truncatingIfNeeded: $0) })
                        let descriptor = open(path, O_RDONLY)
                        unlink(path)
                        guard descriptor >= 0 else {
                            throw QRNGError(.systemCall, "cannot reopen", context: .init(file: path, errno: errno))
                        }
                        let inherited = "/proc/self/fd/\(descriptor)"
                        let executable = directory + "/" + tool
                        guard access(executable, X_OK) == 0 else {
                            throw QRNGError(.invalidArgument, "\(referenceToolVariable): no executable \(executable)")
                        }
                        return {
                            let status = try runQuietly(["taskset", "-c", "0", executable, inherited, String(bitsPerSample)])
                            guard status == 0 else {
                                throw QRNGError(.invalidArgument, "\(executable) exited with status \(status)")
                            }
                            return UInt64(status)
                        }
                    })
            }
        }
        return benchmarks + compressionStatistic()
    }

    /// SP 800-90B's IID track on `samples`, with a new shuffle seed each run: how many shuffles the permutation
    /// tests need (and how many of them compress) varies from one seed to the next, and the reference tool seeds
    /// from /dev/urandom each run, so the medians compare typical runs rather than one draw.
    static func iidTrack(_ name: String, samples: [UInt16], bitsPerSample: Int, reference: String) -> Benchmark {
        Benchmark(
            name: name, unit: .items("samples"), workPerRun: Double(samples.count),
            baseline: referenceDirectory == nil ? nil : reference
        ) {
            var seed: UInt64 = 0
            return {
                seed += 1
                let report = try MinEntropyAssessment.iid(samples: samples, bitsPerSample: bitsPerSample, seed: seed)
                return UInt64((report.minEntropy * 1e6).rounded())
            }
        }
    }

    /// The compression statistic of the permutation tests (SP 800-90B §5.1.11): the bzip2-compressed size of the
    /// decimal text of 10⁶ random samples, computed by qrng's `Bzip2Length` against libbz2 compressing the same
    /// text in the same run: from the text (`bzip2-length`), and from the samples without writing the text
    /// (`bzip2-decimal`, what the permutation tests run). 8-bit samples make about 3.57 MB of text; binary samples
    /// make 2 MB of two one-byte words, the input on which libbz2 falls back to its slowest sort.
    static func compressionStatistic() -> [Benchmark] {
        [(name: "8bit", bound: UInt64(256)), (name: "binary", bound: UInt64(2))].flatMap { kind -> [Benchmark] in
            let samples = permutationTestSamples(sampleCount: 1_000_000, below: kind.bound, seed: 12)
            let text = permutationTestText(samples)
            return [
                Benchmark(
                    name: "assess/bzip2-libbz2-\(kind.name)", unit: .bytes, workPerRun: Double(text.count),
                    baseline: nil
                ) {
                    var copy = text
                    guard copy.withUnsafeMutableBufferPointer({ Bzip2LengthBenchmark.libbz2Length(of: $0) }) != nil
                    else { throw QRNGError(.systemCall, "libbz2 cannot be loaded") }
                    return {
                        UInt64(copy.withUnsafeMutableBufferPointer { Bzip2LengthBenchmark.libbz2Length(of: $0)! })
                    }
                },
                Benchmark(
                    name: "assess/bzip2-length-\(kind.name)", unit: .bytes, workPerRun: Double(text.count),
                    baseline: "assess/bzip2-libbz2-\(kind.name)"
                ) {
                    let bzip2 = Bzip2LengthBenchmark()
                    return { UInt64(text.withUnsafeBufferPointer { bzip2.length(of: $0) }) }
                },
                Benchmark(
                    name: "assess/bzip2-decimal-\(kind.name)", unit: .bytes, workPerRun: Double(text.count),
                    baseline: "assess/bzip2-libbz2-\(kind.name)"
                ) {
                    let bzip2 = Bzip2LengthBenchmark()
                    let expected: Int = text.withUnsafeBufferPointer { bzip2.length(of: $0) }
                    let decimal: Int? = samples.withUnsafeBufferPointer { bzip2.decimalLength(of: $0) }
                    guard decimal == expected else {
                        throw QRNGError(.invalidArgument, "the two ways to bzip2's length disagree")
                    }
                    return { UInt64(samples.withUnsafeBufferPointer { bzip2.decimalLength(of: $0)! }) }
                },
            ]
        }
    }

    /// Seeded random samples below `bound`.
    static func permutationTestSamples(sampleCount: Int, below bound: UInt64, seed: UInt64) -> [UInt16] {
        var generator = Xoshiro256StarStar(seed: seed)
        return (0..<sampleCount).map { _ in UInt16(truncatingIfNeeded: generator.next() % bound) }
    }

    /// Samples written as the permutation tests write them: decimal, single spaces between.
    static func permutationTestText(_ samples: [UInt16]) -> [UInt8] {
        var text: [UInt8] = []
        text.reserveCapacity(4 * samples.count)
        for (index, sample) in samples.enumerated() {
            if index > 0 { text.append(32) }
            text.append(contentsOf: String(sample).utf8)
        }
        return text
    }

    static var referenceDirectory: String? {
        getenv(referenceToolVariable).map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Runs a program found on the PATH with its standard output discarded and returns its exit status.
    static func runQuietly(_ arguments: [String]) throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let spawned = posix_spawnp(&child, arguments[0], &actions, nil, argv, environ)
        guard spawned == 0 else {
            throw QRNGError(.systemCall, "cannot run \(arguments[0]): \(String(cString: strerror(spawned)))")
        }
        var status: Int32 = 0
        while waitpid(child, &status, 0) < 0 && errno == EINTR {}
        // WIFEXITED / WEXITSTATUS are macros Swift does not import.
        return status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
    }
}
