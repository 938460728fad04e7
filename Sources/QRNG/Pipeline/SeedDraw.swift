/// A Toeplitz seed being drawn from health-tested bits through a von Neumann extractor, which needs no seed.
///
/// It takes released bits until the seed is complete and not one bit more, so the bits after the seed go to the
/// extractor it seeds: nothing is drawn and thrown away, and which bits become the seed depends on the stream
/// alone, not on how it was read.
struct SeedDraw: Sendable {
    /// The seed's length, n + m − 1 bits.
    let bits: Int
    private(set) var seed = BitBuffer()
    /// Released bits taken so far.
    private(set) var inputBits = 0
    private var extractor = VonNeumannExtractor()

    init(bits: Int) {
        self.bits = bits
        seed.reserveCapacity(bits)
    }

    var isComplete: Bool { seed.count == bits }

    /// Takes bits of `input` from `offset` on until the seed is complete or `input` ends; returns the offset of
    /// the first bit not taken.
    mutating func take(from input: BitBuffer, at offset: Int) -> Int {
        var position = offset
        while seed.count < bits && position < input.count {
            // Never more pairs than seed bits still missing (a pending first bit counts), so the seed completes
            // exactly at the end of a chunk.
            let missing = bits - seed.count
            let chunk = min(2 * missing - extractor.bufferedInputBits, input.count - position)
            extractor.extract(input.extracting(position..<position + chunk), into: &seed)
            position += chunk
        }
        inputBits += position - offset
        return position
    }

    /// Zeroes what was drawn and starts again.
    mutating func restart() {
        seed.removeAll(keepingCapacity: true)
        extractor.reset()
        inputBits = 0
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
        if partialBlockBits > 0 { parts.append("\(partialBlockBits) bits of the incomplete final extractor block") }
        if unfinishedSeedBits > 0 { parts.append("\(unfinishedSeedBits) bits of an unfinished Toeplitz seed") }
        return parts.isEmpty ? "nothing dropped" : "dropped " + parts.joined(separator: ", ")
    }
}
