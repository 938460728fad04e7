/// The time-tag file formats qrng reads, and a way to open any of them by path.
///
/// ```swift
/// let reader = try TimeTagFormat.ptu.openReader(path: "run.ptu")
/// let clicks = try TimeTagClickSource(
///     reader: reader, rule: .pulsed(PulsedClickRule(syncChannel: 0, d0Channel: 1, d1Channel: 2, window: 12_000)))
/// var source = try BeamSplitterSource(clicks: clicks, claimedMinEntropy: 0.9)
/// ```
public enum TimeTagFormat: String, Sendable, Hashable, CaseIterable {
    /// qrng's binary format (``BinaryTimeTagHeader``).
    case binary
    /// `channel,timestamp_ps` text lines (``CSVTimeTagReader``).
    case csv
    /// PicoQuant PTU in T2 mode (``PTUReader``).
    case ptu

    /// The format a path's extension suggests: `.ptu`, `.csv` or `.txt`, and binary otherwise.
    public init(guessingFrom path: String) {
        let lowered = path.lowercased()
        if lowered.hasSuffix(".ptu") {
            self = .ptu
        } else if lowered.hasSuffix(".csv") || lowered.hasSuffix(".txt") {
            self = .csv
        } else {
            self = .binary
        }
    }

    /// Opens `path` (`nil` or `-` for standard input) with this format's reader; the header, if any, is read
    /// and checked now.
    public func openReader(path: String?, options: TimeTagReadOptions = TimeTagReadOptions()) throws(QRNGError)
        -> any TimeTagReader
    {
        switch self {
        case .binary: try BinaryTimeTagReader(path: path, options: options)
        case .csv: try CSVTimeTagReader(path: path, options: options)
        case .ptu: try PTUReader(path: path, options: options)
        }
    }
}
