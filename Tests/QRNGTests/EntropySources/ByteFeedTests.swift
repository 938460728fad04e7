import QRNG
import Synchronization
import Testing

/// A feed of given bytes, `chunk` at most per read: a stand-in for a remote node.
final class ArrayFeed: ByteFeed {
    let name: String
    let provenance: Provenance
    let bytes: [UInt8]
    let chunk: Int
    private let position = Mutex(0)

    init(_ name: String, _ bytes: [UInt8], chunk: Int = 1000, kind: Provenance.Kind = .device) {
        self.name = name
        self.bytes = bytes
        self.chunk = chunk
        self.provenance = Provenance(kind: kind, detail: name)
    }

    /// `count` bytes of SplitMix64 from `seed`.
    static func seeded(_ name: String, seed: UInt64, count: Int, kind: Provenance.Kind = .device) -> ArrayFeed {
        var state = seed
        let bytes = (0..<count).map { _ -> UInt8 in
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return UInt8(truncatingIfNeeded: z ^ (z >> 31))
        }
        return ArrayFeed(name, bytes, kind: kind)
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(QRNGError) -> Int {
        position.withLock { position in
            let count = min(buffer.count, chunk, bytes.count - position)
            for index in 0..<count { buffer[index] = bytes[position + index] }
            position += count
            return count
        }
    }
}

@Suite struct ByteFeedTests {
    /// Reads `count` bytes from `feed`, or fewer if it ends.
    private func drain(_ feed: any ByteFeed, count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let got = try out.withUnsafeMutableBytes { try feed.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[filled..<count])) }
            if got == 0 { break }
            filled += got
        }
        return Array(out[0..<filled])
    }

    @Test func aFeedsBytesAreItsSamples() throws {
        let feed = ArrayFeed.seeded("node", seed: 1, count: 5000)
        var source = ByteFeedSource(feed: feed)
        #expect(source.bitsPerSample == 8 && source.claimedMinEntropy == 8 && source.provenance.kind == .device)
        var samples = SampleBuffer(bitsPerSample: 8)
        while try source.read(approximately: 3000, into: &samples) {}
        #expect((0..<samples.count).map { UInt8(samples[$0]) } == feed.bytes)
        #expect(source.counters.samples == 5000)
    }

    /// After each node's start-up tests (1024 samples discarded) the combination is the XOR of the two nodes' next
    /// bytes, position by position.
    @Test func theCombinationIsTheXOROfWhatEachNodeSent() throws {
        let a = ArrayFeed.seeded("https://a", seed: 11, count: 200_000)
        let b = ArrayFeed.seeded("https://b", seed: 22, count: 200_000)
        let combined = try XORCombinedFeed(feeds: [a, b])
        #expect(combined.name == "https://a ⊕ https://b")
        let out = try drain(combined, count: 100_000)
        #expect(out.count == 100_000)
        let expected = (0..<100_000).map { a.bytes[1024 + $0] ^ b.bytes[1024 + $0] }
        #expect(out == expected)
        #expect(combined.states == [.healthy, .healthy])
    }

    /// A node stuck on zeros, or on any constant byte, would vanish in the XOR with an honest node; its own
    /// tests catch it and end the combination with an error naming it.
    @Test(arguments: [0x00, 0x5A] as [UInt8])
    func aStuckNodeIsCaughtByItsOwnTests(constant: UInt8) throws {
        let honest = ArrayFeed.seeded("https://honest", seed: 3, count: 1 << 22)
        let stuck = ArrayFeed("https://stuck", [UInt8](repeating: constant, count: 1 << 22))
        let reported = Mutex<[String]>([])
        let combined = try XORCombinedFeed(feeds: [honest, stuck]) { feed, failure in
            reported.withLock { $0.append("\(feed): \(failure.test)") }
        }
        let error = #expect(throws: QRNGError.self) { _ = try drain(combined, count: 1 << 20) }
        #expect(error?.code == .healthTestFailure)
        #expect(error?.message.hasPrefix("https://stuck: ") == true, "\(String(describing: error))")
        let failures = reported.withLock { $0 }
        #expect(failures.count >= 3 && failures.allSatisfy { $0.hasPrefix("https://stuck:") }, "\(failures)")
        #expect(combined.states == [.healthy, .failedPermanently])
    }

    @Test func aCombinationTakesItsWeakestProvenance() throws {
        let device = ArrayFeed.seeded("a", seed: 1, count: 10)
        let simulated = ArrayFeed.seeded("b", seed: 2, count: 10, kind: .simulated)
        #expect(try XORCombinedFeed(feeds: [device, simulated]).provenance.kind == .simulated)
        #expect(try XORCombinedFeed(feeds: [device, ArrayFeed.seeded("c", seed: 3, count: 10)]).provenance.kind == .device)
        #expect(throws: QRNGError.self) { try XORCombinedFeed(feeds: [device]) }
    }

    /// A pipeline over an external source takes its claim and names its origin; no photon monitor runs.
    @Test func aPipelineRunsOnAnExternalSource() throws {
        let feed = ArrayFeed.seeded("https://node", seed: 5, count: 1 << 20)
        var configuration = PipelineConfiguration(
            source: .external(ExternalSource(
                name: "remote https://node", source: ByteFeedSource(feed: feed), minEntropyOrigin: "the node's output")),
            extractor: .sha256(blockBits: 512))
        configuration.monitors = PhotonMonitorSettings(alpha: .defaultAlpha)
        var pipeline = try Pipeline(configuration: configuration)
        #expect(pipeline.minEntropyPerSample == 8)
        #expect(pipeline.minEntropyOrigin == "the node's output: H = 8.0")
        var output = BitBuffer()
        while try pipeline.step(into: &output) {}
        #expect(output.count > 4_000_000)
        #expect(!configuration.source.isSimulated && configuration.source.recordingPath == nil)
    }
}
