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
///   each, for any true value inside the band. This is a bound, not an approximation. A click rate learned from
///   the first window enters as the interval of rates its count leaves possible (Chernoff again, missing the true
///   rate with probability at most α, once), not as an exact value.
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
    /// The click rate learned from the first window: the values its count leaves possible, and the count.
    private var learnedClickRate: (possible: ClosedRange<Double>, clicks: UInt64, pulses: UInt64)?
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

    /// The smallest unfinished window of samples that is evaluated at the end of input, as the monitors' smallest
    /// allowed window.
    static let minimumFinalWindow = 1024

    /// At the end of input, evaluates the windows in progress where they can be (the counter monitors' limits
    /// hold for any number of pulses; the sample monitors need ``minimumFinalWindow`` samples and, for the
    /// histogram, a reference), and returns the stream offset before which every sample has been through an
    /// evaluated window of every monitor. Alarms are taken with ``takeAlarms()`` as usual.
    mutating func finish(endSample: UInt64, totalPulses: UInt64) -> UInt64 {
        var cleared = endSample
        if usesCounters && counters.armed && counters.window.pulses > 0 {
            evaluateCounters(lastSample: endSample == 0 ? 0 : endSample - 1, pulseOffset: totalPulses)
            counters.complete()
        }
        if autocorrelation != nil {
            cleared = min(
                cleared,
                autocorrelation!.finish(minimumSamples: Self.minimumFinalWindow, end: endSample, alarms: &alarms))
        }
        if histogram != nil {
            cleared = min(
                cleared, histogram!.finish(minimumSamples: Self.minimumFinalWindow, end: endSample, alarms: &alarms))
        }
        clearedBefore = cleared
        return cleared
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
            // A learned rate is itself an estimate: the band starts from every rate its count leaves possible,
            // so that a short first window (few clicks) does not make later windows alarm on its chance error.
            let expected: ClosedRange<Double>?
            let origin: String
            if let model = clickRate.expected {
                expected = model...model
                origin = "\(model), the source model's"
            } else if let learned = learnedClickRate {
                expected = learned.possible
                origin = "\(learned.possible.lowerBound)…\(learned.possible.upperBound), learned from the first window "
                    + "(\(learned.clicks) clicked of \(learned.pulses) pulses)"
            } else {
                expected = nil
                origin = ""
                learnedClickRate = (
                    MonitorStatistics.binomialConfidenceInterval(
                        observed: observed, trials: pulses, logBound: chernoffExponent),
                    window.clickedPulses, window.pulses
                )
            }
            if let expected {
                let tolerance = clickRate.relativeTolerance
                let band = (expected.lowerBound * (1 - tolerance))...min(1, expected.upperBound * (1 + tolerance))
                let limits = MonitorStatistics.binomialLimits(band: band, trials: pulses, logBound: chernoffExponent)
                let seen = "seen \(window.clickedPulses) clicked of \(window.pulses) pulses; expected \(origin), "
                    + "±\(Int((tolerance * 100).rounded())) %. A recording whose rate drifts by design: --monitors warn "
                    + "reports such alarms without gating"
                if let lower = limits.lower, observed < lower {
                    alarm(.clickRate, observed, lower, "clicks per pulse fell below the limit: \(seen)")
                } else if let upper = limits.upper, observed > upper {
                    alarm(.clickRate, observed, upper, "clicks per pulse rose above the limit: \(seen)")
                }
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
