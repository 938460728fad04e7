import ArgumentParser
import QRNG

/// The options that choose and tune the pipeline, shared by every command that runs one.
struct PipelineOptions: ParsableArguments {
    enum ExtractorName: String, ExpressibleByArgument, CaseIterable {
        case toeplitz
        case vonNeumann = "von-neumann"
    }

    @Option(parsing: .unconditional,
            help: "Seed of the simulator's pseudo-random generator, for reproducible output (default: from the OS).",
            transform: parseSeed)
    var seed: UInt64?

    @Option(help: "The extractor: toeplitz or von-neumann.")
    var extractor: ExtractorName = .toeplitz

    @Option(name: .customLong("min-entropy"),
            help: "Claimed min-entropy per sample in bits (default: the source model's).")
    var minEntropy: Double?

    @Option(help: "Health tests' false-positive probability α, e.g. 2^-30.",
            transform: { try parseProbability($0, option: "--alpha") })
    var alpha: ErrorProbability = .defaultAlpha

    @Option(help: "Toeplitz input block length n in bits.")
    var blockBits: Int = 4096

    @Option(help: "Toeplitz distance from uniform ε, e.g. 2^-100; sets m = ⌊n·h − 2·log2(1/ε)⌋.",
            transform: { try parseProbability($0, option: "--epsilon") })
    var epsilon: ErrorProbability = .defaultEpsilon

    func validate() throws {
        if let minEntropy, !(minEntropy > 0 && minEntropy <= 1) {
            throw ValidationError("--min-entropy must be in (0, 1] bits for one-bit samples, got \(minEntropy)")
        }
        if blockBits < 64 { throw ValidationError("--block-bits must be at least 64, got \(blockBits)") }
        if blockBits > 1 << 24 { throw ValidationError("--block-bits must be at most 2^24, got \(blockBits)") }
    }

    var configuration: PipelineConfiguration {
        PipelineConfiguration(
            source: .simulatedBeamSplitter(EmitterConfiguration(), seed: seed),
            claimedMinEntropy: minEntropy,
            alpha: alpha,
            extractor: extractor == .toeplitz ? .toeplitz(blockBits: blockBits, epsilon: epsilon) : .vonNeumann)
    }
}
