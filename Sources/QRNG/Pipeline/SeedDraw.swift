/// A Toeplitz seed being drawn from health-tested samples through SHA-256, SP 800-90B's vetted conditioning
/// component, which needs no seed.
///
/// Each 256-bit digest is computed from enough samples to hold 320 bits of min-entropy at the pipeline's
/// min-entropy per sample: SP 800-90C's condition for a full-entropy output (h_in ≥ n_out + 64). So a seed of
/// S bits costs ⌈S/256⌉·⌈320/H⌉ samples, about 1.25·S/H, whatever the sample width, and needs no assumption
/// of independence between the bits of a sample (which von Neumann's procedure would). The digest that
/// completes the seed is usually longer than what the seed still misses: its surplus bits have full entropy
/// too and go to the output, not away. The draw takes whole blocks of the stream, so which bits become the seed
/// depends on the stream alone, not on how it was read.
struct SeedDraw: Sendable {
    /// The seed's length, n + m − 1 bits.
    let bits: Int
    /// Stream bits per digest: the samples that hold 320 bits of min-entropy, plus one sample less a bit so that
    /// a block that starts inside a sample still holds that many whole samples, rounded up to whole bytes.
    let blockBits: Int
    private(set) var seed = BitBuffer()
    /// Released bits taken so far.
    private(set) var inputBits = 0
    private var conditioner: SHA256Conditioner

    /// The min-entropy behind each digest, in bits (SP 800-90C: n_out + 64).
    static let entropyPerDigest = 320.0

    /// - Parameters:
    ///   - bits: The seed's length.
    ///   - minEntropyPerSample: The min-entropy per sample the pipeline assumes, 0 < H ≤ `bitsPerSample`.
    ///   - bitsPerSample: The sample width.
    init(bits: Int, minEntropyPerSample: Double, bitsPerSample: Int) {
        precondition(minEntropyPerSample > 0, "a seed needs samples with entropy")
        self.bits = bits
        let samples = Int((Self.entropyPerDigest / minEntropyPerSample).rounded(.up))
        let streamBits = samples * bitsPerSample + bitsPerSample - 1
        self.blockBits = (streamBits + 7) / 8 * 8
        self.conditioner = try! SHA256Conditioner(inputBits: blockBits)
        seed.reserveCapacity(bits + 256)
    }

    var isComplete: Bool { seed.count >= bits }

    /// The digest bits past the seed's length, once it is complete: full-entropy bits for the output.
    var surplus: BitBuffer { isComplete ? seed.extracting(bits..<seed.count) : BitBuffer() }

    /// The seed itself, once it is complete.
    var completedSeed: BitBuffer { seed.extracting(0..<bits) }

    /// Takes bits of `input` from `offset` on until the seed is complete or `input` ends; returns the offset of
    /// the first bit not taken. The seed completes at the end of a block, so not one bit past it is taken.
    mutating func take(from input: BitBuffer, at offset: Int) -> Int {
        var position = offset
        while !isComplete && position < input.count {
            let chunk = min(blockBits - conditioner.bufferedInputBits, input.count - position)
            conditioner.extract(input.extracting(position..<position + chunk), into: &seed)
            position += chunk
        }
        inputBits += position - offset
        return position
    }

    /// Zeroes what was drawn and starts again.
    mutating func restart() {
        seed.removeAll(keepingCapacity: true)
        conditioner.reset()
        inputBits = 0
    }
}

/// Where the Toeplitz seed came from and what drawing it cost.
public struct SeedingSummary: Sendable, Hashable, CustomStringConvertible {
    /// Whether the seed was given (`--toeplitz-seed`) rather than drawn from the source.
    public var given: Bool
    /// The seed's length, n + m − 1 bits.
    public var seedBits: Int
    /// Seeds drawn (one at start-up, then one per rotation).
    public var seedsDrawn: Int
    /// Released bits the completed draws took.
    public var inputBits: UInt64
    /// Digest bits past each seed's length, handed to the output.
    public var surplusBits: UInt64
    /// Stream bits per SHA-256 digest.
    public var blockBits: Int
    /// The sample width.
    public var bitsPerSample: Int

    /// Samples the completed draws took.
    public var samples: UInt64 { inputBits / UInt64(bitsPerSample) }

    public var description: String {
        if given { return "Toeplitz seed given (\(seedBits) bits), none drawn" }
        return "Toeplitz seed\(seedsDrawn == 1 ? "" : "s") drawn from the source: \(seedsDrawn) × \(seedBits) bits "
            + "from \(samples) samples through SHA-256 (\(blockBits)-bit blocks, 320 bits of min-entropy each), "
            + "\(surplusBits) surplus bits to the output"
    }
}

/// What the end of a recording dropped on its way through the pipeline, and why.
public struct EndOfInputSummary: Sendable, Hashable, CustomStringConvertible {
    /// What the health monitor left unreleased.
    public var health: HealthMonitor.EndOfInput
    /// Released bits in the extractor's incomplete final block (fewer than one block).
    public var partialBlockBits: Int
    /// Released bits taken by a Toeplitz seed that the input ended before completing.
    public var unfinishedSeedBits: Int

    public init(health: HealthMonitor.EndOfInput, partialBlockBits: Int, unfinishedSeedBits: Int) {
        self.health = health
        self.partialBlockBits = partialBlockBits
        self.unfinishedSeedBits = unfinishedSeedBits
    }

    public var description: String {
        var parts: [String] = []
        if health.unfinishedWindowSamples > 0 {
            parts.append("\(health.unfinishedWindowSamples) samples of the unfinished APT window")
        }
        if health.unevaluatedMonitorSamples > 0 {
            parts.append("\(health.unevaluatedMonitorSamples) samples no monitor window could evaluate")
        }
        if health.alarmedSamples > 0 { parts.append("\(health.alarmedSamples) samples of a last window that alarmed") }
        if health.unfinishedStartupSamples > 0 {
            parts.append("\(health.unfinishedStartupSamples) samples of an unfinished start-up test")
        }
        if partialBlockBits > 0 { parts.append("\(partialBlockBits) bits of the incomplete final extractor block") }
        if unfinishedSeedBits > 0 { parts.append("\(unfinishedSeedBits) bits of an unfinished Toeplitz seed") }
        return parts.isEmpty ? "nothing dropped" : "dropped " + parts.joined(separator: ", ")
    }
}
