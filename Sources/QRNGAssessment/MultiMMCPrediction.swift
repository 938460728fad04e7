import QRNG

/// SP 800-90B §6.3.9, the Multi Markov Model with Counting prediction estimate.
///
/// Sixteen subpredictors of order d = 1…16 predict the symbol that most often followed the last d symbols (ties to
/// the larger symbol); the best scorer so far (ties to the higher order) predicts. N = L − 2.
///
/// Following the tool where the standard is silent or differs:
/// - Each order's dictionary holds at most 100,000 (context, follower) pairs, counted per order (the standard's
///   MAXDICT); an existing pair is always counted, a new one only while there is room.
/// - Orders are visited from 1 up and the lookup stops at the first order whose context was never seen: every
///   higher order then makes no prediction and, while it has room, records its (context, follower) pair without
///   looking first (counting it as a new entry even if it existed, and in the binary tables setting it to 1).
/// - When the winning subpredictor has no prediction, the run of correct predictions is left as it is.
/// - The first sample's contexts of every order are recorded before the main loop, in the tool's interleaved order.
func multiMMCEstimate<Symbol: FixedWidthInteger & UnsignedInteger>(
    _ s: UnsafeBufferPointer<Symbol>, alphabetSize k: Int, depth: Int = 16
) -> Estimate {
    guard s.count >= 3 else { return Estimate(.multiMMC, nil) }
    return predictionEstimate(.multiMMC, multiMMCTally(s, depth: depth), alphabetSize: k)
}

private let mmcMaximumEntries = 100_000

/// The dictionary-based MultiMMC for any alphabet (binary data of more than 17 bits normally takes
/// ``binaryContextPredictorTallies(_:)``, which gives the same tally).
func multiMMCTally<Symbol: FixedWidthInteger & UnsignedInteger>(
    _ s: UnsafeBufferPointer<Symbol>, depth mmcDepth: Int = 16
) -> PredictorTally {
    let length = s.count
    let alphabet = Int(s.max() ?? 0) + 1
    let predictions = length - 2
    var dictionaries = (1...mmcDepth).map {
        ContextDictionary(length: $0, alphabetSize: alphabet, capacity: min(length, 100_000))
    }
    var entries = [Int](repeating: 0, count: mmcDepth)
    var hashes = [UInt64](repeating: 0, count: mmcDepth)
    for d in 0..<mmcDepth where d < predictions {
        contextFingerprints(s, endingBefore: d + 1, count: d + 1, into: &hashes)
        let id = dictionaries[d].insert(fingerprint: hashes[d], start: 0, in: s)
        dictionaries[d].increment(context: id, symbol: UInt16(s[d + 1]), mayCreate: true, in: s)
        entries[d] = 1
    }
    var scores = [Int](repeating: 0, count: mmcDepth)
    var winner = 0
    var score = PredictionScore()
    for i in 2..<length {
        let symbol = UInt16(s[i])
        let currentWinner = winner
        let depth = min(mmcDepth, i - 1)
        contextFingerprints(s, endingBefore: i, count: depth, into: &hashes)
        var found: Int? = nil
        for d in 0..<depth {
            let start = i - d - 1
            if d == 0 || found != nil {
                found = dictionaries[d].find(fingerprint: hashes[d], start: start, in: s)
            }
            if let id = found {
                if dictionaries[d].bestSymbol(id) == symbol {
                    scores[d] += 1
                    if scores[d] >= scores[winner] { winner = d }
                    if d == currentWinner {
                        score.recordCorrect()
                    }
                } else if d == currentWinner {
                    score.recordMiss()
                }
                let mayCreate = entries[d] < mmcMaximumEntries
                if dictionaries[d].increment(context: id, symbol: symbol, mayCreate: mayCreate, in: s) {
                    entries[d] += 1
                }
            } else if entries[d] < mmcMaximumEntries {
                let id = dictionaries[d].find(fingerprint: hashes[d], start: start, in: s)
                    ?? dictionaries[d].insert(fingerprint: hashes[d], start: start, in: s)
                dictionaries[d].increment(context: id, symbol: symbol, mayCreate: true, in: s)
                entries[d] += 1
            }
        }
    }
    return PredictorTally(predictions: predictions, score: score)
}
