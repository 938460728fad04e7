import ArgumentParser
import QRNG

/// `qrng extract`: runs one extractor over a file or standard input.
struct Extract: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run an extractor over raw bits packed MSB-first, from a file or standard input.",
        discussion: """
            Input and output are bit strings packed MSB-first (bit 0 is 0x80 of byte 0). The output's final \
            partial byte is padded with zero bits; a trailing partial input block is reported, not used.
            """,
        subcommands: [ToeplitzCommand.self, VonNeumannCommand.self, PeresCommand.self, SHA256Command.self]
    )

    struct Files: ParsableArguments {
        @Option(help: "Input file (default: standard input).")
        var input: String?

        @Option(help: "Output file (default: standard output).")
        var out: String?
    }

    struct ToeplitzCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "toeplitz", abstract: "Toeplitz hashing of n-bit blocks to m bits (cryptomite's convention).")

        @Option(help: "File holding the n + m − 1 seed bits, packed MSB-first (extra bits are ignored).")
        var seed: String

        @Option(help: "Input block length n in bits (64 to 2^24).",
                transform: NumericDomain(64...0x1p24).integer)
        var blockBits: Int

        @Option(help: "Output length m in bits per block (1 to n).",
                transform: NumericDomain(1...0x1p24).integer)
        var outputBits: Int?

        @Option(name: .customLong("min-entropy"), help: "Min-entropy h per input bit, in (0, 1]; sets m = ⌊n·h − 2·log2(1/ε)⌋.",
                transform: NumericDomain(above: 0, through: 1).double)
        var minEntropy: Double?

        @Option(help: "Distance from uniform ε for --min-entropy, e.g. 2^-100.",
                transform: { try parseProbability($0, option: "--epsilon") })
        var epsilon: ErrorProbability = .defaultEpsilon

        @OptionGroup var files: Files

        func validate() throws {
            switch (outputBits, minEntropy) {
            case (nil, nil): throw ValidationError("give --output-bits, or --min-entropy (with --epsilon)")
            case (.some, .some): throw ValidationError("give either --output-bits or --min-entropy, not both")
            default: break
            }
        }

        func run() throws {
            let m: Int
            var note = ""
            if let outputBits {
                m = outputBits
            } else {
                m = try leftoverHashOutputLength(inputBits: blockBits, minEntropyPerBit: minEntropy!, epsilon: epsilon)
                note = " (leftover hash lemma: h = \(minEntropy!), ε = \(epsilon))"
            }
            let seedFile = try ReadableFile(path: seed)
            var seedBytes = try seedFile.readAll()
            defer { seedBytes.withUnsafeMutableBytes { secureZero($0) } }
            let seedBits = BitBuffer(packedBytes: seedBytes)
            guard seedBits.count >= blockBits + m - 1 else {
                throw QRNGError(
                    .invalidInput,
                    "the seed has \(seedBits.count) bits; n + m − 1 = \(blockBits + m - 1) are needed",
                    context: .init(file: seed))
            }
            let extractor = try ToeplitzExtractor(seed: seedBits, inputBits: blockBits, outputBits: m)
            printToStandardError("qrng extract: toeplitz n = \(blockBits), m = \(m)\(note), multiplier \(extractor.multiplier)")
            try runExtraction(extractor, files: files)
        }
    }

    struct VonNeumannCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "von-neumann", abstract: "The von Neumann extractor: 10 → 1, 01 → 0, equal pairs dropped.")

        @OptionGroup var files: Files

        func run() throws {
            try runExtraction(VonNeumannExtractor(), files: files)
        }
    }

    struct PeresCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "peres", abstract: "Peres' iterated von Neumann extractor, block by block.")

        @Option(help: "Block length in bits (even, 2 to 2^30).", transform: NumericDomain(2...0x1p30).integer)
        var blockBits: Int = 1 << 20

        @Option(help: "Recursion depth, 1 (von Neumann) to 64.", transform: NumericDomain(1...64).integer)
        var depth: Int = 20

        @OptionGroup var files: Files

        func run() throws {
            try runExtraction(try PeresExtractor(blockBits: blockBits, depth: depth), files: files)
        }
    }

    struct SHA256Command: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sha256", abstract: "SHA-256 conditioning (SP 800-90B §3.1.5.1.1): each block → 256 bits.")

        @Option(help: "Input block length n_in in bits (a multiple of 8, 8 to 2^30).",
                transform: NumericDomain(8...0x1p30).integer)
        var blockBits: Int = 512

        @Option(name: .customLong("min-entropy"), help: "Min-entropy per input bit, in (0, 1], to report the output entropy.",
                transform: NumericDomain(above: 0, through: 1).double)
        var minEntropy: Double?

        @OptionGroup var files: Files

        func run() throws {
            let conditioner = try SHA256Conditioner(inputBits: blockBits)
            if let minEntropy {
                guard minEntropy >= 0 && minEntropy <= 1 else {
                    throw ValidationError("--min-entropy must be in [0, 1] bits per input bit, got \(minEntropy)")
                }
                let output = SHA256Conditioner.outputEntropy(
                    inputBits: blockBits, inputEntropy: minEntropy * Double(blockBits))
                printToStandardError(
                    "qrng extract: sha256 n_in = \(blockBits), h_in = \(minEntropy * Double(blockBits)) bits: "
                        + "output entropy \(output) of 256 bits per block (SP 800-90B §3.1.5.1.2)")
            }
            try runExtraction(conditioner, files: files)
        }
    }
}

/// Streams the input through `extractor` to the output, in 1 MiB reads, and reports what was used.
func runExtraction(_ extractor: some Extractor, files: Extract.Files) throws {
    let input = try ReadableFile(path: files.input)
    let output = try OutputFile(path: files.out)
    defer { output.close() }
    var job = ExtractionJob(extractor: extractor)
    let report = try job.run(input: input) { bytes in
        try writeAll(bytes, to: output.descriptor, path: files.out)
    }
    printToStandardError(report.summary(name: extractor.name))
}

/// Reads, extracts and writes whole bytes as they complete; the final partial byte is padded with zeros.
struct ExtractionJob<E: Extractor> {
    var extractor: E
    var readSize = 1 << 20

    struct Report {
        var inputBits: UInt64 = 0
        var outputBits: UInt64 = 0
        var unusedInputBits = 0

        func summary(name: String) -> String {
            var line = "qrng extract: \(name): read \(inputBits) bits, wrote \(outputBits) bits"
            if unusedInputBits > 0 {
                line += "; a trailing partial block of \(unusedInputBits) bits was not used"
            }
            return line
        }
    }

    mutating func run(input: ReadableFile, write: (UnsafeRawBufferPointer) throws -> Void) throws -> Report {
        var report = Report()
        var chunk = [UInt8](repeating: 0, count: readSize)
        var pendingOutput = BitBuffer()
        defer {
            chunk.withUnsafeMutableBytes { secureZero($0) }
            pendingOutput.removeAll()
        }
        while true {
            let count = try input.read(into: &chunk)
            guard count > 0 else { break }
            report.inputBits += UInt64(count) * 8
            extractor.extract(BitBuffer(packedBytes: chunk[0..<count]), into: &pendingOutput)
            let wholeBytes = pendingOutput.count / 8 * 8
            if wholeBytes > 0 {
                var bytes = pendingOutput.extracting(0..<wholeBytes).packedBytes()
                try bytes.withUnsafeBytes { try write($0) }
                bytes.withUnsafeMutableBytes { secureZero($0) }
                report.outputBits += UInt64(wholeBytes)
                pendingOutput.removeFirst(wholeBytes)
            }
        }
        if !pendingOutput.isEmpty {
            report.outputBits += UInt64(pendingOutput.count)
            var bytes = pendingOutput.packedBytes()
            try bytes.withUnsafeBytes { try write($0) }
            bytes.withUnsafeMutableBytes { secureZero($0) }
        }
        report.unusedInputBits = extractor.bufferedInputBits
        return report
    }
}
