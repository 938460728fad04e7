/// A randomness extractor: turns health-approved raw bits, which may be biased or correlated, into fewer bits
/// that are close to uniform.
///
/// Extractors keep the input of an incomplete block between calls. ``reset()`` drops it; the pipeline calls it
/// after a health-test failure so that no output mixes bits from before and after the failure.
public protocol Extractor: Sendable {
    /// A short name for reports, such as `toeplitz(4096→3830)`.
    var name: String { get }

    /// Consumes `input` and appends the bits it completes to `output`.
    mutating func extract(_ input: BitBuffer, into output: inout BitBuffer)

    /// Input bits held for an incomplete block, waiting for more.
    var bufferedInputBits: Int { get }

    /// Drops the input held for an incomplete block, zeroing it.
    mutating func reset()
}
