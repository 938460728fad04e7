import ArgumentParser

/// How a file of raw samples is encoded.
enum SampleFormat: String, ExpressibleByArgument, CaseIterable {
    /// One sample per byte, in the low bits (NIST's format).
    case bytes
    /// 16-bit little-endian samples.
    case u16le
    /// A bit string packed most significant bit first, read k bits per sample.
    case packed
}

/// The width and encoding of a file of raw samples, for the commands that read one (`assess`, `health`).
struct SampleFileOptions: ParsableArguments {
    @Option(name: .customLong("bits-per-sample"), help: "The sample width k in bits, 1 to 16.",
            transform: NumericDomain(1...16).integer)
    var bitsPerSample: Int

    @Option(help: "Input format: bytes (one sample per byte), u16le (16-bit little-endian), packed (bits, MSB first).")
    var format: SampleFormat = .bytes

    @Flag(help: "Read a packed bit string, MSB first (the same as --format packed).")
    var packed = false

    /// The format to read: `--packed` is `--format packed`.
    var inputFormat: SampleFormat { packed ? .packed : format }

    func validate() throws {
        if packed && format != .bytes && format != .packed {
            throw ValidationError("--packed cannot be combined with --format \(format.rawValue)")
        }
        if inputFormat == .bytes && bitsPerSample > 8 {
            throw ValidationError("one sample per byte holds at most 8 bits; use --format u16le for wider samples")
        }
    }
}
