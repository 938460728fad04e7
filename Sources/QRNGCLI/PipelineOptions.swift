import ArgumentParser
import QRNG
import QRNGAssessment

/// The options that choose and tune the pipeline, shared by every command that runs one.
struct PipelineOptions: ParsableArguments {
    enum ExtractorName: String, ExpressibleByArgument, CaseIterable {
        case toeplitz
        case vonNeumann = "von-neumann"
        case peres
        case sha256
    }

    @Option(parsing: .unconditional,
            help: "Seed of the simulator's pseudo-random generator, for reproducible output (default: from the OS).",
            transform: parseSeed)
    var seed: UInt64?

    @Option(help: "The extractor: toeplitz, von-neumann, peres or sha256.")
    var extractor: ExtractorName = .toeplitz

    @Option(name: .customLong("min-entropy"),
            help: "Claimed min-entropy per sample in bits, in (0, 16] and at most the sample width (default: the source model's; required for recordings unless --assess).",
            transform: NumericDomain(above: 0, through: 16).double)
    var minEntropy: Double?

    @OptionGroup(title: "Source") var sourceOptions: SourceOptions

    @OptionGroup(title: "Simulated physics (--source simulated)") var simulation: SimulationOptions

    @Option(help: "Health tests' false-positive probability α, e.g. 2^-30.",
            transform: { try parseProbability($0, option: "--alpha") })
    var alpha: ErrorProbability = .defaultAlpha

    @Option(help: "Extractor input block length n in bits, 64 to 2^24 (default: 4096 for toeplitz, 2^20 for peres, 512 for sha256).",
            transform: NumericDomain(64...0x1p24).integer)
    var blockBits: Int?

    @Option(help: "File with a Toeplitz seed (n + m − 1 bits, packed MSB-first) instead of drawing one at start-up.")
    var toeplitzSeed: String?

    @Option(help: "Draw a fresh Toeplitz seed every this many blocks, 1 to 2^40.",
            transform: NumericDomain(1...0x1p40).integer)
    var seedRotation: Int?

    @Option(help: "Toeplitz distance from uniform ε, e.g. 2^-100; sets m = ⌊n·h − 2·log2(1/ε)⌋.",
            transform: { try parseProbability($0, option: "--epsilon") })
    var epsilon: ErrorProbability = .defaultEpsilon

    @Flag(name: .customLong("no-monitors"),
          help: "Run only the SP 800-90B health tests, without the photon monitors (click rate, g2(0), bias, …).")
    var noMonitors = false

    @Option(help: ArgumentHelp(
        "What a photon monitor's alarm does: gate (discard and re-test, the default) or warn (report only, for "
            + "the offline analysis of a recording). SP 800-90B's RCT and APT always gate.",
        valueName: "gate|warn"))
    var monitors: MonitorAction = .gate

    func validate() throws {
        if noMonitors && monitors != .gate { throw ValidationError("--no-monitors and --monitors exclude each other") }
        if extractor != .toeplitz && (toeplitzSeed != nil || seedRotation != nil) {
            throw ValidationError("--toeplitz-seed and --seed-rotation apply to --extractor toeplitz only")
        }
        if toeplitzSeed != nil && seedRotation != nil {
            throw ValidationError("a seed from --toeplitz-seed cannot be rotated; --seed-rotation draws fresh seeds")
        }
    }

    /// The pipeline these options describe, the source's data used as `mode` says (each command names that
    /// option itself: `qrng serve`'s `--mode` is the FIFO's permissions); reads the Toeplitz seed file if given.
    func configuration(mode: SourceOptions.Mode = .beamSplitter) throws -> PipelineConfiguration {
        let extractorChoice: PipelineConfiguration.Extractor
        switch extractor {
        case .toeplitz:
            var seedBits: BitBuffer?
            if let toeplitzSeed {
                var bytes = try ReadableFile(path: toeplitzSeed).readAll()
                seedBits = BitBuffer(packedBytes: bytes)
                bytes.withUnsafeMutableBytes { secureZero($0) }
            }
            extractorChoice = .toeplitz(
                PipelineConfiguration.ToeplitzSettings(
                    blockBits: blockBits ?? 4096, epsilon: epsilon, seed: seedBits, rotationBlocks: seedRotation))
        case .vonNeumann: extractorChoice = .vonNeumann
        case .peres: extractorChoice = .peres(blockBits: blockBits ?? 1 << 20, depth: 20)
        case .sha256: extractorChoice = .sha256(blockBits: blockBits ?? 512)
        }
        return PipelineConfiguration(
            source: try sourceOptions.configuredSource(simulation: simulation, seed: seed, mode: mode, alpha: alpha),
            claimedMinEntropy: minEntropy,
            assessment: sourceOptions.assess ? .nonIID(samples: sourceOptions.assessSamples) : nil,
            alpha: alpha,
            extractor: extractorChoice,
            monitors: noMonitors ? nil : PhotonMonitorSettings(alpha: alpha),
            monitorAction: monitors)
    }
}
extension MonitorAction: ExpressibleByArgument {}
