/// A source built outside the library, such as QRNGServer's feed of a remote qrng node, for a
/// ``PipelineConfiguration``: the source itself, its name, and what its min-entropy claim rests on.
///
/// Two external sources are equal when their names are.
public struct ExternalSource: Sendable, Hashable {
    /// What it is, for logs and the fingerprint, e.g. `remote https://node-a:8443`.
    public let name: String
    /// The source, ready to read.
    public let source: any EntropySource
    /// Why ``EntropySource/claimedMinEntropy`` holds, for the summary: e.g. the remote node's extracted output.
    public let minEntropyOrigin: String

    public init(name: String, source: any EntropySource, minEntropyOrigin: String) {
        self.name = name
        self.source = source
        self.minEntropyOrigin = minEntropyOrigin
    }

    public static func == (lhs: ExternalSource, rhs: ExternalSource) -> Bool { lhs.name == rhs.name }
    public func hash(into hasher: inout Hasher) { hasher.combine(name) }
}
