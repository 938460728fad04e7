import Synchronization

/// Independent feeds combined by XOR, byte by byte, each health-tested on its own before it is combined.
///
/// ## Why XOR, and what it needs
/// If the feeds are independent, the XOR of their bytes is at least as unpredictable as the most unpredictable of
/// them: whoever knows every feed but one still faces that one's bytes, one-time-padded onto the rest. So no single
/// compromised node can know (or choose) the output, as long as
/// - at least one node is honest and its output unpredictable to the others;
/// - the nodes are independent: a node that can see another's output before it answers could cancel it, so
///   nodes must not read each other (separate machines, separate sources), and each byte of a node is used once
///   (a pool hands every byte out once, and this feed never reuses one);
/// - the nodes are reached over authenticated channels (TLS), or an attacker on the path is one more node.
/// It does not help against a failure common to all nodes, nor make up for too little entropy overall.
///
/// ## Per-node health tests
/// XORed with an honest node's bytes, a node stuck on zeros or on any constant would go unnoticed by any test of
/// the combined stream. So each node's bytes first pass SP 800-90B's Repetition Count and Adaptive Proportion
/// Tests of their own (a ``HealthMonitor`` per node on 8-bit samples at full entropy), and only bytes a node's
/// monitor released are combined. An intermittent failure discards that node's held bytes and re-runs its
/// start-up tests, as for any source; a permanent one (``FailurePolicy``) ends the feed with an error naming the
/// node, which stops the pipeline's output. Every failure is reported to `onFailure`.
public final class XORCombinedFeed: ByteFeed {
    public let feeds: [any ByteFeed]
    public let name: String
    private let onFailure: @Sendable (_ feed: String, _ failure: HealthFailure) -> Void

    private struct Lane {
        var monitor: HealthMonitor
        /// Bytes the monitor released, waiting to be combined.
        var ready = ZeroingByteQueue()
    }

    private let lanes: Mutex<[Lane]>

    /// Combines `feeds` (at least two), testing each at `alpha` with `policy`.
    public init(
        feeds: [any ByteFeed], alpha: ErrorProbability = .defaultAlpha, policy: FailurePolicy = FailurePolicy(),
        onFailure: @escaping @Sendable (_ feed: String, _ failure: HealthFailure) -> Void = { _, _ in }
    ) throws(QRNGError) {
        guard feeds.count >= 2 else {
            throw .invalidArgument("feeds", "an XOR combination needs at least two feeds, got \(feeds.count)")
        }
        self.feeds = feeds
        self.name = feeds.map(\.name).joined(separator: " ⊕ ")
        self.onFailure = onFailure
        let cutoffs = try HealthCutoffs(bitsPerSample: 8, minEntropy: 8, alpha: alpha)
        var lanes: [Lane] = []
        for _ in feeds { lanes.append(Lane(monitor: try HealthMonitor(cutoffs: cutoffs, policy: policy))) }
        self.lanes = Mutex(lanes)
    }

    /// The weakest of the feeds' provenances: simulated if any node is, so that a simulated node in the mix is
    /// never passed off as quantum.
    public var provenance: Provenance {
        let kinds = feeds.map(\.provenance.kind)
        let kind: Provenance.Kind = kinds.contains(.simulated) ? .simulated : kinds.contains(.file) ? .file : .device
        return Provenance(kind: kind, detail: "XOR of " + feeds.map { "\($0.name) (\($0.provenance.kind.rawValue))" }.joined(separator: ", "))
    }

    /// Every node's problem, named: output waits for the slowest node.
    public var problem: String? {
        let problems = feeds.compactMap { feed in feed.problem.map { "\(feed.name): \($0)" } }
        return problems.isEmpty ? nil : problems.joined(separator: "; ")
    }

    public func stop() {
        for feed in feeds { feed.stop() }
    }

    /// The health state of each node's tests, in order.
    public var states: [HealthState] { lanes.withLock { $0.map(\.monitor.state) } }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(QRNGError) -> Int {
        let wanted = buffer.count
        guard wanted > 0 else { return 0 }
        return try lanes.withLock { (lanes) throws(QRNGError) -> Int in
            for index in feeds.indices {
                while lanes[index].ready.count < wanted {
                    guard try fill(&lanes[index], from: feeds[index], atLeast: wanted - lanes[index].ready.count) else {
                        return 0
                    }
                }
            }
            for offset in 0..<wanted {
                var byte: UInt8 = 0
                for index in lanes.indices { byte ^= lanes[index].ready[offset] }
                buffer[offset] = byte
            }
            for index in lanes.indices { lanes[index].ready.drop(wanted) }
            return wanted
        }
    }

    /// Reads the next bytes of `feed` through its lane's monitor; `false` when the feed has ended.
    private func fill(_ lane: inout Lane, from feed: any ByteFeed, atLeast count: Int) throws(QRNGError) -> Bool {
        var scratch = [UInt8](repeating: 0, count: max(count, 4096))
        defer { scratch.withUnsafeMutableBytes { secureZero($0) } }
        let got = try scratch.withUnsafeMutableBytes { bytes in
            Result { () throws(QRNGError) in try feed.read(into: bytes) }
        }.get()
        guard got > 0 else { return false }
        var samples = SampleBuffer(bitsPerSample: 8)
        scratch.withUnsafeBytes { samples.append(bytes: UnsafeRawBufferPointer(rebasing: $0[0..<got])) }
        var released = BitBuffer()
        defer { released.removeAll() }
        let failures = lane.monitor.process(samples, releasingInto: &released)
        for failure in failures { onFailure(feed.name, failure) }
        if let permanent = failures.last(where: \.permanent) {
            throw QRNGError(
                .healthTestFailure, "\(feed.name): \(permanent.error.message)", context: permanent.error.context)
        }
        var bytes = released.packedBytes()
        bytes.withUnsafeMutableBytes { bytes in
            lane.ready.append(UnsafeRawBufferPointer(bytes))
            secureZero(bytes)
        }
        return true
    }

    deinit {
        lanes.withLock { lanes in
            for index in lanes.indices { lanes[index].ready.removeAll() }
        }
    }
}
