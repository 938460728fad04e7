/// The von Neumann extractor (1951): reads bits in pairs and outputs the first bit of each unequal pair.
///
/// Pair `10` gives 1, `01` gives 0, `00` and `11` give nothing. For independent bits with a constant bias the
/// output is exactly unbiased, at the cost of rate: p(1 − p) output bits per input bit, at most a quarter.
/// It needs no seed, which is why qrng also uses it to draw the Toeplitz seed. ``PeresExtractor`` recovers most
/// of the rate it throws away.
public struct VonNeumannExtractor: Extractor {
    /// The first bit of a pair whose second bit has not arrived yet.
    private var pendingBit: Bool?
    /// Whether to use the CPU's PEXT; tests turn it off to compare with the portable path.
    var usesHardwareCompress = BitCompress.hardwareAvailable

    public init() {}

    public var name: String { "von-neumann" }

    public mutating func extract(_ input: BitBuffer, into output: inout BitBuffer) {
        guard !input.isEmpty else { return }
        var position = 0
        if let first = pendingBit {
            if first != input[0] { output.append(first) }
            pendingBit = nil
            position = 1
        }
        let pairs = (input.count - position) / 2
        output.reserveCapacity(output.count + pairs / 2 + 64)
        var writer = BitWriter()
        let hardware = usesHardwareCompress
        PairSplit.forEachRun(of: input, from: position, pairs: pairs) { run, count in
            let (bits, kept) = PairSplit.vonNeumann(run, pairs: count, hardware: hardware)
            writer.write(bits, count: kept, to: &output)
        }
        writer.flush(to: &output)
        position += 2 * pairs
        if position < input.count { pendingBit = input[position] }
    }

    public var bufferedInputBits: Int { pendingBit == nil ? 0 : 1 }

    public mutating func reset() { pendingBit = nil }
}
