import QRNG
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Every benchmark `qrng bench` knows, in pipeline order, each with the baseline it is compared with.
enum Benchmarks {
    static func all() -> [Benchmark] {
        baselines() + readers() + sources() + health() + extractors() + pool() + poolContention() + consumers()
            + serving() + statistics() + assessment() + endToEnd()
    }

    static let megabyte = 1 << 20

    static func randomBits(_ count: Int, seed: UInt64 = 1) -> BitBuffer {
        var generator = Xoshiro256StarStar(seed: seed)
        return BitBuffer(words: (0..<(count + 63) / 64).map { _ in generator.next() }, count: count)
    }

    static func baselines() -> [Benchmark] {
        let size = 16 * megabyte
        return [
            Benchmark(name: "baseline/urandom", unit: .bytes, workPerRun: Double(size), baseline: nil) {
                let descriptor = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
                guard descriptor >= 0 else {
                    throw QRNGError(.systemCall, "cannot open", context: .init(file: "/dev/urandom", errno: errno))
                }
                var buffer = [UInt8](repeating: 0, count: megabyte)
                return {
                    var checksum: UInt64 = 0
                    for _ in 0..<(size / megabyte) {
                        let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                        guard count == megabyte else { throw QRNGError(.systemCall, "short read of /dev/urandom") }
                        checksum &+= UInt64(buffer[0])
                    }
                    return checksum
                }
            },
            Benchmark(name: "baseline/sha256-openssl", unit: .bytes, workPerRun: Double(size), baseline: nil) {
                let data = randomBits(size * 8).packedBytes()
                return { UInt64(SHA256.hash(data)[0]) }
            },
            // OpenSSL hashing 64-byte messages one by one with its one-shot EVP_Digest and no allocation, as
            // `openssl speed sha256` does in its 64-byte column.
            Benchmark(name: "baseline/sha256-openssl-64B", unit: .bytes, workPerRun: Double(size / 16), baseline: nil) {
                let data = randomBits(size / 16 * 8).packedBytes()
                var digest = [UInt8](repeating: 0, count: SHA256.byteCount)
                return {
                    var checksum: UInt64 = 0
                    data.withUnsafeBytes { bytes in
                        digest.withUnsafeMutableBytes { digest in
                            for offset in stride(from: 0, to: bytes.count, by: 64) {
                                SHA256.hash(UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + 64]), into: digest)
                                checksum &+= UInt64(digest[0])
                            }
                        }
                    }
                    return checksum
                }
            },
        ]
    }

    /// Reading time tags from a file in the page cache. Set-up writes the file, keeps a descriptor on it and
    /// removes its name (so nothing is left behind); each run opens it afresh through /proc/self/fd and reads it
    /// all, a tag buffer at a time, into a checksum of the tags.
    static func readers() -> [Benchmark] {
        let tags = benchmarkTags(1 << 22)
        // HydraHarp v2 at 1 ps: the header qrng writes (9 tags, one 8-byte string) and one overflow record per
        // 2²⁵ ps, since no gap is that long. The set-up checks the file against these sizes.
        let ptuSize = 16 + 9 * 48 + 8 + 4 * (tags.count + Int(tags.last!.picoseconds >> 25))
        let binarySize = BinaryTimeTagHeader.size + BinaryTimeTagHeader.recordSize * tags.count
        func readerBenchmark(
            _ name: String, size: Int, write: @escaping (WritableFile) throws -> Void,
            open: @escaping (String) throws -> any TimeTagReader
        ) -> Benchmark {
            Benchmark(name: name, unit: .bytes, workPerRun: Double(size), baseline: "baseline/urandom") {
                let path = "/tmp/qrng-bench-\(getpid())-\(name.split(separator: "/").joined(separator: "-"))"
                try write(try WritableFile(path: path))
                let descriptor = Glibc.open(path, O_RDONLY | O_CLOEXEC)
                unlink(path)
                var status = stat()
                guard descriptor >= 0, fstat(descriptor, &status) == 0, Int(status.st_size) == size else {
                    throw QRNGError(
                        .invalidInput, "benchmark file missing or of the wrong size", context: .init(file: path))
                }
                let reopen = "/proc/self/fd/\(descriptor)"
                return {
                    let reader = try open(reopen)
                    var buffer: [TimeTag] = []
                    var checksum: UInt64 = 0
                    while try reader.read(into: &buffer, maximumCount: 1 << 14) {
                        for tag in buffer { checksum = checksum &+ (tag.picoseconds ^ UInt64(tag.channel)) }
                    }
                    return checksum
                }
            }
        }
        return [
            readerBenchmark(
                "read/timetags-binary", size: binarySize,
                write: { file in
                    let writer = try BinaryTimeTagWriter(sink: file, channelCount: 3, resolutionPicoseconds: 1)
                    try writer.write(tags)
                    try writer.finish()
                },
                open: { try BinaryTimeTagReader(path: $0) }),
            readerBenchmark(
                "read/ptu-t2", size: ptuSize,
                write: { file in
                    let writer = try PTUWriter(sink: file, recordType: .hydraHarpV2T2, resolutionPicoseconds: 1)
                    try writer.write(tags)
                    try writer.finish()
                },
                open: { try PTUReader(path: $0) }),
        ]
    }

    /// A sync every 12.5 ns on channel 0 and, after one in three, a detection on channel 1 or 2 some 0.3–2.3 ns
    /// later.
    static func benchmarkTags(_ count: Int) -> [TimeTag] {
        var generator = Xoshiro256StarStar(seed: 7)
        var tags: [TimeTag] = []
        tags.reserveCapacity(count)
        var sync: UInt64 = 0
        while tags.count < count {
            sync += 12_500
            tags.append(TimeTag(channel: 0, picoseconds: sync))
            let draw = generator.next()
            if draw % 3 == 0 && tags.count < count {
                let channel = UInt16(1 + (draw >> 8) & 1)
                tags.append(TimeTag(channel: channel, picoseconds: sync + 300 + (draw >> 16) % 2000))
            }
        }
        return tags
    }

    static func sources() -> [Benchmark] {
        let pulses = 1 << 26
        return [
            Benchmark(name: "source/simulator", unit: .items("pulses"), workPerRun: Double(pulses), baseline: nil) {
                var emitter = try SimulatedQuantumDotEmitter(seed: 1)
                var buffer = ClickBuffer()
                return {
                    var checksum: UInt64 = 0
                    for _ in 0..<(pulses >> 22) {
                        _ = try emitter.nextPulses(1 << 22, into: &buffer)
                        checksum &+= UInt64(buffer.events.count)
                    }
                    return checksum
                }
            },
            // The time-tag simulator: a sync tag per pulse plus every click, dead time, jitter and sorting.
            Benchmark(name: "source/simulator-timetags", unit: .items("pulses"), workPerRun: 8e5, baseline: nil) {
                let tagger = try SimulatedTimeTagger(configuration: SimulationConfiguration(), seed: 1)
                var tags: [TimeTag] = []
                return {
                    var checksum: UInt64 = 0
                    var pulses = 0
                    while pulses < 800_000 {
                        _ = try tagger.read(into: &tags, maximumCount: 1 << 14)
                        pulses += tags.count { $0.channel == SimulatedTimeTagger.syncChannel }
                        checksum &+= tags.last?.picoseconds ?? 0
                    }
                    return checksum
                }
            },
        ]
    }

    static func health() -> [Benchmark] {
        let bits = 1 << 26
        let samples = 1 << 24
        func wide(_ name: String, bitsPerSample: Int, minEntropy: Double, monitors: PhotonMonitorSettings? = nil)
            -> Benchmark
        {
            Benchmark(name: name, unit: .items("samples"), workPerRun: Double(samples), baseline: nil) {
                var generator = Xoshiro256StarStar(seed: 2)
                let mask = UInt64((1 << bitsPerSample) - 1)
                let data = SampleBuffer(
                    values: (0..<samples).map { _ in UInt16(generator.next() & mask) }, bitsPerSample: bitsPerSample)
                var monitor = try HealthMonitor(
                    cutoffs: try HealthCutoffs(bitsPerSample: bitsPerSample, minEntropy: minEntropy),
                    monitors: monitors)
                var released = BitBuffer(minimumCapacity: samples * bitsPerSample)
                return {
                    released.removeAll(keepingCapacity: true)
                    _ = monitor.process(data, releasingInto: &released)
                    return UInt64(released.count)
                }
            }
        }
        return [
            Benchmark(name: "health/binary", unit: .bits, workPerRun: Double(bits), baseline: "baseline/urandom") {
                let data = SampleBuffer(bits: randomBits(bits))
                var monitor = try HealthMonitor(cutoffs: try HealthCutoffs(bitsPerSample: 1, minEntropy: 1))
                var released = BitBuffer(minimumCapacity: bits)
                return {
                    released.removeAll(keepingCapacity: true)
                    _ = monitor.process(data, releasingInto: &released)
                    return UInt64(released.count)
                }
            },
            wide("health/8bit", bitsPerSample: 8, minEntropy: 7),
            wide("health/16bit", bitsPerSample: 16, minEntropy: 15),
            // The RCT and APT with the sample monitors (autocorrelation at 8 lags; histogram drift for 8 bits).
            Benchmark(
                name: "health/monitors-binary", unit: .bits, workPerRun: Double(bits), baseline: "baseline/urandom"
            ) {
                let data = SampleBuffer(bits: randomBits(bits))
                var monitor = try HealthMonitor(
                    cutoffs: try HealthCutoffs(bitsPerSample: 1, minEntropy: 1), monitors: .samplesOnly())
                var released = BitBuffer(minimumCapacity: bits)
                return {
                    released.removeAll(keepingCapacity: true)
                    _ = monitor.process(data, releasingInto: &released)
                    return UInt64(released.count)
                }
            },
            wide("health/monitors-8bit", bitsPerSample: 8, minEntropy: 7, monitors: .samplesOnly()),
        ]
    }

    /// The carry-less multiplier the Toeplitz benchmarks use; `qrng bench --kernel` overrides it.
    nonisolated(unsafe) static var multiplier = CarrylessMultiplier.best

    static func extractors() -> [Benchmark] {
        let inputBits = 1 << 26
        var list = [1 << 10, 1 << 12, 1 << 16, 1 << 20].map { n in
            let blocks = max(2, inputBits / n)
            return Benchmark(
                name: "extract/toeplitz-\(n)", unit: .bits, workPerRun: Double(blocks * n),
                baseline: "baseline/urandom"
            ) {
                var extractor = try ToeplitzExtractor(
                    seed: randomBits(n + n / 2 - 1, seed: 3), inputBits: n, outputBits: n / 2, multiplier: multiplier)
                let input = randomBits(blocks * n)
                var output = BitBuffer(minimumCapacity: blocks * n / 2)
                return {
                    output.removeAll(keepingCapacity: true)
                    extractor.extract(input, into: &output)
                    return output.words.last ?? 0
                }
            }
        }
        list.append(
            Benchmark(name: "extract/peres", unit: .bits, workPerRun: Double(inputBits), baseline: "baseline/urandom") {
                var extractor = try PeresExtractor()
                let input = randomBits(inputBits)
                var output = BitBuffer(minimumCapacity: inputBits)
                return {
                    output.removeAll(keepingCapacity: true)
                    extractor.extract(input, into: &output)
                    return UInt64(output.count)
                }
            })
        for (blockBits, baseline) in [(512, "baseline/sha256-openssl-64B"), (65536, "baseline/sha256-openssl")] {
            list.append(
                Benchmark(
                    name: "condition/sha256-\(blockBits)", unit: .bits, workPerRun: Double(inputBits / 16),
                    baseline: baseline
                ) {
                    var conditioner = try SHA256Conditioner(inputBits: blockBits)
                    let input = randomBits(inputBits / 16)
                    var output = BitBuffer(minimumCapacity: inputBits / 16)
                    return {
                        output.removeAll(keepingCapacity: true)
                        conditioner.extract(input, into: &output)
                        return output.words.last ?? 0
                    }
                })
        }
        list.append(
            Benchmark(
                name: "extract/von-neumann", unit: .bits, workPerRun: Double(inputBits),
                baseline: "baseline/urandom"
            ) {
                var extractor = VonNeumannExtractor()
                let input = randomBits(inputBits)
                var output = BitBuffer(minimumCapacity: inputBits / 3)
                return {
                    output.removeAll(keepingCapacity: true)
                    extractor.extract(input, into: &output)
                    return UInt64(output.count)
                }
            })
        return list
    }

    static func pool() -> [Benchmark] {
        let bytes = 16 * megabyte
        return [
            Benchmark(name: "pool/deposit+read", unit: .bytes, workPerRun: Double(bytes), baseline: "baseline/urandom") {
                let pool = EntropyPool(provenance: Provenance(kind: .simulated, detail: "bench"), capacityBits: bytes * 8)
                let content = randomBits(bytes * 8)
                var destination = [UInt8](repeating: 0, count: megabyte)
                return {
                    try pool.deposit(content)
                    var checksum: UInt64 = 0
                    for _ in 0..<(bytes / megabyte) {
                        try destination.withUnsafeMutableBytes { try pool.read(into: $0) }
                        checksum &+= UInt64(destination[0])
                    }
                    return checksum
                }
            }
        ]
    }

    static func endToEnd() -> [Benchmark] {
        let bytes = 16 * megabyte
        return [
            Benchmark(name: "generate/toeplitz", unit: .bytes, workPerRun: Double(bytes), baseline: "baseline/urandom") {
                {
                    var checksum: UInt64 = 0
                    let configuration = PipelineConfiguration(
                        source: .simulatedBeamSplitter(SimulationConfiguration(), seed: 1))
                    _ = try GenerateJob(configuration: configuration, byteCount: bytes).run { chunk in
                        checksum &+= UInt64(chunk[0])
                    }
                    return checksum
                }
            },
        ] + recordingRuns()
    }

    /// `generate` over a recording (64 Mi pulses of packed clicks, in the page cache), to its end, without and
    /// with the consumption journal that keeps its bits from being handed out twice: the journal's cost is the
    /// ratio of the two. Each journaled run opens the journal from the start (as `--from-start` does) and
    /// settles it at the end, as a command does.
    static func recordingRuns() -> [Benchmark] {
        let pulses = 1 << 26
        let directory = "/tmp/qrng-bench-\(getpid())-journal"
        let recording = directory + "/recording.clk"
        func writeRecording() throws {
            guard access(recording, F_OK) != 0 else { return }
            mkdir(directory, 0o700)
            let writer = try PackedClickWriter(sink: try WritableFile(path: recording), pulseCount: UInt64(pulses))
            var generator = Xoshiro256StarStar(seed: 5)
            var outcomes = [ClickOutcome](repeating: .d0, count: 64)
            for _ in 0..<(pulses / 64) {
                // Every pulse a single click, D0 or D1 by one bit of the generator.
                let word = generator.next()
                for index in 0..<64 { outcomes[index] = word >> UInt64(index) & 1 == 0 ? .d0 : .d1 }
                try writer.write(outcomes)
            }
            try writer.finish()
        }
        // A journal's lock is released when the last reference goes, which the producer thread may still hold
        // for a moment after a run: each run gets its own state directory.
        let runs = Mutex(0)
        func run(journaled: Bool) throws -> UInt64 {
            var configuration = PipelineConfiguration(
                source: .recordedClicks(path: recording, errorPolicy: .stop), claimedMinEntropy: 0.9)
            configuration.monitors = nil
            var job = GenerateJob(configuration: configuration, byteCount: nil)
            if journaled {
                job.journal = try ConsumptionJournal.open(
                    recordingPath: recording, configurationFingerprint: configuration.source.fingerprint,
                    stateDirectory: directory + "/state-\(runs.withLock { $0 += 1; return $0 })", resume: .fromStart)
            }
            var checksum: UInt64 = 0
            let report = try job.run { chunk in checksum &+= UInt64(chunk[0]) }
            guard report.failure?.code == .endOfInput else {
                throw report.failure ?? QRNGError(.invalidInput, "the recording did not end", context: .init(file: recording))
            }
            return checksum &+ UInt64(report.bytesWritten)
        }
        // 64 Mi single clicks at H = 0.9 through Toeplitz 4096 → 3486: about 6.8 MB of output.
        let outputBytes = Double(pulses / 4096 * 3486 / 8)
        return [
            Benchmark(name: "generate/recording", unit: .bytes, workPerRun: outputBytes, baseline: "baseline/urandom") {
                try writeRecording()
                return { try run(journaled: false) }
            },
            Benchmark(
                name: "generate/recording-journaled", unit: .bytes, workPerRun: outputBytes,
                baseline: "generate/recording"
            ) {
                try writeRecording()
                return { try run(journaled: true) }
            },
        ]
    }
}
