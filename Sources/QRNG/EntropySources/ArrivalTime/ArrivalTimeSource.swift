#if canImport(Glibc)
import Glibc
#endif

/// An arrival-time QRNG (PHYSICS.md §4): k-bit samples from when photons are detected, read from a time-tag
/// stream.
///
/// Two ways to time a detection, each giving the sample ⌊Δ / w⌋ mod 2ᵏ for a bin width w:
/// - ``Mode/afterSync(syncChannel:detectors:)``: Δ is the time from the most recent sync tag to the detection
///   (a sync at the same time as the detection counts). Detections before the first sync give no sample.
/// - ``Mode/interval(detectors:)``: Δ is the time since the previous detection on any of the detector channels.
///   The first detection gives no sample.
///
/// The min-entropy per sample is either computed from an ``ArrivalTimeModel`` (the decay model goes with
/// ``Mode/afterSync(syncChannel:detectors:)``, the interval model with ``Mode/interval(detectors:)``) or claimed
/// by the caller. ``counters`` count samples, and in the after-sync mode the syncs as pulses.
public struct ArrivalTimeSource: EntropySource {
    /// What Δ is.
    public enum Mode: Sendable, Hashable {
        /// The time from the latest sync tag to each detection.
        case afterSync(syncChannel: UInt16, detectors: ChannelSet)
        /// The time between successive detections on the detector channels.
        case interval(detectors: ChannelSet)
    }

    /// Where the claimed min-entropy comes from.
    public enum MinEntropy: Sendable, Hashable {
        /// Computed from a model of the arrival times.
        case model(ArrivalTimeModel)
        /// Claimed by the caller, in bits per sample.
        case claimed(Double)
    }

    public let mode: Mode
    /// The bin width w, in picoseconds.
    public let binWidth: UInt64
    public let bitsPerSample: Int
    public let claimedMinEntropy: Double
    /// The time tags.
    public let reader: any TimeTagReader
    public var provenance: Provenance { reader.provenance }
    public private(set) var counters = SourceCounters()
    /// Detections that gave no sample: before the first sync, or the very first detection.
    public private(set) var unpairedDetections: UInt64 = 0

    private let mask: UInt64
    /// The time Δ is measured from: the latest sync, or the previous detection.
    private var reference: UInt64?
    private var tags: [TimeTag] = []
    private var tagIndex = 0
    private var ended = false
    private var lastTime: UInt64 = 0

    /// Creates an arrival-time source.
    ///
    /// - Parameters:
    ///   - reader: The time tags.
    ///   - mode: What Δ is.
    ///   - binWidth: The bin width in picoseconds, at least 1.
    ///   - bitsPerSample: k, 1 to 16.
    ///   - minEntropy: A model matching the mode, or a claim in (0, k] bits per sample.
    public init(
        reader: any TimeTagReader, mode: Mode, binWidth: UInt64, bitsPerSample: Int, minEntropy: MinEntropy
    ) throws(QRNGError) {
        guard (1...16).contains(bitsPerSample) else {
            throw .invalidArgument("bits per sample", "must be 1 to 16, got \(bitsPerSample)")
        }
        guard binWidth >= 1 else { throw .invalidArgument("bin width", "must be at least 1 ps") }
        let entropy: Double
        switch (minEntropy, mode) {
        case (.claimed(let claimed), _):
            entropy = claimed
        case (.model(let model), .afterSync):
            guard case .emissionDecay = model else {
                throw .invalidArgument("model", "the after-sync mode needs the emission-decay model")
            }
            entropy = try model.minEntropy(binWidth: Double(binWidth), bits: bitsPerSample)
        case (.model(let model), .interval):
            guard case .exponentialIntervals = model else {
                throw .invalidArgument("model", "the interval mode needs the exponential-interval model")
            }
            entropy = try model.minEntropy(binWidth: Double(binWidth), bits: bitsPerSample)
        }
        guard entropy > 0 && entropy <= Double(bitsPerSample) else {
            throw .invalidArgument(
                "min-entropy", "must be in (0, \(bitsPerSample)] bits per sample, got \(entropy)")
        }
        self.reader = reader
        self.mode = mode
        self.binWidth = binWidth
        self.bitsPerSample = bitsPerSample
        self.claimedMinEntropy = entropy
        self.mask = (1 << UInt64(bitsPerSample)) - 1
    }

    public mutating func read(approximately count: Int, into buffer: inout SampleBuffer) throws(QRNGError) -> Bool {
        precondition(buffer.bitsPerSample == bitsPerSample, "the buffer's sample width differs from the source's")
        var values: [UInt16] = []
        values.reserveCapacity(max(count, 1))
        while values.count < max(count, 1) {
            if tagIndex == tags.count {
                if ended { break }
                tagIndex = 0
                do {
                    ended = try !reader.read(into: &tags, maximumCount: 8192)
                } catch {
                    // Samples made before the reader failed are delivered; the reader throws again next time.
                    if values.isEmpty { throw error }
                    break
                }
                continue
            }
            let tag = tags[tagIndex]
            tagIndex += 1
            // qrng's readers never go back in time; a reader from elsewhere might, and Δ must not underflow.
            guard tag.picoseconds >= lastTime else {
                throw QRNGError(
                    .invalidInput, "timestamp \(tag.picoseconds) ps goes backwards (previous \(lastTime) ps)",
                    context: .init(file: reader.path, field: "timestamp"))
            }
            lastTime = tag.picoseconds
            switch mode {
            case .afterSync(let sync, let detectors):
                if tag.channel == sync {
                    reference = tag.picoseconds
                    counters.pulses += 1
                } else if detectors.contains(tag.channel) {
                    guard let reference else {
                        unpairedDetections += 1
                        continue
                    }
                    values.append(UInt16(truncatingIfNeeded: ((tag.picoseconds - reference) / binWidth) & mask))
                }
            case .interval(let detectors):
                guard detectors.contains(tag.channel) else { continue }
                if let reference {
                    values.append(UInt16(truncatingIfNeeded: ((tag.picoseconds - reference) / binWidth) & mask))
                } else {
                    unpairedDetections += 1
                }
                reference = tag.picoseconds
            }
        }
        guard !values.isEmpty else { return false }
        counters.samples += UInt64(values.count)
        counters.skipped = reader.skipped
        if bitsPerSample == 1 {
            var bits: BitBuffer
            if case .binary(let existing) = buffer.storage { bits = existing } else { bits = BitBuffer() }
            buffer = SampleBuffer(bitsPerSample: 1)  // drop the reference so appending does not copy
            for value in values { bits.append(value == 1) }
            buffer = SampleBuffer(bits: bits)
        } else if buffer.isEmpty {
            buffer = SampleBuffer(values: values, bitsPerSample: bitsPerSample)
        } else {
            for value in values { buffer.append(value) }
        }
        return true
    }
}
