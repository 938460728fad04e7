import QRNG

/// The MultiMMC (§6.3.9) and LZ78Y (§6.3.10) predictors on binary data, run together.
///
/// Both keep, for every context of c = 1…16 bits, the counts of the bit that followed it, and both look up the 16
/// contexts that end at the current bit, so one table holds both predictors' counts side by side (MultiMMC's for
/// the order-c context, then LZ78Y's for the length-c one): a lookup touches one cache line for both. The rules are
/// those of ``multiMMCEstimate`` and ``lz78yEstimate``, with every exception of the reference tool kept:
/// - MultiMMC stops looking up at the first unseen order; the higher orders then record the pair, setting its count
///   to 1, while their order has fewer than 100,000 pairs.
/// - LZ78Y enters new contexts while it has fewer than 65,536, longest first.
///
/// The first steps, until LZ78Y's dictionary is full (a few thousand bits on most data), run one at a time exactly
/// as the two loops of the standard. After that LZ78Y only counts, and taking the longest context among those with
/// the highest count is the same whether the lengths are visited up or down; MultiMMC's scoreboard only needs, for
/// each step, which orders predicted and which were right. So the rest is done in three passes over the data:
/// lengths 1…10, lengths 11…16, and a replay of MultiMMC's scoreboard in the order of the standard's loop.
func binaryContextPredictorTallies<Symbol: FixedWidthInteger & UnsignedInteger>(
    _ s: UnsafeBufferPointer<Symbol>
) -> (multiMMC: PredictorTally, lz78y: PredictorTally) {
    let depth = 16
    let length = s.count
    precondition(length > depth + 1)
    let mmcLimit = 100_000
    let lzLimit = 65536
    // Slot for (c, context): 4 counts at offset 4·(2^c − 2 + context): MMC zeros, MMC ones, LZ zeros, LZ ones.
    var storage = [UInt32](repeating: 0, count: 4 * ((1 << (depth + 1)) - 2))
    var mmcEntryStorage = [Int](repeating: 0, count: depth + 1)
    var scoreStorage = [Int](repeating: 0, count: depth + 1)
    var winner = 1
    var high = 0
    var mmcScore = PredictionScore()
    var lzSize = 0
    var lzScore = PredictionScore()
    storage.withUnsafeMutableBufferPointer { table in
    mmcEntryStorage.withUnsafeMutableBufferPointer { mmcEntries in
    scoreStorage.withUnsafeMutableBufferPointer { scores in
        @inline(__always) func slot(_ c: Int, _ history: Int) -> Int {
            ((1 << c) - 2 + (history & ((1 << c) - 1))) << 2
        }
        // MultiMMC's first contexts: s[0...d] followed by s[d + 1], for d + 1 = c = 1…16.
        var history = 0  // bit j is s[i − 1 − j]
        for c in 1...depth {
            history = (history << 1) | Int(s[c - 1])
            table[slot(c, history) + Int(s[c])] = 1
            mmcEntries[c] = 1
        }
        history = Int(s[1]) | Int(s[0]) << 1
        var i = 2
        while i < length {
            let bit = Int(s[i])
            let lzActive = i > depth
            let lzFull = lzSize >= lzLimit
            if lzActive && lzFull { break }
            if lzActive && !lzFull {
                // LZ78Y on its own while it still enters contexts (longest first).
                if i == depth + 1 {
                    // Its first contexts: s[16 − c ..< 16] followed by s[16].
                    let before = history >> 1
                    for c in 1...depth {
                        table[slot(c, before) + 2 + Int(s[depth])] = 1
                        lzSize += 1
                    }
                }
                var maxCount: UInt32 = 0
                var prediction = -1
                for c in stride(from: depth, through: 1, by: -1) {
                    let base = slot(c, history) + 2
                    let zeros = table[base]
                    let ones = table[base + 1]
                    let count = max(zeros, ones)
                    if count > 0 {
                        if count > maxCount {
                            maxCount = count
                            prediction = zeros > ones ? 0 : 1
                        }
                        table[base + bit] += 1
                    } else if lzSize < lzLimit {
                        table[base + bit] = 1
                        lzSize += 1
                    }
                }
                lzScore.record(prediction == bit)
            }
            let currentWinner = winner
            let orders = min(depth, i - 1)
            var alive = true
            var winnerPredicted = false
            var winnerRight = false
            for c in 1...orders {
                let base = slot(c, history)
                if alive {
                    let zeros = table[base]
                    let ones = table[base + 1]
                    if zeros | ones != 0 {
                        let right = (zeros > ones ? 0 : 1) == bit
                        let score = scores[c] &+ (right ? 1 : 0)
                        scores[c] = score
                        // The winner always holds the highest score, kept in `high` so that the choice does not
                        // wait on a load from the scoreboard.
                        let take = right && score >= high
                        winner = take ? c : winner
                        high = take ? score : high
                        if c == currentWinner {
                            winnerPredicted = true
                            winnerRight = right
                        }
                        countMultiMMCPair(table, base + bit, order: c, mmcEntries, mmcLimit)
                    } else {
                        alive = false
                    }
                }
                if !alive { enterMultiMMCPair(table, base + bit, order: c, mmcEntries, mmcLimit) }
            }
            if winnerPredicted {
                mmcScore.record(winnerRight)
            }
            history = ((history << 1) | bit) & 0xFFFF_FFFF
            i += 1
        }
        guard i < length else { return }
        // From here on LZ78Y only counts, and every step looks up all 16 context lengths. The lengths are taken
        // in two passes over the data, 1…10 (tables of 32 KB, in cache) and 11…16 (the large ones, whose lookups
        // the processor can overlap because nothing else in that pass waits on them); each pass records for every
        // step which MultiMMC subpredictors had a prediction and which were right, and LZ78Y's best candidate.
        // A last pass replays MultiMMC's scoreboard from those records, in the same order as the loop above.
        let start = i
        let steps = length - start
        var masks = [UInt32](repeating: 0, count: steps)  // bit c−1: order c predicted; bit c+15: it was right
        var lzBest = [UInt32](repeating: 0, count: steps)  // count of the best LZ78Y context, its prediction in bit 31
        masks.withUnsafeMutableBufferPointer { masks in
        lzBest.withUnsafeMutableBufferPointer { lzBest in
            // Two loops with fixed bounds, so that the compiler can unroll them over the lengths.
            var h = 0
            for j in (start - depth)..<start { h = (h << 1) | Int(s[j]) }
            for step in 0..<steps {
                let bit = Int(s[start + step])
                var mask: UInt32 = 0
                var alive = true
                var best: UInt32 = 0
                var prediction: UInt32 = 0
                for c in 1...10 {
                    countContext(
                        c, h, bit, table, mmcEntries, mmcLimit, &alive, &mask, &best, &prediction)
                }
                masks[step] = mask
                lzBest[step] = best | prediction << 31
                h = ((h << 1) | bit) & 0xFFFF_FFFF
            }
            h = 0
            for j in (start - depth)..<start { h = (h << 1) | Int(s[j]) }
            for step in 0..<steps {
                let bit = Int(s[start + step])
                var mask = masks[step]
                var alive = mask & (1 << 9) != 0
                var best = lzBest[step] & 0x7FFF_FFFF
                var prediction = lzBest[step] >> 31
                for c in 11...16 {
                    countContext(
                        c, h, bit, table, mmcEntries, mmcLimit, &alive, &mask, &best, &prediction)
                }
                masks[step] = mask
                lzScore.record(best > 0 && Int(prediction) == bit)
                h = ((h << 1) | bit) & 0xFFFF_FFFF
            }
            for step in 0..<steps {
                let mask = masks[step]
                let currentWinner = winner
                var right = mask >> 16
                while right != 0 {
                    let c = right.trailingZeroBitCount + 1
                    right &= right - 1
                    let score = scores[c] + 1
                    scores[c] = score
                    if score >= high {
                        winner = c
                        high = score
                    }
                }
                if mask & (1 << UInt32(currentWinner - 1)) != 0 {
                    mmcScore.record(mask & (1 << UInt32(currentWinner + 15)) != 0)
                }
            }
        }
        }
    }
    }
    }
    return (
        PredictorTally(predictions: length - 2, score: mmcScore),
        PredictorTally(predictions: length - depth - 1, score: lzScore)
    )
}

/// One context length c of one step after LZ78Y's dictionary is full (see ``binaryContextPredictorTallies(_:)``):
/// MultiMMC's prediction and count for the order-c context, then LZ78Y's candidate and count for the length-c one.
@inline(__always)
private func countContext(
    _ c: Int, _ history: Int, _ bit: Int, _ table: UnsafeMutableBufferPointer<UInt32>,
    _ mmcEntries: UnsafeMutableBufferPointer<Int>, _ mmcLimit: Int, _ alive: inout Bool, _ mask: inout UInt32,
    _ best: inout UInt32, _ prediction: inout UInt32
) {
    let base = ((1 << c) - 2 + (history & ((1 << c) - 1))) << 2
    if alive {
        let zeros = table[base]
        let ones = table[base + 1]
        if zeros | ones != 0 {
            let right: UInt32 = (zeros > ones ? 0 : 1) == bit ? 1 : 0
            mask |= 1 << UInt32(c - 1) | right << UInt32(c + 15)
            countMultiMMCPair(table, base + bit, order: c, mmcEntries, mmcLimit)
        } else {
            alive = false
        }
    }
    if !alive { enterMultiMMCPair(table, base + bit, order: c, mmcEntries, mmcLimit) }
    let zeros = table[base + 2]
    let ones = table[base + 3]
    let count = max(zeros, ones)
    if count > 0 {
        let take = count >= best
        prediction = take ? (zeros > ones ? 0 : 1) : prediction
        best = take ? count : best
        table[base + 2 + bit] = table[base + 2 + bit] &+ 1
    }
}

/// MultiMMC's count of the pair (order-c context, next bit) at `index`, for an order whose context was seen: a seen
/// pair counts one more, an unseen one is entered.
@inline(__always)
private func countMultiMMCPair(
    _ table: UnsafeMutableBufferPointer<UInt32>, _ index: Int, order c: Int,
    _ mmcEntries: UnsafeMutableBufferPointer<Int>, _ mmcLimit: Int
) {
    let count = table[index]
    if count != 0 {
        table[index] = count &+ 1
    } else {
        enterMultiMMCPair(table, index, order: c, mmcEntries, mmcLimit)
    }
}

/// Enters the pair at `index` with count 1 while order c holds fewer than `mmcLimit` pairs. Orders above the first
/// unseen context do this whatever the pair's count, as the reference tool does (it resets a seen pair to 1).
@inline(__always)
private func enterMultiMMCPair(
    _ table: UnsafeMutableBufferPointer<UInt32>, _ index: Int, order c: Int,
    _ mmcEntries: UnsafeMutableBufferPointer<Int>, _ mmcLimit: Int
) {
    guard mmcEntries[c] < mmcLimit else { return }
    table[index] = 1
    mmcEntries[c] += 1
}
