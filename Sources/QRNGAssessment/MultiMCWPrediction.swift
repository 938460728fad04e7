import QRNG

/// SP 800-90B §6.3.7, the Multi Most Common in Window prediction estimate.
///
/// Four subpredictors predict the most common value of the last w = 63, 255, 1023, 4095 samples, ties going to the
/// value seen most recently; the one with the best score so far (ties to the larger window) makes the prediction.
/// N = L − 63 predictions, from sample 63 on. As in the tool, a window that is not yet full keeps the most common
/// value of the first w samples and does not score until i ≥ w.
func multiMCWEstimate<Symbol: FixedWidthInteger & UnsignedInteger>(
    _ s: UnsafeBufferPointer<Symbol>, alphabetSize k: Int, windows: [Int] = [63, 255, 1023, 4095]
) -> Estimate {
    guard s.count >= windows[windows.count - 1] + 1 else { return Estimate(.multiMCW, nil) }
    let oddWindows = windows.allSatisfy { $0 & 1 == 1 }
    let tally = k == 2 && oddWindows
        ? binaryMultiMCW(s, windows: windows) : multiMCW(s, alphabetSize: k, windows: windows)
    return predictionEstimate(.multiMCW, tally, alphabetSize: k)
}

/// Binary samples in odd windows (all of the standard's are): the most common value is the majority, never tied.
private func binaryMultiMCW<Symbol: FixedWidthInteger & UnsignedInteger>(
    _ s: UnsafeBufferPointer<Symbol>, windows: [Int]
) -> PredictorTally {
    let length = s.count
    var ones = [Int32](repeating: 0, count: length + 1)  // ones[i] = number of ones in s[0..<i]
    for i in 0..<length { ones[i + 1] = ones[i] &+ Int32(truncatingIfNeeded: s[i]) }
    var scores = [Int](repeating: 0, count: windows.count)
    var winner = 0
    var score = PredictionScore()
    ones.withUnsafeBufferPointer { ones in
        func majority(_ j: Int, at i: Int) -> Symbol {
            let w = windows[j]
            let start = i >= w ? i - w : 0
            let count = Int(ones[start + w] - ones[start])
            return count * 2 > w ? 1 : 0
        }
        for i in windows[0]..<length {
            let symbol = s[i]
            score.record(majority(winner, at: i) == symbol)
            for j in 0..<windows.count where i >= windows[j] && majority(j, at: i) == symbol {
                scores[j] += 1
                if scores[j] >= scores[winner] { winner = j }
            }
        }
    }
    return PredictorTally(predictions: length - windows[0], score: score)
}

/// Any alphabet: per-window counts and a count-of-counts table keep the maximum; when the most common value leaves
/// the window the new one is found by scanning the window backwards for the first value with the maximal count,
/// which is the value whose last occurrence is the most recent (the tool's tie rule).
private func multiMCW<Symbol: FixedWidthInteger & UnsignedInteger>(
    _ s: UnsafeBufferPointer<Symbol>, alphabetSize k: Int, windows: [Int]
) -> PredictorTally {
    var state = windows.map {
        MCWWindow(
            width: $0, counts: [Int32](repeating: 0, count: k), countOfCounts: [Int32](repeating: 0, count: $0 + 2))
    }
    for j in 0..<windows.count {
        state[j].countOfCounts[0] = Int32(k)
        for i in 0..<state[j].width {
            let symbol = Int(s[i])
            let count = Int(state[j].counts[symbol]) + 1
            state[j].counts[symbol] = Int32(count)
            state[j].countOfCounts[count - 1] -= 1
            state[j].countOfCounts[count] += 1
            if count >= state[j].maxCount {
                state[j].maxCount = count
                state[j].frequent = symbol
            }
        }
    }
    var scores = [Int](repeating: 0, count: windows.count)
    var winner = 0
    var score = PredictionScore()
    for i in windows[0]..<s.count {
        let symbol = Int(s[i])
        score.record(state[winner].frequent == symbol)
        for j in 0..<windows.count where i >= windows[j] && state[j].frequent == symbol {
            scores[j] += 1
            if scores[j] >= scores[winner] { winner = j }
        }
        for j in 0..<windows.count where i >= windows[j] {
            let w = state[j].width
            let outgoing = Int(s[i - w])
            let old = Int(state[j].counts[outgoing])
            state[j].counts[outgoing] = Int32(old - 1)
            state[j].countOfCounts[old] -= 1
            state[j].countOfCounts[old - 1] += 1
            let before = Int(state[j].counts[symbol])
            state[j].counts[symbol] = Int32(before + 1)
            state[j].countOfCounts[before] -= 1
            state[j].countOfCounts[before + 1] += 1
            if outgoing != state[j].frequent {
                if before + 1 >= state[j].maxCount {
                    state[j].maxCount = before + 1
                    state[j].frequent = symbol
                }
            } else {
                var maximum = state[j].maxCount + 1
                while state[j].countOfCounts[maximum] == 0 { maximum -= 1 }
                state[j].maxCount = maximum
                var position = i
                while Int(state[j].counts[Int(s[position])]) != maximum { position -= 1 }
                state[j].frequent = Int(s[position])
            }
        }
    }
    return PredictorTally(predictions: s.count - windows[0], score: score)
}

/// The state of one MultiMCW window over a non-binary alphabet.
private struct MCWWindow {
    let width: Int
    var counts: [Int32]
    var countOfCounts: [Int32]
    var maxCount = 0
    var frequent = 0
}
