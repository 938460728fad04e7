// SP 800-90B's continuous tests over a buffer of samples: whole words or blocks at a time through the kernels,
// one sample at a time only where a test may fail, with start-up accounting.
extension HealthMonitor {
    /// Advances start-up by `passed` samples that passed, the last of them just before stream offset `end`;
    /// returns whether start-up has just completed.
    @inline(__always)
    mutating func advanceStartup(by passed: Int, endingAt end: UInt64) -> Bool {
        guard case .startingUp(let remaining) = state else { return false }
        if remaining == passed {
            state = .healthy
            ledger.discard(upTo: end, as: .startup)
            return true
        }
        state = .startingUp(remainingSamples: remaining - passed)
        return false
    }

    /// Tests one sample at `index` of the buffer that starts at stream offset `first`; returns `false` when the
    /// failure is permanent.
    @inline(__always)
    mutating func testOne(
        _ sample: UInt16, index: Int, first: UInt64, keptFrom: inout Int?, segmentStart: inout Int,
        failures: inout [HealthFailure]
    ) -> Bool {
        let rctFailed = repetitionCount.feed(sample)
        let aptFailed = adaptiveProportion.feed(sample)
        if rctFailed || aptFailed {
            let failure = recordTestFailure(rctFailed, at: first + UInt64(index))
            failures.append(failure)
            keptFrom = nil
            segmentStart = index + 1
            return !failure.permanent
        }
        if advanceStartup(by: 1, endingAt: first + UInt64(index + 1)) { keptFrom = index + 1 }
        return true
    }

    mutating func testBinary(
        _ words: UnsafeBufferPointer<UInt64>, count: Int, keptFrom: inout Int?, segmentStart: inout Int,
        failures: inout [HealthFailure]
    ) {
        let first = samplesTested
        var index = 0
        while index < count {
            var end = count
            if case .startingUp(let remaining) = state { end = min(count, index + remaining) }
            if !testsSampleBySample {
                let reached = BinaryKernel.run(
                    words, from: index, to: end, rct: &repetitionCount, apt: &adaptiveProportion)
                if reached > index {
                    if advanceStartup(by: reached - index, endingAt: first + UInt64(reached)) { keptFrom = reached }
                    index = reached
                }
                if index == end { continue }
            }
            // A word in which a test fails (or the plain path): one sample at a time, to the end of that word.
            let stop = testsSampleBySample ? end : min(end, index + 64)
            while index < stop {
                let bit = UInt16(truncatingIfNeeded: words[index >> 6] >> UInt64(63 - (index & 63))) & 1
                let wasStartingUp = state != .healthy
                guard testOne(
                    bit, index: index, first: first, keptFrom: &keptFrom, segmentStart: &segmentStart,
                    failures: &failures)
                else { return }
                index += 1
                // A failure or the end of start-up changes the stretch: go back to the outer loop.
                if segmentStart == index || (wasStartingUp && state == .healthy) { break }
            }
        }
    }

    mutating func testWide(
        _ values: UnsafeBufferPointer<UInt16>, keptFrom: inout Int?, segmentStart: inout Int,
        failures: inout [HealthFailure]
    ) {
        let first = samplesTested
        let count = values.count
        var index = 0
        while index < count {
            var end = count
            if case .startingUp(let remaining) = state { end = min(count, index + remaining) }
            var stop = end
            if !testsSampleBySample {
                let (reached, blockEnd) = WideKernel.run(
                    values, from: index, to: end, rct: &repetitionCount, apt: &adaptiveProportion)
                if reached > index {
                    if advanceStartup(by: reached - index, endingAt: first + UInt64(reached)) { keptFrom = reached }
                    index = reached
                }
                if index == end { continue }
                stop = blockEnd
            }
            while index < stop {
                let wasStartingUp = state != .healthy
                guard testOne(
                    values[index], index: index, first: first, keptFrom: &keptFrom, segmentStart: &segmentStart,
                    failures: &failures)
                else { return }
                index += 1
                if segmentStart == index || (wasStartingUp && state == .healthy) { break }
            }
        }
    }
}
