/// Pearson autocorrelation at lags 1…k over windows of samples.
///
/// One-bit samples are collected into whole 64-bit words; for a word w and the word before it p, the samples
/// `lag` earlier are (w >> lag) | (p << (64 − lag)), so the products x_i·x_{i−lag} summed over a word are one AND
/// and one population count. Pairs that would reach back before the window's first sample are left out.
struct AutocorrelationWindow: Sendable {
    let maxLag: Int
    let windowSamples: Int
    let bitsPerSample: Int
    /// Φ⁻¹(1 − α/(2k)): the two-sided Bonferroni threshold for |z|.
    let threshold: Double

    var windowStart: UInt64?
    var clearedBefore: UInt64 = 0
    var seen = 0
    /// Σ x_i·x_{i−lag} over the window, for lag 1…k (index lag − 1).
    var products: [UInt64]
    var sum: UInt64 = 0
    var sumOfSquares: UInt64 = 0
    // One-bit samples: the partial word being collected and the last whole word.
    var pending: UInt64 = 0
    var pendingCount = 0
    var previousWord: UInt64 = 0
    /// Whole words collected but not yet added to the sums.
    var words: [UInt64] = []
    // Wide samples: the last k values of the window, newest last.
    var history: [UInt16] = []

    init(maxLag: Int, windowSamples: Int, bitsPerSample: Int, alpha: ErrorProbability) {
        self.maxLag = maxLag
        self.windowSamples = windowSamples
        self.bitsPerSample = bitsPerSample
        self.threshold = MonitorStatistics.normalUpperQuantile(alpha.value / Double(2 * maxLag))
        self.products = Array(repeating: 0, count: maxLag)
    }

    mutating func restart() {
        windowStart = nil
        startWindow()
        pending = 0
        pendingCount = 0
    }

    private mutating func startWindow() {
        seen = 0
        for index in products.indices { products[index] = 0 }
        sum = 0
        sumOfSquares = 0
        previousWord = 0
        words.removeAll(keepingCapacity: true)
        history.removeAll(keepingCapacity: true)
    }

    mutating func feed(bits: BitBuffer, range: Range<Int>, offset: UInt64, alarms: inout [MonitorAlarm]) {
        guard !range.isEmpty else { return }
        if windowStart == nil { windowStart = offset - UInt64(pendingCount) }
        var position = range.lowerBound
        // The stream offset of the first bit of `pending`.
        var pendingOffset = offset - UInt64(pendingCount)
        while position < range.upperBound {
            let width = min(64 - pendingCount, range.upperBound - position)
            let chunk = bits.word(atBit: position, width: width)
            pending |= chunk >> UInt64(pendingCount)
            pendingCount += width
            position += width
            guard pendingCount == 64 else { break }
            let lastOffset = pendingOffset + 63
            add(word: pending)
            pending = 0
            pendingCount = 0
            pendingOffset += 64
            if seen == windowSamples { evaluate(lastSample: lastOffset, next: pendingOffset, alarms: &alarms) }
        }
    }

    /// The window's sums so far: Σ x and Σ x_i·x_{i−lag} per lag (for the tests' reference computation).
    mutating func sums() -> (sum: UInt64, products: [UInt64]) {
        flushWords()
        return (sum, products)
    }

    private mutating func add(word: UInt64) {
        words.append(word)
        seen += 64
        if words.count == 1024 { flushWords() }
    }

    /// Adds the collected words to the sums, one lag at a time over all of them: with the shift the same for the
    /// whole loop, the optimiser vectorises the AND and the population count.
    private mutating func flushWords() {
        guard !words.isEmpty else { return }
        words.withUnsafeBufferPointer { words in
            let count = words.count
            var ones = 0
            for word in words { ones &+= word.nonzeroBitCount }
            sum += UInt64(ones)
            sumOfSquares += UInt64(ones)
            for lag in 1...maxLag {
                let right = UInt64(lag)
                let left = UInt64(64 - lag)
                var total = (words[0] & (words[0] >> right | previousWord << left)).nonzeroBitCount
                for index in 1..<count {
                    total &+= (words[index] & (words[index] >> right | words[index &- 1] << left)).nonzeroBitCount
                }
                products[lag - 1] += UInt64(total)
            }
            previousWord = words[count - 1]
        }
        words.removeAll(keepingCapacity: true)
    }

    mutating func feed(values: UnsafeBufferPointer<UInt16>, offset: UInt64, alarms: inout [MonitorAlarm]) {
        var index = 0
        while index < values.count {
            if windowStart == nil { windowStart = offset + UInt64(index) }
            let taking = min(windowSamples - seen, values.count - index)
            let slice = UnsafeBufferPointer(rebasing: values[index..<index + taking])
            add(values: slice)
            index += taking
            if seen == windowSamples {
                evaluate(lastSample: offset + UInt64(index) - 1, next: offset + UInt64(index), alarms: &alarms)
            }
        }
    }

    private mutating func add(values: UnsafeBufferPointer<UInt16>) {
        let count = values.count
        for value in values {
            sum += UInt64(value)
            sumOfSquares += UInt64(value) * UInt64(value)
        }
        // Pairs whose earlier sample is in `history`, then pairs inside `values`.
        for lag in 1...maxLag {
            var total: UInt64 = 0
            for index in 0..<min(lag, count) where history.count >= lag - index {
                total += UInt64(values[index]) * UInt64(history[history.count - (lag - index)])
            }
            if count > lag {
                total &+= Self.laggedProducts(values.baseAddress!, count: count, lag: lag, narrow: bitsPerSample <= 8)
            }
            products[lag - 1] += total
        }
        history.append(contentsOf: values.suffix(maxLag))
        if history.count > maxLag { history.removeFirst(history.count - maxLag) }
        seen += count
    }

    /// Σ x[i]·x[i − lag] for i in lag..<count.
    ///
    /// Samples of up to 8 bits have products below 2¹⁶, so eight of them are formed in one SIMD multiply of 16-bit
    /// lanes and summed in 32-bit lanes, which cannot overflow within a block of 8192 samples.
    static func laggedProducts(_ base: UnsafePointer<UInt16>, count: Int, lag: Int, narrow: Bool) -> UInt64 {
        var total: UInt64 = 0
        var index = lag
        if narrow {
            while index &+ 8 <= count {
                let blockEnd = min(count, index &+ 8192)
                var lanes = SIMD8<UInt32>()
                while index &+ 8 <= blockEnd {
                    let current = UnsafeRawPointer(base + index).loadUnaligned(as: SIMD8<UInt16>.self)
                    let earlier = UnsafeRawPointer(base + (index &- lag)).loadUnaligned(as: SIMD8<UInt16>.self)
                    lanes &+= SIMD8<UInt32>(truncatingIfNeeded: current &* earlier)
                    index &+= 8
                }
                for lane in 0..<8 { total &+= UInt64(lanes[lane]) }
            }
        }
        while index < count {
            total &+= UInt64(base[index]) &* UInt64(base[index &- lag])
            index &+= 1
        }
        return total
    }

    /// At the end of input, evaluates the unfinished window when it holds at least `minimumSamples` samples (z is
    /// as valid for a shorter window as for a full one), and returns the stream offset before which every sample
    /// has been through an evaluated window.
    ///
    /// One-bit samples after the last whole word are never evaluated: at most 63.
    mutating func finish(minimumSamples: Int, end: UInt64, alarms: inout [MonitorAlarm]) -> UInt64 {
        guard let start = windowStart else { return end }
        guard seen >= minimumSamples else { return start }
        let evaluatedEnd = start + UInt64(seen)
        evaluate(lastSample: evaluatedEnd - 1, next: evaluatedEnd, alarms: &alarms)
        return evaluatedEnd
    }

    private mutating func evaluate(lastSample: UInt64, next: UInt64, alarms: inout [MonitorAlarm]) {
        flushWords()
        let n = Double(seen)
        let mean = Double(sum) / n
        let variance = Double(sumOfSquares) / n - mean * mean
        if variance > 0 {
            var worst = 0.0
            var worstLag = 1
            var worstR = 0.0
            for lag in 1...maxLag {
                let pairs = n - Double(lag)
                let r = (Double(products[lag - 1]) / pairs - mean * mean) / variance
                let z = r * pairs.squareRoot()
                if abs(z) > abs(worst) {
                    worst = z
                    worstLag = lag
                    worstR = r
                }
            }
            if abs(worst) > threshold {
                alarms.append(
                    MonitorAlarm(
                        monitor: .autocorrelation, value: abs(worst), threshold: threshold, sampleOffset: lastSample,
                        pulseOffset: nil, detail: "|z| at lag \(worstLag) (r = \(worstR)) over \(seen) samples"))
            }
        }
        if let windowStart { clearedBefore = windowStart }
        windowStart = next
        startWindow()
    }
}
