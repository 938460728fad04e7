import QRNG

/// SP 800-90B §6.3.10, the LZ78Y prediction estimate.
///
/// A dictionary of contexts of length 1…16 (at most 65,536 contexts in all, the standard's MAXDICT) records which
/// symbols followed each; the prediction is the most frequent follower of the longest context whose best count is
/// strictly the highest (ties between followers to the larger symbol). N = L − 17, predicting from sample 17 on.
///
/// Following the tool: a context already present always counts its follower, even a new one, whatever the size of
/// the dictionary (the cap is on contexts, not pairs); the contexts of sample 16 are entered before the main loop;
/// and a step with no prediction ends the run of correct predictions.
func lz78yEstimate<Symbol: FixedWidthInteger & UnsignedInteger>(
    _ s: UnsafeBufferPointer<Symbol>, alphabetSize k: Int, depth: Int = 16
) -> Estimate {
    guard s.count >= depth + 2 else { return Estimate(.lz78y, nil) }
    return predictionEstimate(.lz78y, lz78yTally(s, depth: depth), alphabetSize: k)
}

private let lzMaximumContexts = 65536

/// The dictionary-based LZ78Y for any alphabet (binary data of more than 17 bits normally takes
/// ``binaryContextPredictorTallies(_:)``, which gives the same tally).
func lz78yTally<Symbol: FixedWidthInteger & UnsignedInteger>(
    _ s: UnsafeBufferPointer<Symbol>, depth lzDepth: Int = 16
) -> PredictorTally {
    let length = s.count
    let alphabet = Int(s.max() ?? 0) + 1
    var dictionaries = (1...lzDepth).map {
        ContextDictionary(length: $0, alphabetSize: alphabet, capacity: min(length, 65536))
    }
    var hashes = [UInt64](repeating: 0, count: lzDepth)
    var size = 0
    contextFingerprints(s, endingBefore: lzDepth, count: lzDepth, into: &hashes)
    for j in 1...lzDepth {
        let id = dictionaries[j - 1].insert(fingerprint: hashes[j - 1], start: lzDepth - j, in: s)
        dictionaries[j - 1].increment(context: id, symbol: UInt16(s[lzDepth]), mayCreate: true, in: s)
        size += 1
    }
    var score = PredictionScore()
    for i in (lzDepth + 1)..<length {
        let symbol = UInt16(s[i])
        contextFingerprints(s, endingBefore: i, count: lzDepth, into: &hashes)
        var maxCount: Int32 = 0
        var prediction: UInt16? = nil
        for j in stride(from: lzDepth, through: 1, by: -1) {
            let start = i - j
            if let id = dictionaries[j - 1].find(fingerprint: hashes[j - 1], start: start, in: s) {
                let count = dictionaries[j - 1].bestCount(id)
                if count > maxCount {
                    maxCount = count
                    prediction = dictionaries[j - 1].bestSymbol(id)
                }
                dictionaries[j - 1].increment(context: id, symbol: symbol, mayCreate: true, in: s)
            } else if size < lzMaximumContexts {
                let id = dictionaries[j - 1].insert(fingerprint: hashes[j - 1], start: start, in: s)
                dictionaries[j - 1].increment(context: id, symbol: symbol, mayCreate: true, in: s)
                size += 1
            }
        }
        score.record(prediction == symbol)
    }
    return PredictorTally(predictions: length - lzDepth - 1, score: score)
}
