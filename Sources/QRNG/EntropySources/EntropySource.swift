/// A source of raw samples: the first stage of the pipeline.
///
/// A source hands out samples a buffer at a time, with the metadata the later stages need: the sample width, the
/// min-entropy per sample it claims (from its physical model or its configuration), its ``Provenance``, and the
/// photon-counting events behind the samples, which the photon monitors watch.
public protocol EntropySource: Sendable {
    /// Where the samples come from.
    var provenance: Provenance { get }
    /// The width of each sample, 1 to 16 bits.
    var bitsPerSample: Int { get }
    /// The min-entropy per sample, in bits, that the source's model or configuration claims.
    var claimedMinEntropy: Double { get }
    /// The events counted so far.
    var counters: SourceCounters { get }

    /// Appends the next samples to `buffer`, about `count` of them (a source may return fewer or more).
    ///
    /// - Returns: `false` when the source has ended and appended nothing.
    mutating func read(approximately count: Int, into buffer: inout SampleBuffer) throws(QRNGError) -> Bool
}

/// Photon-counting events behind a source's samples, as the health monitors need them.
public struct SourceCounters: Sendable, Hashable {
    /// Excitation pulses (clock cycles) covered.
    public var pulses: UInt64 = 0
    /// Pulses with no click.
    public var emptyPulses: UInt64 = 0
    /// Pulses where only detector D0 clicked.
    public var singleClicksD0: UInt64 = 0
    /// Pulses where only detector D1 clicked.
    public var singleClicksD1: UInt64 = 0
    /// Pulses where both detectors clicked.
    public var doubleClicks: UInt64 = 0
    /// Samples handed out.
    public var samples: UInt64 = 0
    /// Bad records a recorded source skipped under ``ErrorPolicy/skip``.
    public var skipped = SkippedRecords()

    public init() {}

    /// Pulses with at least one click.
    public var clickedPulses: UInt64 { singleClicksD0 + singleClicksD1 + doubleClicks }
}
