import QRNG

/// The dictionaries of the MultiMMC and LZ78Y predictors for non-binary samples: contexts (strings of one fixed
/// length, each standing for all its occurrences) mapped to counts of the symbols that followed them.
///
/// The reference tool keeps a `std::map` from a 16-byte context to a `std::map` of follower counts, which is most
/// of its run time. Here short contexts (at most 2^17 possible strings) are addressed directly by their value, and
/// longer ones through an open-addressing table keyed by a 64-bit fingerprint of their symbols, confirmed by
/// comparing the symbols themselves with the place where the context was first seen: a fingerprint collision can
/// cost time but never change a count. Follower counts live in a flat table when every (context, follower) pair
/// fits in 2^17 cells, and otherwise in a second open-addressing table. Nothing is ever removed; both predictors cap
/// the number of entries.
struct ContextDictionary {
    /// The context length in symbols.
    let length: Int
    private let alphabetSize: Int
    /// Per context: where it was first seen (`sequence[start ..< start + length]`) and its prediction, the most
    /// frequent follower (ties to the larger symbol).
    private var contexts: [Context] = []
    /// Direct addressing by context value (short contexts), or empty.
    private var direct: [Int32]
    /// Open addressing (long contexts): 32 bits of the fingerprint and the identifier side by side, 8 bytes a slot.
    private var slots: [Slot]
    private var slotMask: Int
    /// One bit per fingerprint class: most lookups of long contexts are for contexts never seen, and this small
    /// table answers them without touching the large one.
    private var filter: [UInt64]
    /// Follower counts by (context value, follower) when they fit, or empty.
    private var densePairs: [Int32]
    private var pairs: [Pair]
    private var pairMask: Int
    private var pairCount = 0

    private struct Context {
        var fingerprint: UInt64
        var start: Int32
        var bestCount: Int32
        var firstCount: Int32
        var bestSymbol: UInt16
        var firstSymbol: UInt16
    }

    private struct Slot {
        var tag: UInt32
        var id: Int32
    }

    private struct Pair {
        var key: UInt64
        var count: Int32
    }

    private static let filterBits = 1 << 18
    private static let directLimit = 1 << 17

    /// - Parameter capacity: How many contexts to make room for at once (the tables grow past it if needed).
    init(length: Int, alphabetSize k: Int, capacity: Int = 512) {
        self.length = length
        self.alphabetSize = k
        let contextValues = Self.power(k, length)
        let pairValues = contextValues.flatMap { $0 <= Self.directLimit / max(k, 1) ? $0 * k : nil }
        self.direct = contextValues.map { $0 <= Self.directLimit ? [Int32](repeating: -1, count: $0) : [] } ?? []
        let hashed = direct.isEmpty
        var slotCount = 1024
        while slotCount < 2 * capacity { slotCount *= 2 }
        self.slots = [Slot](repeating: Slot(tag: 0, id: -1), count: hashed ? slotCount : 0)
        self.slotMask = slotCount - 1
        self.filter = [UInt64](repeating: 0, count: hashed ? Self.filterBits / 64 : 0)
        self.densePairs = pairValues.map { [Int32](repeating: 0, count: $0) } ?? []
        self.pairs = [Pair](repeating: Pair(key: .max, count: 0), count: densePairs.isEmpty ? 1024 : 0)
        self.pairMask = 1023
    }

    /// k^n, or nil past 2^40.
    private static func power(_ k: Int, _ n: Int) -> Int? {
        var result = 1
        for _ in 0..<n {
            result *= k
            if result > 1 << 40 { return nil }
        }
        return result
    }

    /// The number of contexts.
    var count: Int { contexts.count }

    func bestSymbol(_ id: Int) -> UInt16 { contexts[id].bestSymbol }
    func bestCount(_ id: Int) -> Int32 { contexts[id].bestCount }

    @inline(__always)
    private func value<Symbol: FixedWidthInteger>(at start: Int, in sequence: UnsafeBufferPointer<Symbol>) -> Int {
        var value = 0
        for offset in 0..<length { value = value * alphabetSize + Int(sequence[start + offset]) }
        return value
    }

    /// The context `sequence[start ..< start + length]`, whose fingerprint is `fingerprint`, if present.
    @inline(__always)
    func find<Symbol: FixedWidthInteger>(
        fingerprint: UInt64, start: Int, in sequence: UnsafeBufferPointer<Symbol>
    ) -> Int? {
        if !direct.isEmpty {
            let id = Int(direct[value(at: start, in: sequence)])
            return id < 0 ? nil : id
        }
        let bit = Int(truncatingIfNeeded: fingerprint >> 46)
        if filter[bit >> 6] & (1 << UInt64(bit & 63)) == 0 { return nil }
        var slot = Int(truncatingIfNeeded: mix(fingerprint)) & slotMask
        while true {
            let entry = slots[slot]
            if entry.id < 0 { return nil }
            if entry.tag == UInt32(truncatingIfNeeded: fingerprint >> 32)
                && equal(Int(contexts[Int(entry.id)].start), start, in: sequence)
            {
                return Int(entry.id)
            }
            slot = (slot + 1) & slotMask
        }
    }

    /// Adds a context known to be absent and returns its identifier.
    @inline(__always)
    mutating func insert<Symbol: FixedWidthInteger>(
        fingerprint: UInt64, start: Int, in sequence: UnsafeBufferPointer<Symbol>
    ) -> Int {
        let id = contexts.count
        contexts.append(
            Context(
                fingerprint: fingerprint, start: Int32(start), bestCount: 0, firstCount: 0, bestSymbol: 0,
                firstSymbol: 0))
        if !direct.isEmpty {
            direct[value(at: start, in: sequence)] = Int32(id)
            return id
        }
        if contexts.count * 2 > slots.count { growSlots() }
        let bit = Int(truncatingIfNeeded: fingerprint >> 46)
        filter[bit >> 6] |= 1 << UInt64(bit & 63)
        var slot = Int(truncatingIfNeeded: mix(fingerprint)) & slotMask
        while slots[slot].id >= 0 { slot = (slot + 1) & slotMask }
        slots[slot] = Slot(tag: UInt32(truncatingIfNeeded: fingerprint >> 32), id: Int32(id))
        return id
    }

    /// Counts one more `symbol` after context `id`; when the pair is new it is created only if `mayCreate`.
    /// Returns whether a pair was created (the tool's `PostfixDictionary::incrementPostfix`).
    @inline(__always) @discardableResult
    mutating func increment<Symbol: FixedWidthInteger>(
        context id: Int, symbol: UInt16, mayCreate: Bool, in sequence: UnsafeBufferPointer<Symbol>
    ) -> Bool {
        var created = false
        let count: Int32
        if !densePairs.isEmpty {
            let cell = value(at: Int(contexts[id].start), in: sequence) * alphabetSize + Int(symbol)
            if densePairs[cell] == 0 {
                guard mayCreate else { return false }
                created = true
            }
            densePairs[cell] += 1
            count = densePairs[cell]
        } else if contexts[id].firstCount == 0 || contexts[id].firstSymbol == symbol {
            // The first follower of a context is kept in its record: most long contexts never get a second.
            if contexts[id].firstCount == 0 {
                guard mayCreate else { return false }
                contexts[id].firstSymbol = symbol
                created = true
            }
            contexts[id].firstCount += 1
            count = contexts[id].firstCount
        } else {
            let key = UInt64(id) << 16 | UInt64(symbol)
            var slot = Int(truncatingIfNeeded: mix(key &* 0x9E37_79B9_7F4A_7C15)) & pairMask
            while true {
                let stored = pairs[slot].key
                if stored == key { break }
                if stored == .max {
                    guard mayCreate else { return false }
                    pairs[slot] = Pair(key: key, count: 0)
                    pairCount += 1
                    created = true
                    break
                }
                slot = (slot + 1) & pairMask
            }
            pairs[slot].count += 1
            count = pairs[slot].count
            if pairCount * 2 > pairs.count { growPairs() }
        }
        if count > contexts[id].bestCount || (count == contexts[id].bestCount && symbol > contexts[id].bestSymbol) {
            contexts[id].bestCount = count
            contexts[id].bestSymbol = symbol
        }
        return created
    }

    @inline(__always)
    private func equal<Symbol: FixedWidthInteger>(
        _ a: Int, _ b: Int, in sequence: UnsafeBufferPointer<Symbol>
    ) -> Bool {
        if a == b { return true }
        for offset in 0..<length where sequence[a + offset] != sequence[b + offset] { return false }
        return true
    }

    @inline(__always)
    private func mix(_ x: UInt64) -> UInt64 {
        var z = x ^ (x >> 31)
        z = z &* 0xBF58_476D_1CE4_E5B9
        return z ^ (z >> 29)
    }

    private mutating func growSlots() {
        let old = slots
        let capacity = slots.count * 2
        slots = [Slot](repeating: Slot(tag: 0, id: -1), count: capacity)
        slotMask = capacity - 1
        for entry in old where entry.id >= 0 {
            var slot = Int(truncatingIfNeeded: mix(contexts[Int(entry.id)].fingerprint)) & slotMask
            while slots[slot].id >= 0 { slot = (slot + 1) & slotMask }
            slots[slot] = entry
        }
    }

    private mutating func growPairs() {
        let old = pairs
        let capacity = pairs.count * 2
        pairs = [Pair](repeating: Pair(key: .max, count: 0), count: capacity)
        pairMask = capacity - 1
        for pair in old where pair.key != .max {
            var slot = Int(truncatingIfNeeded: mix(pair.key &* 0x9E37_79B9_7F4A_7C15)) & pairMask
            while pairs[slot].key != .max { slot = (slot + 1) & pairMask }
            pairs[slot] = pair
        }
    }
}

/// Fingerprints of the contexts that end just before position `i`, longest last: `hashes[j]` covers
/// `sequence[i - j - 1 ..< i]`. Each extends the previous one by one older symbol.
@inline(__always)
func contextFingerprints<Symbol: FixedWidthInteger>(
    _ sequence: UnsafeBufferPointer<Symbol>, endingBefore i: Int, count: Int, into hashes: inout [UInt64]
) {
    var h: UInt64 = 0x243F_6A88_85A3_08D3
    for j in 0..<count {
        h = (h ^ UInt64(truncatingIfNeeded: sequence[i - j - 1]) &+ 0x9E37_79B9_7F4A_7C15) &* 0xD6E8_FEB8_6659_FD93
        h ^= h >> 32
        hashes[j] = h
    }
}
