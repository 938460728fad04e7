import Foundation
import QRNG
import QRNGTestSupport
import Testing

// The BB84 example of QRNG.docc/FeedingABB84Engine.md. The article's Swift blocks are copied from this file, and
// `theArticleShowsThisCode` checks that each still appears here word for word: what the article shows is what
// these tests run. `tools/bb84_example.sh` runs them and prints one round.

// MARK: The engine (the article's code)

/// One party of a BB84 link, as a protocol engine sees it: every random decision comes from the pool.
struct BB84Party {
    let pool: EntropyPool

    /// The measurement bases for `count` pulses: uniform (one fresh bit each), or rectilinear with probability
    /// `probabilityOfZ` as efficient BB84 chooses (about two fresh bits each, whatever the probability).
    func bases(count: Int, probabilityOfZ: Double? = nil) throws(QRNGError) -> [Basis] {
        guard let probabilityOfZ else { return try pool.basisChoices(count: count) }
        return try pool.biasedBasisChoices(count: count, probabilityOfRectilinear: probabilityOfZ)
    }
}

/// The bits at the positions where the two parties' bases agree: sifting, after the bases are announced.
func sift(_ bits: BitBuffer, aliceBases: [Basis], bobBases: [Basis]) -> BitBuffer {
    var kept = BitBuffer(minimumCapacity: bits.count)
    for index in 0..<bits.count where aliceBases[index] == bobBases[index] {
        kept.append(bits[index])
    }
    return kept
}

/// Privacy amplification: hashes a reconciled key to `outputBits` bits with a Toeplitz matrix whose seed is drawn
/// fresh from the pool. The seed is public: the party that draws it sends it over the authenticated channel, and
/// the other hashes its copy of the key with the same seed.
func amplify(_ key: BitBuffer, to outputBits: Int, pool: EntropyPool) throws -> (key: BitBuffer, seed: HashSeed) {
    let seed = try pool.toeplitzSeed(inputBits: key.count, outputBits: outputBits)
    let hash = try seed.withBits { try ToeplitzExtractor(seed: $0, inputBits: key.count, outputBits: outputBits) }
    return (hash.hash(key), seed)
}

/// Hashes a key with a seed received from the other party.
func amplify(_ key: BitBuffer, to outputBits: Int, seed: HashSeed) throws -> BitBuffer {
    try seed.withBits { try ToeplitzExtractor(seed: $0, inputBits: key.count, outputBits: outputBits) }.hash(key)
}

/// One round over an ideal channel: Alice's raw key, both parties' bases, Bob's measurements, sifting, and
/// privacy amplification.
struct BB84Round {
    var aliceSifted: BitBuffer
    var bobSifted: BitBuffer
    var aliceKey: BitBuffer
    var bobKey: BitBuffer
    var seed: HashSeed
}

func runRound(pulses: Int, probabilityOfZ: Double?, pool: EntropyPool) throws -> BB84Round {
    let alice = BB84Party(pool: pool)
    let bob = BB84Party(pool: pool)
    // Alice encodes one random bit per pulse in a basis of her choice; Bob measures in a basis of his.
    let aliceBits = try pool.take(bits: pulses)
    let aliceBases = try alice.bases(count: pulses, probabilityOfZ: probabilityOfZ)
    let bobBases = try bob.bases(count: pulses, probabilityOfZ: probabilityOfZ)
    // The ideal channel: in Alice's basis Bob reads her bit; in the other his outcome is a fair coin.
    let coins = try pool.take(bits: pulses)
    var bobBits = BitBuffer(minimumCapacity: pulses)
    for index in 0..<pulses {
        bobBits.append(aliceBases[index] == bobBases[index] ? aliceBits[index] : coins[index])
    }
    // The bases are announced and both sides keep the positions where they agree.
    let aliceSifted = sift(aliceBits, aliceBases: aliceBases, bobBases: bobBases)
    let bobSifted = sift(bobBits, aliceBases: aliceBases, bobBases: bobBases)
    // Error correction would go here; the ideal channel needs none. Parameter estimation bounds the min-entropy
    // per sifted bit that Eve's information leaves (0.5 assumed here); the leftover hash lemma gives the length.
    let outputBits = try leftoverHashOutputLength(inputBits: aliceSifted.count, minEntropyPerBit: 0.5)
    let (aliceKey, seed) = try amplify(aliceSifted, to: outputBits, pool: pool)
    let bobKey = try amplify(bobSifted, to: outputBits, seed: seed)
    return BB84Round(aliceSifted: aliceSifted, bobSifted: bobSifted, aliceKey: aliceKey, bobKey: bobKey, seed: seed)
}

// MARK: Tests

@Suite(.serialized) struct BB84ExampleTests {
    static let verbose = ProcessInfo.processInfo.environment["QRNG_EXAMPLE_VERBOSE"] != nil

    @Test func uniformChoicesKeepHalfAndBothPartiesGetTheSameKey() throws {
        let configuration = PipelineConfiguration(source: .simulatedBeamSplitter(SimulationConfiguration(), seed: 84))
        let pipeline = try Pipeline(configuration: configuration)
        let pool = EntropyPool(provenance: pipeline.source.provenance, capacityBits: 1 << 20)
        let producer = EntropyProducer(pipeline: pipeline, pool: pool)
        defer { producer.stop() }
        let pulses = 20_000
        let before = pool.statistics.bitsTaken
        let round = try runRound(pulses: pulses, probabilityOfZ: nil, pool: pool)
        let kept = round.aliceSifted.count
        // Bases agree with probability ½: the sifted length is Binomial(n, ½), σ = √n / 2.
        let sigma = Double(pulses).squareRoot() / 2
        #expect(abs(Double(kept) - Double(pulses) / 2) < 5 * sigma, "kept \(kept) of \(pulses)")
        #expect(round.bobSifted == round.aliceSifted, "an ideal channel leaves no errors after sifting")
        let m = kept / 2 - 200  // ⌊n·0.5 − 2·100⌋ with ε = 2⁻¹⁰⁰
        #expect(round.aliceKey.count == m && round.bobKey == round.aliceKey)
        // Accounting: values, two sets of uniform bases and the channel's coins at one bit per pulse, and the
        // seed's n + m − 1 bits; nothing else was drawn.
        let taken = pool.statistics.bitsTaken - before
        #expect(taken == UInt64(4 * pulses + kept + m - 1), "took \(taken) bits")
        #expect(pool.provenance.isSimulated)
        if Self.verbose {
            print("""
                BB84 round from \(pool.provenance)
                  \(pulses) pulses, uniform bases: \(kept) sifted bits (\(kept * 100 / pulses)%)
                  privacy amplification: Toeplitz \(kept) → \(m) bits, seed of \(round.seed.bitCount) fresh bits
                  Alice's key starts \(round.aliceKey.extracting(0..<64)), Bob's \(round.bobKey.extracting(0..<64))
                  pool: \(taken) bits taken for this round, \(pool.statistics.bitsDeposited) deposited in all
                """)
        }
    }

    /// Efficient BB84: both parties choose Z with p = 0.9, so bases agree with p² + (1 − p)² = 0.82.
    @Test func biasedChoicesKeepTheFractionTheyShould() throws {
        let configuration = PipelineConfiguration(source: .simulatedBeamSplitter(SimulationConfiguration(), seed: 84))
        let pipeline = try Pipeline(configuration: configuration)
        let pool = EntropyPool(provenance: pipeline.source.provenance, capacityBits: 1 << 20)
        let producer = EntropyProducer(pipeline: pipeline, pool: pool)
        defer { producer.stop() }
        let pulses = 20_000
        let round = try runRound(pulses: pulses, probabilityOfZ: 0.9, pool: pool)
        let kept = Double(round.aliceSifted.count)
        let sigma = (Double(pulses) * 0.82 * 0.18).squareRoot()
        #expect(abs(kept - 0.82 * Double(pulses)) < 5 * sigma, "kept \(kept) of \(pulses)")
        #expect(round.bobKey == round.aliceKey)
        if Self.verbose {
            print("  \(pulses) pulses, p_Z = 0.9: \(Int(kept)) sifted bits (\(Int(kept) * 100 / pulses)%)")
        }
    }

    /// Two engines on one pool, and two rounds of one engine, never share a seed bit: each seed is fresh.
    @Test func seedsAreNeverReused() throws {
        var generator = Xoshiro256StarStar(seed: 85)
        let content = BitBuffer.random(count: 1 << 16, using: &generator)
        let pool = EntropyPool(provenance: Provenance(kind: .simulated, detail: "deposits"), capacityBits: 1 << 16)
        try pool.deposit(content)
        let key = content.extracting(0..<1000)
        let (_, first) = try amplify(key, to: 400, pool: pool)
        let (_, second) = try amplify(key, to: 400, pool: pool)
        let (firstBits, secondBits) = (first.withBits { $0 }, second.withBits { $0 })
        #expect(firstBits != secondBits)
        #expect(firstBits == content.extracting(0..<1399) && secondBits == content.extracting(1399..<2798),
                "consecutive, disjoint stretches of the pool")
        #expect(try amplify(key, to: 400, seed: first) != amplify(key, to: 400, seed: second))
    }

    /// Every Swift block of the article appears in this file as it is.
    @Test func theArticleShowsThisCode() throws {
        let here = URL(fileURLWithPath: #filePath)
        var root = here
        func isRoot(_ url: URL) -> Bool {
            FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path)
        }
        while root.path != "/" && !isRoot(root) {
            root.deleteLastPathComponent()
        }
        let articlePath = root.appendingPathComponent("Sources/QRNG/QRNG.docc/FeedingABB84Engine.md")
        let article = try String(contentsOf: articlePath, encoding: .utf8)
        let source = try String(contentsOf: here, encoding: .utf8)
        // Indentation aside: the article's blocks start at the margin.
        func unindented(_ text: some StringProtocol) -> String {
            text.split(separator: "\n", omittingEmptySubsequences: false)
                .map { $0.drop { $0 == " " } }.joined(separator: "\n")
        }
        let code = unindented(source)
        let blocks = article.components(separatedBy: "```swift\n").dropFirst()
            .map { unindented($0.components(separatedBy: "```")[0]) }
        #expect(blocks.count >= 5, "the article's code blocks")
        for block in blocks {
            let found = code.contains(block)
            #expect(found, "not in BB84ExampleTests.swift:\n\(block)")
        }
    }
}
