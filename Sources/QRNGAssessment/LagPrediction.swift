import QRNG

/// SP 800-90B §6.3.8, the Lag prediction estimate.
///
/// 128 subpredictors each predict that the next sample equals the one d = 1…128 samples back; each scores when it
/// would have been right, and the best so far (ties to the larger lag, as the standard's loop over d and the tool's
/// `>=` both give) makes the prediction. N = L − 1 predictions.
func lagEstimate<Symbol: FixedWidthInteger & UnsignedInteger>(
    _ s: UnsafeBufferPointer<Symbol>, alphabetSize k: Int, depth: Int = 128
) -> Estimate {
    guard s.count > 2 else { return Estimate(.lag, nil) }
    let tally = k == 2 && depth == lagDepth ? binaryLagTally(s) : lagTally(s, alphabetSize: k, depth: depth)
    return predictionEstimate(.lag, tally, alphabetSize: k)
}

private let lagDepth = 128

/// Any alphabet: only the lags whose sample equals the new one score, so each sample walks the chain of earlier
/// occurrences of its own value, nearest first, back 128 samples. That is the standard's loop restricted to the
/// lags that change, in the same order.
func lagTally<Symbol: FixedWidthInteger & UnsignedInteger>(
    _ s: UnsafeBufferPointer<Symbol>, alphabetSize k: Int, depth: Int = 128
) -> PredictorTally {
    var scores = [Int](repeating: 0, count: depth + 1)
    var previousSame = [Int32](repeating: -1, count: s.count)
    var last = [Int32](repeating: -1, count: k)
    var winner = 1
    var high = 0
    var score = PredictionScore()
    scores.withUnsafeMutableBufferPointer { scores in
        previousSame.withUnsafeMutableBufferPointer { previousSame in
            last[Int(s[0])] = 0
            for i in 1..<s.count {
                let symbol = s[i]
                score.record(symbol == s[i - winner])
                var j = Int(last[Int(symbol)])
                while j >= 0 && i - j <= depth {
                    let d = i - j
                    scores[d] += 1
                    if scores[d] >= high {
                        winner = d
                        high = scores[d]
                    }
                    j = Int(previousSame[j])
                }
                previousSame[i] = last[Int(symbol)]
                last[Int(symbol)] = Int32(i)
            }
        }
    }
    return PredictorTally(predictions: s.count - 1, score: score)
}

/// Binary samples: about 64 lags score at every bit, so the bits are taken 64 at a time. For each lag one XOR gives
/// the 64 agreements of the block; a lag whose score plus its agreements in the block cannot reach the current high
/// score cannot become the winner within the block, and its score is just advanced by the popcount. Only the rest
/// (typically one to three lags) are stepped bit by bit, in increasing lag order, exactly as the standard's loop.
func binaryLagTally<Symbol: FixedWidthInteger & UnsignedInteger>(_ s: UnsafeBufferPointer<Symbol>) -> PredictorTally {
    let length = s.count
    var words = [UInt64](repeating: 0, count: (length + 63) / 64 + 2)
    for i in 0..<length where s[i] != 0 { words[i >> 6] |= 1 << UInt64(63 - (i & 63)) }
    var scores = [Int](repeating: 0, count: lagDepth + 1)
    var agreements = [UInt64](repeating: 0, count: lagDepth + 1)
    var candidates = [Int](repeating: 0, count: lagDepth)
    var winner = 1
    var high = 0
    var score = PredictionScore()
    let direct = min(length, 4 * 64)
    scores.withUnsafeMutableBufferPointer { scores in
        // The first samples, where not every lag exists yet, sample by sample.
        for i in 1..<direct {
            let bit = s[i]
            score.record(bit == s[i - winner])
            for d in 1...min(i, lagDepth) where s[i - d] == bit {
                scores[d] += 1
                if scores[d] >= high {
                    winner = d
                    high = scores[d]
                }
            }
        }
        words.withUnsafeBufferPointer { words in
            agreements.withUnsafeMutableBufferPointer { agreements in
                candidates.withUnsafeMutableBufferPointer { candidates in
                    @inline(__always) func window(_ position: Int) -> UInt64 {
                        let index = position >> 6
                        let shift = UInt64(position & 63)
                        let first = words[index] << shift
                        return shift == 0 ? first : first | (words[index + 1] >> (64 - shift))
                    }
                    var start = direct
                    while start < length {
                        let count = min(64, length - start)
                        let mask: UInt64 = count == 64 ? .max : ~(UInt64.max >> UInt64(count))
                        let current = window(start)
                        var candidateCount = 0
                        for d in 1...lagDepth {
                            let agree = ~(current ^ window(start - d)) & mask
                            agreements[d] = agree
                            if scores[d] + agree.nonzeroBitCount >= high {
                                candidates[candidateCount] = d
                                candidateCount += 1
                            } else {
                                scores[d] += agree.nonzeroBitCount
                            }
                        }
                        for t in 0..<count {
                            let bit = UInt64(1) << UInt64(63 - t)
                            score.record(agreements[winner] & bit != 0)
                            for c in 0..<candidateCount {
                                let d = candidates[c]
                                if agreements[d] & bit != 0 {
                                    scores[d] += 1
                                    if scores[d] >= high {
                                        winner = d
                                        high = scores[d]
                                    }
                                }
                            }
                        }
                        start += count
                    }
                }
            }
        }
    }
    return PredictorTally(predictions: length - 1, score: score)
}
