#if canImport(Glibc)
import Glibc
#endif

/// SHA-256 as SP 800-90B's vetted conditioning component (§3.1.5.1.1): each block of ``inputBits`` raw bits,
/// packed MSB-first into bytes, becomes its 256-bit digest.
///
/// The entropy the output may be credited with is ``outputEntropy(inputBits:inputEntropy:outputBits:narrowestWidth:)``, §3.1.5.1.2's
/// formula: a digest cannot hold more entropy than went in, nor more than its 256 bits, and comes within a
/// small margin of 256 bits only when the input carries well over 256 bits of min-entropy.
public struct SHA256Conditioner: Extractor {
    /// n_in, the input block length in bits (a whole number of bytes).
    public let inputBits: Int
    /// n_out, the output length per block: 256 bits.
    public let outputBits = 256

    private var pending: BitBuffer

    /// Creates a conditioner for blocks of `inputBits` bits, a positive multiple of 8.
    public init(inputBits: Int) throws(QRNGError) {
        guard inputBits > 0 && inputBits % 8 == 0 else {
            throw .invalidArgument("block bits", "a SHA-256 block is a positive number of whole bytes, got \(inputBits) bits")
        }
        self.inputBits = inputBits
        self.pending = BitBuffer(minimumCapacity: inputBits)
    }

    public var name: String { "sha256(\(inputBits)→256)" }

    public mutating func extract(_ input: BitBuffer, into output: inout BitBuffer) {
        var digest = SHA256()  // one context per call, restarted for each block
        var position = 0
        if !pending.isEmpty {
            let needed = min(inputBits - pending.count, input.count)
            pending.append(contentsOf: input, range: 0..<needed)
            position = needed
            guard pending.count == inputBits else { return }
            condition(pending, at: 0, with: &digest, into: &output)
            pending.removeAll(keepingCapacity: true)
        }
        while input.count - position >= inputBits {
            condition(input, at: position, with: &digest, into: &output)
            position += inputBits
        }
        if position < input.count { pending.append(contentsOf: input, range: position..<input.count) }
    }

    public var bufferedInputBits: Int { pending.count }

    public mutating func reset() {
        pending.removeAll(keepingCapacity: true)
    }

    /// Hashes the block at `offset`: its bytes are assembled a word at a time, big-endian, in a small stack
    /// buffer, so no block is copied into a new array, and the digest goes to `output` in one append.
    private func condition(_ source: BitBuffer, at offset: Int, with digest: inout SHA256, into output: inout BitBuffer) {
        let chunkWords = 128  // 1 KiB: the most withUnsafeTemporaryAllocation keeps on the stack without asking
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: chunkWords) { chunk in
            source.words.withUnsafeBufferPointer { words in
                var position = offset
                let end = offset + inputBits
                while position < end {
                    let bits = min(end - position, 64 * chunkWords)
                    let count = (bits + 63) / 64
                    if position % 64 == 0 {
                        let first = words.baseAddress! + position / 64
                        for index in 0..<count { chunk[index] = first[index].bigEndian }
                    } else {
                        for index in 0..<count {
                            chunk[index] = source.word(atBit: position + 64 * index, width: min(64, bits - 64 * index))
                                .bigEndian
                        }
                    }
                    digest.update(UnsafeRawBufferPointer(start: chunk.baseAddress, count: bits / 8))
                    position += bits
                }
            }
            let digestWords = UnsafeMutableBufferPointer(rebasing: chunk[0..<4])
            digest.finalizeAndRestart(into: UnsafeMutableRawBufferPointer(digestWords))
            for index in 0..<4 { digestWords[index] = UInt64(bigEndian: digestWords[index]) }
            output.append(words: UnsafeBufferPointer(digestWords), range: 0..<256)
            secureZero(UnsafeMutableRawBufferPointer(digestWords))
        }
    }

    /// SP 800-90B §3.1.5.1.2: the min-entropy of a vetted conditioning component's output, in bits.
    ///
    /// With P_high = 2^−h_in, P_low = (1 − P_high)/(2^n_in − 1), n = min(n_out, nw),
    /// ψ = 2^(n_in − n)·P_low + P_high, U = 2^(n_in − n) + √(2n·2^(n_in − n)·ln 2) and ω = U·P_low, the output
    /// entropy is −log2(max(ψ, ω)). For SHA-256, n_out = nw = 256. The powers of two are carried as logarithms:
    /// n_in is routinely far past the range of `Double`.
    ///
    /// - Parameters:
    ///   - inputBits: n_in, the input length.
    ///   - inputEntropy: h_in, the min-entropy of the input, 0 ≤ h_in ≤ n_in.
    ///   - outputBits: n_out; 256 for SHA-256.
    ///   - narrowestWidth: nw, the narrowest internal width; 256 for SHA-256.
    public static func outputEntropy(
        inputBits: Int, inputEntropy: Double, outputBits: Int = 256, narrowestWidth: Int = 256
    ) -> Double {
        precondition(inputBits > 0 && inputEntropy >= 0 && inputEntropy <= Double(inputBits), "need 0 ≤ h_in ≤ n_in")
        let n = Double(min(outputBits, narrowestWidth))
        let nIn = Double(inputBits)
        // log2 P_high and log2 P_low; 2^n_in − 1 = 2^n_in·(1 − 2^−n_in).
        let log2High = -inputEntropy
        let log2Low = log2(-expm1(-inputEntropy * M_LN2)) - nIn - log2(-expm1(-nIn * M_LN2))
        let log2Psi = log2AddExp(nIn - n + log2Low, log2High)
        // log2 U = log2(2^(n_in − n) + √(2n·ln2)·2^((n_in − n)/2))
        let log2U = log2AddExp(nIn - n, 0.5 * log2(2 * n * M_LN2) + (nIn - n) / 2)
        let log2Omega = log2U + log2Low
        return -max(log2Psi, log2Omega)
    }
}

/// log2(2ˣ + 2ʸ) without overflow.
func log2AddExp(_ x: Double, _ y: Double) -> Double {
    if x == -.infinity { return y }
    if y == -.infinity { return x }
    return max(x, y) + log2(1 + exp2(-abs(x - y)))
}
