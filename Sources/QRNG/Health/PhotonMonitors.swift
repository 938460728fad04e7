#if canImport(Glibc)
import Glibc
#endif

/// The photon monitors' windows and thresholds: checks beyond SP 800-90B that watch the physics of a
/// beam-splitter or arrival-time source (PHYSICS.md §3–§5).
///
/// Three monitors read the detector counters a source reports (``SourceCounters``), over windows of
/// ``pulseWindow`` pulses (2¹⁸ by default, 3.3 ms at 80 MHz); two read the samples themselves. The windows are
/// short because output waits for two of them (see ``HealthMonitor``); longer windows detect smaller drifts.
///
/// | Monitor | Statistic | Alarm when | Default |
/// |---|---|---|---|
/// | click rate | clicked pulses / pulses | outside the Chernoff interval around the expected band | band ±25 % |
/// | g2(0) | N_both·N / (N_D0·N_D1) | its lower confidence limit (Poisson on N_both) exceeds the threshold | 0.5 |
/// | D0/D1 bias | D0-only / single clicks | outside the Chernoff interval around the band of p0 | claimed H's band |
/// | autocorrelation | Pearson r at lags 1…k, z = r·√n | max \|z\| over the lags exceeds Φ⁻¹(1 − α/2k) | k = 8 |
/// | histogram drift | χ² of a window's histogram against the reference | P-value below α | 2¹⁶ samples |
///
/// **False alarms.** Each monitor alarms on a healthy source with probability at most ``alpha`` per window:
/// - Click rate and bias: a proportion p̂ of n trials with true value p passes the limit a > p with probability at
///   most exp(−n·D(a ‖ p)) (Chernoff), so limits with n·D = ln(2/α) on either side bound the two tails by α/2
///   each, for any true value inside the band. This is a bound, not an approximation.
/// - g2(0): the lower limit λ_lo with P[Poisson(λ_lo) ≥ N_both] = α exceeds the true mean with probability at
///   most α (the singles are treated as exact: with 10⁵ or more per window their relative error is below 1 %).
/// - Autocorrelation: under independence z is approximately standard normal at each lag; Bonferroni over k lags
///   splits α. The normal approximation is only approximate this far in the tail; `qrng bench
///   health/false-alarms` measures it.
/// - Histogram drift: the chi-square approximation, with bins merged until each holds at least 32 reference
///   samples, since sparse bins make the tail anti-conservative.
public struct PhotonMonitorSettings: Sendable, Hashable {
    /// The click-rate monitor: the fraction of pulses with a click, against an expected rate.
    public struct ClickRate: Sendable, Hashable {
        /// The expected clicks per pulse; `nil` learns it from the first complete window.
        public var expected: Double?
        /// How far the true rate may drift, relatively, before it counts as a fault (lasers and dots drift).
        public var relativeTolerance: Double

        /// A click-rate monitor expecting `expected` clicks per pulse (learned when `nil`), ±`relativeTolerance`.
        public init(expected: Double? = nil, relativeTolerance: Double = 0.25) {
            self.expected = expected
            self.relativeTolerance = relativeTolerance
        }
    }

    /// The g2(0) monitor: the pulsed Hanbury Brown–Twiss estimate from double clicks.
    public struct SecondOrderCoherence: Sendable, Hashable {
        /// The alarm threshold for the lower confidence limit of g2(0): 0.5 separates single-photon light from
        /// multi-photon light (a laser, a failing dot, a bright-light attack gives g2(0) ≥ 1).
        public var threshold: Double

        /// A g2(0) monitor alarming when the lower confidence limit exceeds `threshold`.
        public init(threshold: Double = 0.5) { self.threshold = threshold }
    }

    /// The bias monitor: the fraction of single clicks on D0.
    public struct DetectorBias: Sendable, Hashable {
        /// The band p0 may lie in; `nil` takes [1 − 2⁻ᴴ, 2⁻ᴴ] for the claimed min-entropy H, so that the
        /// monitor alarms exactly when the claim is no longer credible.
        public var expectedP0: ClosedRange<Double>?

        /// A bias monitor with p0 expected in `expectedP0` (the claimed min-entropy's band when `nil`).
        public init(expectedP0: ClosedRange<Double>? = nil) { self.expectedP0 = expectedP0 }
    }

    /// The autocorrelation monitor: correlation between samples `lag` apart, for lag = 1 … `maxLag`.
    public struct Autocorrelation: Sendable, Hashable {
        /// The largest lag, 1 to 63.
        public var maxLag: Int
        /// Samples per window; `nil` is 2¹⁶.
        public var windowSamples: Int?

        /// An autocorrelation monitor at lags 1…`maxLag` over windows of `windowSamples` samples.
        public init(maxLag: Int = 8, windowSamples: Int? = nil) {
            self.maxLag = maxLag
            self.windowSamples = windowSamples
        }
    }

    /// The histogram-drift monitor: the distribution of sample values against a reference (samples of 2 bits
    /// or more; arrival times drift when the emitter's lifetime or the timing does).
    public struct HistogramDrift: Sendable, Hashable {
        /// Samples per window.
        public var windowSamples: Int
        /// The reference probabilities of the 2ᵇ bins of the top b = min(k, 8) bits of a sample; `nil` learns
        /// them from the first complete window.
        public var reference: [Double]?

        /// A histogram-drift monitor over windows of `windowSamples` samples, against `reference` (learned when
        /// `nil`).
        public init(windowSamples: Int = 1 << 16, reference: [Double]? = nil) {
            self.windowSamples = windowSamples
            self.reference = reference
        }
    }

    /// The false-alarm probability of each monitor per window.
    public var alpha: ErrorProbability
    /// Pulses per window of the counter monitors (click rate, g2(0), bias).
    public var pulseWindow: UInt64
    /// The click-rate monitor, or `nil` to turn it off.
    public var clickRate: ClickRate?
    /// The g2(0) monitor, or `nil` to turn it off.
    public var secondOrderCoherence: SecondOrderCoherence?
    /// The D0/D1 bias monitor, or `nil` to turn it off.
    public var detectorBias: DetectorBias?
    /// The autocorrelation monitor, or `nil` to turn it off.
    public var autocorrelation: Autocorrelation?
    /// The histogram-drift monitor (samples of 2 bits or more), or `nil` to turn it off.
    public var histogramDrift: HistogramDrift?

    /// Monitors with the given settings; every monitor is on by default, with the documented defaults.
    public init(
        alpha: ErrorProbability = .defaultAlpha, pulseWindow: UInt64 = 1 << 18,
        clickRate: ClickRate? = ClickRate(), secondOrderCoherence: SecondOrderCoherence? = SecondOrderCoherence(),
        detectorBias: DetectorBias? = DetectorBias(), autocorrelation: Autocorrelation? = Autocorrelation(),
        histogramDrift: HistogramDrift? = HistogramDrift()
    ) {
        self.alpha = alpha
        self.pulseWindow = pulseWindow
        self.clickRate = clickRate
        self.secondOrderCoherence = secondOrderCoherence
        self.detectorBias = detectorBias
        self.autocorrelation = autocorrelation
        self.histogramDrift = histogramDrift
    }

    /// Only the monitors that read samples (autocorrelation, histogram drift), as for a file of samples.
    public static func samplesOnly(alpha: ErrorProbability = .defaultAlpha) -> PhotonMonitorSettings {
        PhotonMonitorSettings(alpha: alpha, clickRate: nil, secondOrderCoherence: nil, detectorBias: nil)
    }

    func validate(bitsPerSample: Int) throws(QRNGError) {
        guard pulseWindow >= 1024 else {
            throw .invalidArgument("pulse window", "must be at least 1024 pulses, got \(pulseWindow)")
        }
        if let clickRate {
            if let expected = clickRate.expected, !(expected > 0 && expected < 1) {
                throw .invalidArgument("expected click rate", "must be in (0, 1) per pulse, got \(expected)")
            }
            guard clickRate.relativeTolerance >= 0 && clickRate.relativeTolerance < 1 else {
                throw .invalidArgument("click-rate tolerance", "must be in [0, 1), got \(clickRate.relativeTolerance)")
            }
        }
        if let band = detectorBias?.expectedP0, !(band.lowerBound > 0 && band.upperBound < 1) {
            throw .invalidArgument("expected p0", "must lie in (0, 1), got \(band)")
        }
        if let autocorrelation {
            guard (1...63).contains(autocorrelation.maxLag) else {
                throw .invalidArgument("autocorrelation lags", "must be 1 to 63, got \(autocorrelation.maxLag)")
            }
            if let window = autocorrelation.windowSamples, window < 1024 || (bitsPerSample == 1 && window % 64 != 0) {
                throw .invalidArgument(
                    "autocorrelation window",
                    "must be at least 1024 samples (a multiple of 64 for bits), got \(window)")
            }
        }
        if let histogramDrift {
            guard histogramDrift.windowSamples >= 1024 else {
                throw .invalidArgument(
                    "histogram window", "must be at least 1024 samples, got \(histogramDrift.windowSamples)")
            }
            if let reference = histogramDrift.reference {
                let bins = 1 << min(bitsPerSample, 8)
                guard reference.count == bins, reference.allSatisfy({ $0 >= 0 && $0.isFinite }),
                    reference.reduce(0, +) > 0
                else {
                    throw .invalidArgument(
                        "histogram reference", "must hold \(bins) non-negative weights, got \(reference.count)")
                }
            }
        }
    }
}

/// An alarm of one photon monitor, before the health monitor turns it into a ``HealthFailure``.
struct MonitorAlarm: Sendable, Hashable {
    var monitor: HealthTestKind
    var value: Double
    var threshold: Double
    var sampleOffset: UInt64
    var pulseOffset: UInt64?
    var detail: String
}

/// The running photon monitors of one ``HealthMonitor``.
///
/// Each monitor works on windows: the counter monitors on windows of pulses, the sample monitors on windows of
/// samples. A monitor notices a fault only when a window ends, and a fault that begins late in one window may
/// only show in the next. So ``clearedBefore`` is the stream offset of the first sample of the most recently
/// completed window: a sample before it has been followed by one complete window without an alarm, as the
/// Adaptive Proportion Test's holdback of 2W does for its windows.
struct PhotonMonitors: Sendable {
    let settings: PhotonMonitorSettings
    let bitsPerSample: Int
    let claimedMinEntropy: Double
    /// ln(2/α): the Chernoff exponent of each side of a two-sided limit.
    private let chernoffExponent: Double

    /// Samples before this stream offset passed every gating monitor.
    private(set) var clearedBefore: UInt64 = 0
    private var counters = CounterWindow()
    private var autocorrelation: AutocorrelationWindow?
    private var histogram: HistogramWindow?
    private var learnedClickRate: Double?
    private var alarms: [MonitorAlarm] = []

    init(settings: PhotonMonitorSettings, bitsPerSample: Int, claimedMinEntropy: Double) throws(QRNGError) {
        try settings.validate(bitsPerSample: bitsPerSample)
        self.settings = settings
        self.bitsPerSample = bitsPerSample
        self.claimedMinEntropy = claimedMinEntropy
        self.chernoffExponent = (settings.alpha.negativeLog2 + 1) * M_LN2
        if let autocorrelation = settings.autocorrelation {
            self.autocorrelation = AutocorrelationWindow(
                maxLag: autocorrelation.maxLag,
                windowSamples: autocorrelation.windowSamples ?? 1 << 16,
                bitsPerSample: bitsPerSample, alpha: settings.alpha)
        }
        if let histogramDrift = settings.histogramDrift, bitsPerSample > 1 {
            self.histogram = HistogramWindow(
                settings: histogramDrift, bitsPerSample: bitsPerSample, alpha: settings.alpha)
        }
    }

    var usesCounters: Bool {
        settings.clickRate != nil || settings.secondOrderCoherence != nil || settings.detectorBias != nil
    }

    /// Forgets every window in progress after a failure at or before `offset`; learned references stay.
    mutating func restart(at offset: UInt64) {
        counters.restart()
        autocorrelation?.restart()
        histogram?.restart()
        alarms.removeAll()
        clearedBefore = offset
    }

    /// Forgets learned references too, as after an operator reset.
    mutating func forgetReferences() {
        learnedClickRate = nil
        histogram?.forgetReference()
    }

    /// The alarms raised since the last call.
    mutating func takeAlarms() -> [MonitorAlarm] {
        defer { alarms.removeAll(keepingCapacity: true) }
        return alarms
    }

    /// The offset before which every monitor has cleared the samples.
    private mutating func updateClearedBefore() {
        var cleared = UInt64.max
        if counters.armed { cleared = min(cleared, counters.clearedBefore) }
        if let autocorrelation { cleared = min(cleared, autocorrelation.clearedBefore) }
        if let histogram { cleared = min(cleared, histogram.clearedBefore) }
        clearedBefore = cleared
    }

    /// Feeds one-bit samples `range` of `bits`, the first of which is at stream offset `offset`.
    mutating func feed(bits: BitBuffer, range: Range<Int>, offset: UInt64) {
        if autocorrelation != nil {
            autocorrelation!.feed(bits: bits, range: range, offset: offset, alarms: &alarms)
        }
        updateClearedBefore()
    }

    /// Feeds wide samples, the first of which is at stream offset `offset`.
    mutating func feed(values: UnsafeBufferPointer<UInt16>, offset: UInt64) {
        if autocorrelation != nil { autocorrelation!.feed(values: values, offset: offset, alarms: &alarms) }
        if histogram != nil { histogram!.feed(values: values, offset: offset, alarms: &alarms) }
        updateClearedBefore()
    }

    /// Feeds the counters of the pulses behind the samples [`firstSample`, `endSample`).
    mutating func feed(counters delta: SourceCounters, firstSample: UInt64, endSample: UInt64, totalPulses: UInt64) {
        guard usesCounters, delta.pulses > 0 else {
            updateClearedBefore()
            return
        }
        if !counters.armed {
            counters.armed = true
            counters.clearedBefore = firstSample
        }
        counters.add(delta, firstSample: firstSample)
        if counters.window.pulses >= settings.pulseWindow {
            evaluateCounters(lastSample: endSample == 0 ? 0 : endSample - 1, pulseOffset: totalPulses)
            counters.complete()
        }
        updateClearedBefore()
    }

    private mutating func evaluateCounters(lastSample: UInt64, pulseOffset: UInt64) {
        let window = counters.window
        let pulses = Double(window.pulses)
        func alarm(_ monitor: HealthTestKind, _ value: Double, _ threshold: Double, _ detail: String) {
            alarms.append(
                MonitorAlarm(
                    monitor: monitor, value: value, threshold: threshold, sampleOffset: lastSample,
                    pulseOffset: pulseOffset, detail: detail))
        }
        if let clickRate = settings.clickRate {
            let observed = Double(window.clickedPulses) / pulses
            if let expected = clickRate.expected ?? learnedClickRate {
                let tolerance = clickRate.relativeTolerance
                let band = (expected * (1 - tolerance))...min(1, expected * (1 + tolerance))
                let limits = MonitorStatistics.binomialLimits(band: band, trials: pulses, logBound: chernoffExponent)
                if let lower = limits.lower, observed < lower {
                    alarm(.clickRate, observed, lower, "clicks per pulse fell below the limit; expected \(expected)")
                } else if let upper = limits.upper, observed > upper {
                    alarm(.clickRate, observed, upper, "clicks per pulse rose above the limit; expected \(expected)")
                }
            } else {
                learnedClickRate = observed
            }
        }
        if let coherence = settings.secondOrderCoherence {
            let d0 = window.singleClicksD0 + window.doubleClicks
            let d1 = window.singleClicksD1 + window.doubleClicks
            if d0 > 0 && d1 > 0 {
                let scale = pulses / (Double(d0) * Double(d1))
                let estimate = Double(window.doubleClicks) * scale
                let lowerLimit =
                    MonitorStatistics.poissonLowerLimit(count: window.doubleClicks, alpha: settings.alpha.value)
                    * scale
                if lowerLimit > coherence.threshold {
                    alarm(
                        .secondOrderCoherence, lowerLimit, coherence.threshold,
                        "lower confidence limit of g2(0) (estimate \(estimate), \(window.doubleClicks) double clicks)")
                }
            }
        }
        if let bias = settings.detectorBias {
            let singles = window.singleClicksD0 + window.singleClicksD1
            if singles > 0 {
                let observed = Double(window.singleClicksD0) / Double(singles)
                let band = bias.expectedP0 ?? {
                    let most = exp2(-claimedMinEntropy)
                    return (1 - most)...most
                }()
                let limits = MonitorStatistics.binomialLimits(
                    band: band, trials: Double(singles), logBound: chernoffExponent)
                if let lower = limits.lower, observed < lower {
                    alarm(.detectorBias, observed, lower, "fraction of single clicks on D0; band \(band)")
                } else if let upper = limits.upper, observed > upper {
                    alarm(.detectorBias, observed, upper, "fraction of single clicks on D0; band \(band)")
                }
            }
        }
    }
}

/// The counters of the pulse window in progress.
private struct CounterWindow: Sendable {
    var armed = false
    var window = SourceCounters()
    var windowStart: UInt64?
    var clearedBefore: UInt64 = 0

    mutating func add(_ delta: SourceCounters, firstSample: UInt64) {
        if windowStart == nil { windowStart = firstSample }
        window.pulses += delta.pulses
        window.emptyPulses += delta.emptyPulses
        window.singleClicksD0 += delta.singleClicksD0
        window.singleClicksD1 += delta.singleClicksD1
        window.doubleClicks += delta.doubleClicks
        window.samples += delta.samples
    }

    mutating func complete() {
        if let windowStart { clearedBefore = windowStart }
        window = SourceCounters()
        windowStart = nil
    }

    mutating func restart() {
        window = SourceCounters()
        windowStart = nil
    }
}

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

/// The histogram of the top b = min(k, 8) bits of each sample over a window, against a reference histogram.
private struct HistogramWindow: Sendable {
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
        if running > 0 || groups.isEmpty {
            if groups.isEmpty {
                groups.append(running)
            } else {
                groups[groups.count - 1] += running
                for bin in 0..<bins where groupOf[bin] == groups.count { groupOf[bin] = groups.count - 1 }
            }
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

    private mutating func evaluate(lastSample: UInt64, next: UInt64, alarms: inout [MonitorAlarm]) {
        if referenceCounts.isEmpty {
            setReference(counts.map(Double.init), probabilities: false)
        } else if referenceCounts.count > 1 {
            var observed = [Double](repeating: 0, count: referenceCounts.count)
            for bin in 0..<bins { observed[groupOfBin[bin]] += Double(counts[bin]) }
            var chiSquare = 0.0
            for group in referenceCounts.indices {
                let reference = referenceCounts[group]
                let current = observed[group]
                if referenceIsProbability {
                    chiSquare += (current - reference) * (current - reference) / reference
                } else if reference + current > 0 {
                    // Two samples of equal size: Σ (R − C)² / (R + C), chi-square with groups − 1 degrees.
                    chiSquare += (reference - current) * (reference - current) / (reference + current)
                }
            }
            if chiSquare > criticalValue {
                let degrees = referenceCounts.count - 1
                let pValue = SpecialFunctions.igamc(Double(degrees) / 2, chiSquare / 2)
                alarms.append(
                    MonitorAlarm(
                        monitor: .histogramDrift, value: chiSquare, threshold: criticalValue, sampleOffset: lastSample,
                        pulseOffset: nil,
                        detail: "chi-square of the histogram against the reference, \(degrees) degrees of freedom, "
                            + "P-value \(pValue)"))
            }
        }
        if let windowStart { clearedBefore = windowStart }
        windowStart = next
        seen = 0
        for index in counts.indices { counts[index] = 0 }
    }
}

extension SourceCounters {
    /// The events counted since `earlier`, a snapshot of the same counters: what one read added.
    public func counted(since earlier: SourceCounters) -> SourceCounters {
        var delta = SourceCounters()
        delta.pulses = pulses - earlier.pulses
        delta.emptyPulses = emptyPulses - earlier.emptyPulses
        delta.singleClicksD0 = singleClicksD0 - earlier.singleClicksD0
        delta.singleClicksD1 = singleClicksD1 - earlier.singleClicksD1
        delta.doubleClicks = doubleClicks - earlier.doubleClicks
        delta.samples = samples - earlier.samples
        return delta
    }
}
