import QRNG

/// NIST SP 800-90B min-entropy assessment of raw noise-source samples.
///
/// An assessment runs the estimators of SP 800-90B on a sequence of samples and returns the min-entropy per sample
/// that an entropy source may claim, as NIST's reference tool (`ea_non_iid`, `ea_iid`) reports it:
///
/// - ``nonIID(samples:bitsPerSample:options:)`` runs the ten estimators of §6.3 on the samples (H_original) and,
///   for samples wider than one bit, on their bit string (H_bitstring, §3.1.3), and returns
///   min(H_original, k × H_bitstring, k) for k-bit samples.
/// - ``iid(samples:bitsPerSample:options:seed:)`` runs the tests of §5 that decide whether the samples may be
///   treated as IID (the chi-square tests, the length of the longest repeated substring, and the permutation tests),
///   and the Most Common Value estimate that §6.1 then uses.
/// - ``restartTests(matrix:bitsPerSample:initialEntropy:track:seed:)`` runs the restart tests of §3.1.4 on a
///   restart matrix.
///
/// To set the extractor's h from an assessment instead of a claimed value, use the report's
/// ``Report/minEntropyPerBit`` (the assessed min-entropy per bit of sample data) and keep ``Report/json`` as the
/// record of how it was obtained; ``nonIID(_:options:)`` takes a ``SampleBuffer`` straight from an entropy source.
///
/// Samples are 1 to 16 bits wide (the reference tool stops at 8; wider samples use the same definitions). Results
/// agree with the reference tool version 1.1.x; each estimator's documentation says where that tool departs from
/// the letter of the 2018 standard and qrng follows the tool, which is what assessors run.
///
/// ```swift
/// let report = try MinEntropyAssessment.nonIID(samples: bytes.map(UInt16.init), bitsPerSample: 8)
/// print(report.minEntropy)  // bits per sample
/// ```
public enum MinEntropyAssessment {
    /// Which estimate is being computed (the reference tool's `-i` and `-c`).
    public enum Mode: String, Sendable, Hashable {
        /// The initial entropy estimate of §3.1.3 (the default): H_I = min(H_original, k × H_bitstring).
        case initial
        /// The entropy of a conditioned sequential dataset, §3.1.5.2: only the bit string is assessed and the
        /// result is h' = H_bitstring per bit (the report's ``Report/minEntropy`` is then k × h' per sample).
        case conditioned
    }

    /// Options for an assessment.
    public struct Options: Sendable, Hashable {
        /// Initial or conditioned estimate.
        public var mode: Mode
        /// Whether to assess only the first 1,000,000 bits of the bit string (the tool's `-t`); all bits by default.
        public var truncateBitString: Bool
        /// The most shuffles the permutation tests make: the standard's 10,000 (lowered only by qrng's own tests).
        var permutationShuffles = PermutationTests.maximumShuffles

        /// Options with the reference tool's defaults: the initial estimate over all bits.
        public init(mode: Mode = .initial, truncateBitString: Bool = false) {
            self.mode = mode
            self.truncateBitString = truncateBitString
        }
    }

    /// The outcome of an assessment.
    public struct Report: Sendable, Hashable {
        /// Which track produced it.
        public enum Track: String, Sendable, Hashable {
            /// The ten estimators of §6.3.
            case nonIID = "non-iid"
            /// The §5 tests and the Most Common Value estimate.
            case iid
        }

        /// The track that produced the report.
        public let track: Track
        /// Initial or conditioned estimate.
        public let mode: Mode
        /// The number of samples.
        public let sampleCount: Int
        /// The declared width of each sample.
        public let bitsPerSample: Int
        /// The number of distinct sample values.
        public let alphabetSize: Int
        /// The estimates on the samples, in §6.3 order; empty when the original samples were not assessed.
        public let originalEstimates: [Estimate]
        /// The estimates on the bit string (per bit); empty for binary samples in the initial mode.
        public let bitStringEstimates: [Estimate]
        /// The number of bits assessed for H_bitstring.
        public let bitStringLength: Int
        /// The minimum of the original estimates, per sample (nil when not assessed).
        public let hOriginal: Double?
        /// The minimum of the bit-string estimates, per bit (nil when not assessed).
        public let hBitString: Double?
        /// The assessed min-entropy per sample: min(k, H_original, k × H_bitstring).
        public let minEntropy: Double
        /// The §5 IID test results (the IID track only).
        public let iidTests: IIDTestResults?

        /// The assessed min-entropy per bit of sample data, `minEntropy / bitsPerSample`: the h of the leftover
        /// hash lemma when the samples' bits are fed to an extractor.
        public var minEntropyPerBit: Double { minEntropy / Double(bitsPerSample) }
    }

    /// Runs the non-IID track of SP 800-90B (§6.3, with the bit-string assessment of §3.1.3).
    ///
    /// - Parameters:
    ///   - samples: The raw samples, one per element, each less than 2^`bitsPerSample`.
    ///   - bitsPerSample: The sample width k, 1 to 16.
    ///   - options: Initial or conditioned assessment, and whether to truncate the bit string.
    /// - Throws: ``QRNGError`` (`invalidArgument` for a bad width, `invalidInput` for a sample that does not fit, too
    ///   few samples, or samples that are all the same value, which the tool also refuses: no entropy is awarded).
    public static func nonIID(samples: [UInt16], bitsPerSample: Int, options: Options = Options()) throws -> Report {
        let input = try prepared(samples: samples, bitsPerSample: bitsPerSample)
        let k = input.alphabetSize
        let assessOriginal = options.mode == .initial
        let assessBits = k > 2 || options.mode == .conditioned

        var original: [Estimate] = []
        if assessOriginal {
            original = input.symbols.withUnsafeBufferPointer { symbols in
                if k == 2 {
                    // Two distinct values: the binary estimators run on the translated samples, as in the tool.
                    let bits = symbols.map { UInt8(truncatingIfNeeded: $0) }
                    return bits.withUnsafeBufferPointer { allEstimates($0, alphabetSize: 2) }
                }
                return allEstimates(symbols, alphabetSize: k)
            }
        }
        var bitEstimates: [Estimate] = []
        var bitLength = 0
        if assessBits {
            var bits = input.bitString()
            if options.truncateBitString && bits.count > 1_000_000 { bits.removeLast(bits.count - 1_000_000) }
            bitLength = bits.count
            bitEstimates = bits.withUnsafeBufferPointer { allEstimates($0, alphabetSize: 2) }
        }
        return report(
            track: .nonIID, mode: options.mode, input: input, original: original, bits: bitEstimates,
            bitLength: bitLength, iid: nil)
    }

    static func prepared(samples: [UInt16], bitsPerSample: Int) throws -> AssessmentInput {
        let input = try AssessmentInput(samples: samples, bitsPerSample: bitsPerSample)
        guard input.alphabetSize > 1 else {
            throw QRNGError(.invalidInput, "every sample has the same value: no entropy is awarded (SP 800-90B)")
        }
        return input
    }

    /// The ten estimators on one sequence; the binary-only ones only when `k == 2`.
    static func allEstimates<Symbol: FixedWidthInteger & UnsignedInteger>(
        _ s: UnsafeBufferPointer<Symbol>, alphabetSize k: Int
    ) -> [Estimate] {
        var estimates = [mostCommonValueEstimate(s, alphabetSize: k)]
        if k == 2 {
            let bits = UnsafeRawBufferPointer(s).bindMemory(to: UInt8.self)
            if Symbol.self == UInt8.self {
                estimates.append(collisionEstimate(bits))
                estimates.append(markovEstimate(bits))
                estimates.append(compressionEstimate(bits))
            } else {
                let copy = s.map { UInt8(truncatingIfNeeded: $0) }
                copy.withUnsafeBufferPointer {
                    estimates.append(collisionEstimate($0))
                    estimates.append(markovEstimate($0))
                    estimates.append(compressionEstimate($0))
                }
            }
        }
        let tuples = tupleEstimates(s, alphabetSize: k)
        estimates.append(tuples.tTuple)
        estimates.append(tuples.lrs)
        estimates.append(multiMCWEstimate(s, alphabetSize: k))
        estimates.append(lagEstimate(s, alphabetSize: k))
        if k == 2 && s.count > 17 {
            let tallies = binaryContextPredictorTallies(s)
            estimates.append(predictionEstimate(.multiMMC, tallies.multiMMC, alphabetSize: 2))
            estimates.append(predictionEstimate(.lz78y, tallies.lz78y, alphabetSize: 2))
        } else {
            estimates.append(multiMMCEstimate(s, alphabetSize: k))
            estimates.append(lz78yEstimate(s, alphabetSize: k))
        }
        return estimates
    }

    static func report(
        track: Report.Track, mode: Mode, input: AssessmentInput, original: [Estimate], bits: [Estimate],
        bitLength: Int, iid: IIDTestResults?
    ) -> Report {
        let width = Double(input.bitsPerSample)
        let hOriginal = original.isEmpty ? nil : original.compactMap(\.minEntropy).reduce(width) { min($0, $1) }
        let hBits = bits.isEmpty ? nil : bits.compactMap(\.minEntropy).reduce(1.0) { min($0, $1) }
        var assessed = width
        if let hBits { assessed = min(assessed, hBits * width) }
        if let hOriginal { assessed = min(assessed, hOriginal) }
        return Report(
            track: track, mode: mode, sampleCount: input.raw.count, bitsPerSample: input.bitsPerSample,
            alphabetSize: input.alphabetSize, originalEstimates: original, bitStringEstimates: bits,
            bitStringLength: bitLength, hOriginal: hOriginal, hBitString: hBits, minEntropy: assessed, iidTests: iid)
    }
}

extension MinEntropyAssessment {
    /// Runs the non-IID track on samples as the entropy sources deliver them; for wiring an assessment into the
    /// pipeline (the report's ``Report/minEntropyPerBit`` is the h of the leftover hash lemma).
    public static func nonIID(_ samples: SampleBuffer, options: Options = Options()) throws -> Report {
        try nonIID(samples: samples.values, bitsPerSample: samples.bitsPerSample, options: options)
    }

    /// Runs the IID track on samples as the entropy sources deliver them.
    public static func iid(
        _ samples: SampleBuffer, options: Options = Options(), seed: UInt64? = nil
    ) throws -> Report {
        try iid(samples: samples.values, bitsPerSample: samples.bitsPerSample, options: options, seed: seed)
    }
}

extension SampleBuffer {
    /// The samples, one per element.
    fileprivate var values: [UInt16] {
        switch storage {
        case .binary(let bits): (0..<bits.count).map { bits[$0] ? 1 : 0 }
        case .wide(let values): values
        }
    }
}

extension PipelineConfiguration.Assessment {
    /// SP 800-90B's non-IID track over the source's first `samples` samples, which are then discarded: the
    /// pipeline's min-entropy per sample becomes the assessment's (capped at the sample width).
    public static func nonIID(samples: Int) -> PipelineConfiguration.Assessment {
        PipelineConfiguration.Assessment(samples: samples, name: "SP 800-90B non-IID") { values, bitsPerSample throws(QRNGError) in
            do {
                return try MinEntropyAssessment.nonIID(samples: values, bitsPerSample: bitsPerSample).minEntropy
            } catch let error as QRNGError {
                throw error
            } catch {
                throw QRNGError(.invalidInput, "the assessment failed: \(error)")
            }
        }
    }
}
