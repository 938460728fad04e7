import QRNG

// BB84 basis choices and a privacy-amplification seed from a pool kept filled by the pipeline. The source is the
// simulated default, seeded: PSEUDO-RANDOM, for a reproducible demonstration only. A QKD system runs the pool on a
// real detector's clicks and checks the pool's provenance before it trusts a key.
let configuration = PipelineConfiguration(source: .simulatedBeamSplitter(SimulationConfiguration(), seed: 84))
let pipeline = try Pipeline(configuration: configuration)
let pool = EntropyPool(provenance: pipeline.source.provenance, capacityBits: 1 << 20)
let producer = EntropyProducer(pipeline: pipeline, pool: pool)
defer { producer.stop() }

let pulses = 100_000
let aliceBases = try pool.biasedBasisChoices(count: pulses, probabilityOfRectilinear: 0.9)
let bobBases = try pool.biasedBasisChoices(count: pulses, probabilityOfRectilinear: 0.9)
let sifted = zip(aliceBases, bobBases).filter { $0.0 == $0.1 }.count
let rectilinear = aliceBases.filter { $0 == .rectilinear }.count

// Privacy amplification of the sifted key: a Toeplitz hash sized by the leftover hash lemma, its seed fresh from
// the pool (drawn by one party, sent over the authenticated channel).
let outputBits = try leftoverHashOutputLength(inputBits: sifted, minEntropyPerBit: 0.5)
let seed = try pool.toeplitzSeed(inputBits: sifted, outputBits: outputBits)

print("provenance: \(pool.provenance)")
print("bases: \(pulses) per party, \(rectilinear) rectilinear for Alice (p_Z = 0.9), \(sifted) kept after sifting")
print("privacy amplification: \(sifted) → \(outputBits) bits, Toeplitz seed of \(seed.bitCount) fresh bits")
guard sifted > pulses * 3 / 4, seed.bitCount == sifted + outputBits - 1 else {
    fatalError("unexpected sifting or seed size")
}
