/// Where random data came from: a physical device, a recorded file, or a simulation.
///
/// Provenance travels with the data through every stage. The pool keeps it, the command-line tool prints it,
/// and anything that hands out randomness can refuse data whose provenance is ``Kind/simulated``: a simulation is
/// only as unpredictable as the pseudo-random generator that drives it, never quantum randomness.
public struct Provenance: Sendable, Hashable, CustomStringConvertible {
    /// The kind of origin.
    public enum Kind: String, Sendable, Hashable {
        /// A live device such as a time tagger or a detector board.
        case device
        /// A recording read back from a file or pipe.
        case file
        /// A physics model driven by a pseudo-random generator: not quantum randomness.
        case simulated
    }

    /// The kind of origin.
    public var kind: Kind
    /// A human-readable description: the device, the file path, the simulated model and its seed.
    public var detail: String

    /// Creates a provenance.
    public init(kind: Kind, detail: String) {
        self.kind = kind
        self.detail = detail
    }

    /// Whether the data is simulated, that is, pseudo-random.
    public var isSimulated: Bool { kind == .simulated }

    /// The kind and the detail, with simulated data marked SIMULATED and "not quantum".
    public var description: String {
        switch kind {
        case .simulated: "SIMULATED (pseudo-random, not quantum): \(detail)"
        case .file: "file: \(detail)"
        case .device: "device: \(detail)"
        }
    }
}
