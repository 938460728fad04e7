import QRNG

/// Samples made ready for the estimators: the translated symbols and the bit string.
///
/// SP 800-90B §3.1.3 assesses non-binary samples twice, as they are (H_original) and as the string of their bits
/// (H_bitstring). The reference tool first maps the observed values onto 0 ..< k in increasing order (it calls this
/// translation), and runs the "Literal" estimators on the translated symbols with k = the number of distinct values,
/// not 2^bits. Translation keeps order, so it changes no count; it matters where k enters a formula (the 1/k floor
/// of the predictors) and for the binary-only estimators, which the tool runs on the original samples whenever only
/// two distinct values occur. The bit string is built from the untranslated samples, `bitsPerSample` bits each,
/// most significant first, as the tool does.
struct AssessmentInput {
    /// The samples mapped to 0 ..< alphabetSize, keeping order.
    let symbols: [UInt16]
    /// The number of distinct sample values.
    let alphabetSize: Int
    /// The width of each sample in bits.
    let bitsPerSample: Int
    /// The raw (untranslated) samples.
    let raw: [UInt16]

    init(samples: [UInt16], bitsPerSample: Int) throws {
        guard (1...16).contains(bitsPerSample) else {
            throw QRNGError.invalidArgument("bitsPerSample", "samples are 1 to 16 bits wide, got \(bitsPerSample)")
        }
        guard samples.count >= 2 else {
            throw QRNGError(.invalidInput, "at least 2 samples are needed, got \(samples.count)")
        }
        let limit = 1 << bitsPerSample
        var present = [Bool](repeating: false, count: limit)
        for (index, sample) in samples.enumerated() {
            guard Int(sample) < limit else {
                throw QRNGError(
                    .invalidInput, "sample \(sample) does not fit in \(bitsPerSample) bits",
                    context: .init(field: "bitsPerSample", sampleOffset: UInt64(index)))
            }
            present[Int(sample)] = true
        }
        var map = [UInt16](repeating: 0, count: limit)
        var next = 0
        for value in 0..<limit where present[value] {
            map[value] = UInt16(next)
            next += 1
        }
        self.alphabetSize = next
        self.bitsPerSample = bitsPerSample
        self.raw = samples
        self.symbols = next == limit ? samples : samples.map { map[Int($0)] }
    }

    /// The samples' bits, one per byte, `bitsPerSample` per sample, most significant first.
    func bitString() -> [UInt8] {
        let width = bitsPerSample
        if width == 1 { return raw.map { UInt8($0) } }
        return [UInt8](unsafeUninitializedCapacity: raw.count * width) { bits, initialized in
            var index = 0
            for sample in raw {
                var shift = width - 1
                while shift >= 0 {
                    bits[index] = UInt8(truncatingIfNeeded: sample >> UInt16(shift)) & 1
                    index += 1
                    shift -= 1
                }
            }
            initialized = index
        }
    }
}
