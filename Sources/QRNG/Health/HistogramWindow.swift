#if canImport(Glibc)
import Glibc
#endif

/// The histogram of the top b = min(k, 8) bits of each sample over a window, against a reference histogram.
struct HistogramWindow: Sendable {
    let windowSamples: Int
    let shift: UInt16
    let bins: Int
    let alpha: ErrorProbability
    let supplied: [Double]?

    var windowStart: UInt64?
    var clearedBefore: UInt64 = 0
    var counts: [UInt32]
    var seen = 0
    /// Which merged group each bin belongs to, and the reference per group: counts (learned) or probabilities.
    var groupOfBin: [Int] = []
    var referenceCounts: [Double] = []
    var referenceIsProbability = false
    var criticalValue = 0.0

    init(settings: PhotonMonitorSettings.HistogramDrift, bitsPerSample: Int, alpha: ErrorProbability) {
        let topBits = min(bitsPerSample, 8)
        self.windowSamples = settings.windowSamples
        self.shift = UInt16(bitsPerSample - topBits)
        self.bins = 1 << topBits
        self.alpha = alpha
        self.supplied = settings.reference
        self.counts = Array(repeating: 0, count: 1 << topBits)
        if let reference = settings.reference {
            let total = reference.reduce(0, +)
            setReference(reference.map { $0 / total * Double(settings.windowSamples) }, probabilities: true)
        }
    }

    mutating func restart() {
        windowStart = nil
        seen = 0
        for index in counts.indices { counts[index] = 0 }
    }

    mutating func forgetReference() {
        guard supplied == nil else { return }
        groupOfBin = []
        referenceCounts = []
    }

    /// Merges neighbouring bins until each group expects at least 32 samples, and fixes the critical value.
    private mutating func setReference(_ expected: [Double], probabilities: Bool) {
        var groups: [Double] = []
        var groupOf = [Int](repeating: 0, count: bins)
        var running = 0.0
        for bin in 0..<bins {
            groupOf[bin] = groups.count
            running += expected[bin]
            if running >= 32 {
                groups.append(running)
                running = 0
            }
        }
        // The bins after the last full group join it, even when they expect nothing (wide samples whose top bits
        // are zero): every bin must belong to a group.
        if groups.isEmpty {
            groups.append(running)
        } else {
            groups[groups.count - 1] += running
            for bin in 0..<bins where groupOf[bin] == groups.count { groupOf[bin] = groups.count - 1 }
        }
        groupOfBin = groupOf
        referenceCounts = groups
        referenceIsProbability = probabilities
        criticalValue =
            groups.count > 1
            ? MonitorStatistics.chiSquareUpperQuantile(degreesOfFreedom: groups.count - 1, tail: alpha.value) : 0
    }

    mutating func feed(values: UnsafeBufferPointer<UInt16>, offset: UInt64, alarms: inout [MonitorAlarm]) {
        var index = 0
        while index < values.count {
            if windowStart == nil { windowStart = offset + UInt64(index) }
            let taking = min(windowSamples - seen, values.count - index)
            counts.withUnsafeMutableBufferPointer { counts in
                for value in values[index..<index + taking] { counts[Int(value >> shift)] += 1 }
            }
            seen += taking
            index += taking
            if seen == windowSamples {
                evaluate(lastSample: offset + UInt64(index) - 1, next: offset + UInt64(index), alarms: &alarms)
            }
        }
    }

    /// At the end of input, compares the unfinished window with the reference when it holds at least
    /// `minimumSamples` samples, and returns the stream offset before which every sample has been compared.
    /// A first window cut short has no reference to be compared with, so its samples stay unevaluated.
    mutating func finish(minimumSamples: Int, end: UInt64, alarms: inout [MonitorAlarm]) -> UInt64 {
        guard let start = windowStart else { return end }
        guard seen >= minimumSamples, !referenceCounts.isEmpty else { return start }
        let evaluatedEnd = start + UInt64(seen)
        evaluate(lastSample: evaluatedEnd - 1, next: evaluatedEnd, alarms: &alarms)
        return evaluatedEnd
    }

    /// Compares the window's `seen` samples with the reference (a full window learns it when there is none).
    private mutating func evaluate(lastSample: UInt64, next: UInt64, alarms: inout [MonitorAlarm]) {
        if referenceCounts.isEmpty {
            setReference(counts.map(Double.init), probabilities: false)
        } else if referenceCounts.count > 1 {
            var observed = [Double](repeating: 0, count: referenceCounts.count)
            for bin in 0..<bins { observed[groupOfBin[bin]] += Double(counts[bin]) }
            // The window may be shorter than the reference's (at the end of input): R and S are the two totals.
            let referenceTotal = Double(windowSamples)
            let currentTotal = Double(seen)
            var chiSquare = 0.0
            for group in referenceCounts.indices {
                let reference = referenceCounts[group]
                let current = observed[group]
                if referenceIsProbability {
                    let expected = reference * currentTotal / referenceTotal
                    chiSquare += (current - expected) * (current - expected) / expected
                } else if reference + current > 0 {
                    // Two samples: Σ (√(S/R)·R_i − √(R/S)·S_i)² / (R_i + S_i), chi-square with groups − 1 degrees;
                    // for equal totals Σ (R_i − S_i)² / (R_i + S_i).
                    let difference =
                        (currentTotal / referenceTotal).squareRoot() * reference
                        - (referenceTotal / currentTotal).squareRoot() * current
                    chiSquare += difference * difference / (reference + current)
                }
            }
            if chiSquare > criticalValue {
                let degrees = referenceCounts.count - 1
                let pValue = SpecialFunctions.igamc(Double(degrees) / 2, chiSquare / 2)
                alarms.append(
                    MonitorAlarm(
                        monitor: .histogramDrift, value: chiSquare, threshold: criticalValue, sampleOffset: lastSample,
                        pulseOffset: nil,
                        detail: "chi-square of the histogram of \(seen) samples against the reference window, "
                            + "\(degrees) degrees of freedom, P-value \(pValue) (the arrival-time distribution changed; "
                            + "--monitors warn reports such alarms without gating)"))
            }
        }
        if let windowStart { clearedBefore = windowStart }
        windowStart = next
        seen = 0
        for index in counts.indices { counts[index] = 0 }
    }
}
