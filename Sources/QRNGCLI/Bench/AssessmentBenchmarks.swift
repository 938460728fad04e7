@_spi(Benchmarks) import QRNG

extension Benchmarks {
    /// The compression statistic of the permutation tests (SP 800-90B §5.1.11): the bzip2-compressed size of the
    /// decimal text of 10⁶ random 8-bit samples (about 3.57 MB), computed by qrng's `Bzip2Length` against libbz2
    /// compressing the same text in the same run.
    static func assessment() -> [Benchmark] {
        let text = permutationTestText(sampleCount: 1_000_000, seed: 12)
        return [
            Benchmark(name: "assess/bzip2-libbz2", unit: .bytes, workPerRun: Double(text.count), baseline: nil) {
                var copy = text
                guard copy.withUnsafeMutableBufferPointer({ Bzip2LengthBenchmark.libbz2Length(of: $0) }) != nil else {
                    throw QRNGError(.systemCall, "libbz2 cannot be loaded")
                }
                return { UInt64(copy.withUnsafeMutableBufferPointer { Bzip2LengthBenchmark.libbz2Length(of: $0)! }) }
            },
            Benchmark(
                name: "assess/bzip2-length", unit: .bytes, workPerRun: Double(text.count),
                baseline: "assess/bzip2-libbz2"
            ) {
                { UInt64(text.withUnsafeBufferPointer { Bzip2LengthBenchmark.length(of: $0) }) }
            },
        ]
    }

    /// Seeded random 8-bit samples written as the permutation tests write them: decimal, single spaces between.
    static func permutationTestText(sampleCount: Int, seed: UInt64) -> [UInt8] {
        var generator = Xoshiro256StarStar(seed: seed)
        var text: [UInt8] = []
        text.reserveCapacity(4 * sampleCount)
        for index in 0..<sampleCount {
            if index > 0 { text.append(32) }
            text.append(contentsOf: String(generator.next() >> 56).utf8)
        }
        return text
    }
}
