/// Peres' iterated von Neumann extractor (Y. Peres, "Iterating von Neumann's procedure for extracting random
/// bits", Annals of Statistics 20(1), 1992).
///
/// On a block x of bit pairs, Ψ(x) = VN(x) ‖ Ψ(u) ‖ Ψ(v): VN(x) is von Neumann's output, u holds the XOR of
/// every pair and v the common value of every equal pair. u and v are discarded by von Neumann's procedure yet
/// still carry entropy, and for independent bits with a constant bias the whole output is unbiased and
/// independent. With depth d the recursion stops after d levels (depth 1 is plain von Neumann); as d and the
/// block grow, the output rate approaches the Shannon entropy h(p) per input bit, against p(1 − p) for von
/// Neumann (0.971 against 0.24 at p = 0.6).
///
/// The procedure is defined on a finite sequence, so input is cut into blocks of ``blockBits`` bits; a partial
/// block waits for more input.
public struct PeresExtractor: Extractor {
    /// The block length in bits.
    public let blockBits: Int
    /// The recursion depth; 1 is von Neumann.
    public let depth: Int

    private var pending = BitBuffer()
    /// Two reusable buffers (u and v) per recursion level.
    private var scratch: [BitBuffer]
    /// Whether to use the CPU's PEXT; tests turn it off to compare with the portable path.
    var usesHardwareCompress = BitCompress.hardwareAvailable

    /// Creates a Peres extractor.
    ///
    /// - Parameters:
    ///   - blockBits: The block length, an even number of at least 2 bits; 2²⁰ by default.
    ///   - depth: The recursion depth, 1 to 64; 20 by default.
    ///
    /// The rate is lost at the ends of the recursion: odd and very short sequences, and what lies below the
    /// depth. At p = 0.6 it is 0.933 bits per input bit with 2¹⁶-bit blocks, 0.946 with 2¹⁸ and 0.955 (98.3 % of
    /// h(0.6)) with 2²⁰; depths past about 20 add nothing at these block lengths.
    public init(blockBits: Int = 1 << 20, depth: Int = 20) throws(QRNGError) {
        guard blockBits >= 2 && blockBits % 2 == 0 else {
            throw .invalidArgument("block bits", "a Peres block is an even number of at least 2 bits, got \(blockBits)")
        }
        guard (1...64).contains(depth) else {
            throw .invalidArgument("depth", "the Peres recursion depth must be 1 to 64, got \(depth)")
        }
        self.blockBits = blockBits
        self.depth = depth
        self.scratch = Array(repeating: BitBuffer(), count: 2 * depth)
    }

    public var name: String { "peres(depth \(depth), \(blockBits)-bit blocks)" }

    public mutating func extract(_ input: BitBuffer, into output: inout BitBuffer) {
        var writer = BitWriter()
        var position = 0
        if !pending.isEmpty {
            let needed = min(blockBits - pending.count, input.count)
            pending.append(contentsOf: input, range: 0..<needed)
            position = needed
            guard pending.count == blockBits else { return }
            Self.iterate(pending, depth: depth, level: 0, hardware: usesHardwareCompress, scratch: &scratch, writer: &writer, output: &output)
            pending.removeAll(keepingCapacity: true)
        }
        while input.count - position >= blockBits {
            let block = position == 0 && input.count == blockBits ? input : input.extracting(position..<position + blockBits)
            Self.iterate(block, depth: depth, level: 0, hardware: usesHardwareCompress, scratch: &scratch, writer: &writer, output: &output)
            position += blockBits
        }
        writer.flush(to: &output)
        if position < input.count { pending.append(contentsOf: input, range: position..<input.count) }
    }

    public var bufferedInputBits: Int { pending.count }

    public mutating func reset() {
        pending.removeAll(keepingCapacity: true)
    }

    /// Ψ of one whole sequence (its last bit is ignored when the length is odd).
    public static func extract(_ bits: BitBuffer, depth: Int) -> BitBuffer {
        extract(bits, depth: depth, hardware: BitCompress.hardwareAvailable)
    }

    static func extract(_ bits: BitBuffer, depth: Int, hardware: Bool) -> BitBuffer {
        precondition(depth >= 1, "the depth is at least 1")
        var output = BitBuffer()
        var writer = BitWriter()
        var scratch = Array(repeating: BitBuffer(), count: 2 * depth)
        iterate(bits, depth: depth, level: 0, hardware: hardware, scratch: &scratch, writer: &writer, output: &output)
        writer.flush(to: &output)
        return output
    }

    /// Writes Ψ_depth(x) in order: von Neumann's bits of x, then Ψ_(depth−1)(u), then Ψ_(depth−1)(v).
    ///
    /// Most nodes of the recursion are short (at p = 0.6 a 2²⁰-bit block makes some 36,000 nodes, 34,000 of
    /// them under 64 bits), so a sequence that fits in a word goes to ``iterate(word:count:depth:hardware:writer:output:)``,
    /// which works in registers.
    private static func iterate(
        _ x: BitBuffer, depth: Int, level: Int, hardware: Bool, scratch: inout [BitBuffer],
        writer: inout BitWriter, output: inout BitBuffer
    ) {
        let pairs = x.count / 2
        guard pairs > 0 else { return }
        if x.count <= 64 {
            iterate(word: x.word(atBit: 0, width: 2 * pairs) >> UInt64(64 - 2 * pairs), count: 2 * pairs,
                    depth: depth, hardware: hardware, writer: &writer, output: &output)
            return
        }
        if depth == 1 {
            PairSplit.forEachRun(of: x, from: 0, pairs: pairs) { run, count in
                let (bits, kept) = PairSplit.vonNeumann(run, pairs: count, hardware: hardware)
                writer.write(bits, count: kept, to: &output)
            }
            return
        }
        // Take this level's buffers out of the array so that filling them never copies.
        var u = BitBuffer()
        var v = BitBuffer()
        swap(&u, &scratch[2 * level])
        swap(&v, &scratch[2 * level + 1])
        u.removeAll(keepingCapacity: true)
        v.removeAll(keepingCapacity: true)
        var uWriter = BitWriter()
        var vWriter = BitWriter()
        PairSplit.forEachRun(of: x, from: 0, pairs: pairs) { run, count in
            let split = PairSplit(run, pairs: count, hardware: hardware)
            writer.write(split.unequalFirstBits, count: split.unequalCount, to: &output)
            uWriter.write(split.xorBits, count: count, to: &u)
            vWriter.write(split.equalBits, count: split.equalCount, to: &v)
        }
        uWriter.flush(to: &u)
        vWriter.flush(to: &v)
        iterate(u, depth: depth - 1, level: level + 1, hardware: hardware, scratch: &scratch, writer: &writer, output: &output)
        iterate(v, depth: depth - 1, level: level + 1, hardware: hardware, scratch: &scratch, writer: &writer, output: &output)
        swap(&u, &scratch[2 * level])
        swap(&v, &scratch[2 * level + 1])
    }

    /// Ψ_depth of the `count` (≤ 64) bits right-aligned in `word`.
    private static func iterate(
        word: UInt64, count: Int, depth: Int, hardware: Bool, writer: inout BitWriter, output: inout BitBuffer
    ) {
        let pairs = count / 2
        guard pairs > 0 && depth > 0 else { return }
        let run = count % 2 == 0 ? word : word >> 1  // an odd last bit is dropped
        let split = PairSplit(run, pairs: pairs, hardware: hardware)
        writer.write(split.unequalFirstBits, count: split.unequalCount, to: &output)
        guard depth > 1 else { return }
        iterate(word: split.xorBits, count: pairs, depth: depth - 1, hardware: hardware, writer: &writer, output: &output)
        iterate(word: split.equalBits, count: split.equalCount, depth: depth - 1, hardware: hardware, writer: &writer,
                output: &output)
    }
}
