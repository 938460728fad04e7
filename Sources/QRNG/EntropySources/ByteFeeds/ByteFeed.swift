/// A stream of bytes from outside the library that the pipeline treats as a source: the output of another qrng
/// node fetched over the network (QRNGServer's `RemoteFeed`), or several of them combined (``XORCombinedFeed``).
///
/// A feed's bytes are whatever its origin sends; the pipeline health-tests them as 8-bit samples like any
/// source's. Reads block until bytes arrive, so a feed whose origin is unreachable stops the pipeline's output
/// rather than let anything weaker take its place.
public protocol ByteFeed: AnyObject, Sendable {
    /// The origin, for logs and errors, e.g. `https://node-a:8443`.
    var name: String { get }
    /// Where the bytes come from, as far as the feed knows: a feed of a simulated node is ``Provenance/Kind/simulated``.
    var provenance: Provenance { get }
    /// Fills the start of `buffer` with the next bytes, waiting for at least one.
    ///
    /// - Returns: How many bytes were written; 0 once the feed has ended (it was stopped).
    /// - Throws: When the feed cannot go on, e.g. its origin changed what it is.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(QRNGError) -> Int
    /// Why the feed is not flowing now (its origin unreachable, say), or `nil` while it flows.
    var problem: String? { get }
    /// Ends the feed: readers waiting are woken and see its end.
    func stop()
}

extension ByteFeed {
    public var problem: String? { nil }
    public func stop() {}
}

/// A ``ByteFeed`` as an ``EntropySource`` of 8-bit samples, one per byte.
///
/// Eight-bit samples let the Repetition Count Test catch a feed stuck on any one byte value after a few repeats,
/// which tests of single bits cannot do for a constant like 0x5A. The claimed min-entropy is the feed's own
/// claim per byte (8 for the extracted output of another node); a pipeline may claim less.
public struct ByteFeedSource: EntropySource {
    public let feed: any ByteFeed
    public let claimedMinEntropy: Double
    public var provenance: Provenance { feed.provenance }
    public var bitsPerSample: Int { 8 }
    public private(set) var counters = SourceCounters()
    private var scratch: [UInt8] = []

    /// A source of `feed`'s bytes, claiming `claimedMinEntropy` bits per byte.
    public init(feed: any ByteFeed, claimedMinEntropy: Double = 8) {
        self.feed = feed
        self.claimedMinEntropy = claimedMinEntropy
    }

    public mutating func read(approximately count: Int, into buffer: inout SampleBuffer) throws(QRNGError) -> Bool {
        let wanted = max(1, min(count, 1 << 16))
        if scratch.count < wanted { scratch = [UInt8](repeating: 0, count: wanted) }
        let feed = self.feed
        let got = try scratch.withUnsafeMutableBytes { bytes in
            Result { () throws(QRNGError) in try feed.read(into: UnsafeMutableRawBufferPointer(rebasing: bytes[0..<wanted])) }
        }.get()
        guard got > 0 else { return false }
        scratch.withUnsafeMutableBytes { bytes in
            let read = UnsafeMutableRawBufferPointer(rebasing: bytes[0..<got])
            buffer.append(bytes: UnsafeRawBufferPointer(read))
            secureZero(read)
        }
        counters.samples += UInt64(got)
        return true
    }
}
