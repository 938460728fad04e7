/// Which health test or photon monitor failed.
public enum HealthTestKind: String, Sendable, Hashable, CaseIterable {
    /// SP 800-90B §4.4.1.
    case repetitionCount = "Repetition Count Test"
    /// SP 800-90B §4.4.2.
    case adaptiveProportion = "Adaptive Proportion Test"
    /// The click-rate monitor: clicks per pulse against the expected rate.
    case clickRate = "click-rate monitor"
    /// The g2(0) monitor: the lower confidence limit of g2(0) from double clicks.
    case secondOrderCoherence = "g2(0) monitor"
    /// The bias monitor: the fraction of single clicks on D0.
    case detectorBias = "D0/D1 bias monitor"
    /// The autocorrelation monitor: the largest |z| of the correlation at lags 1…k.
    case autocorrelation = "autocorrelation monitor"
    /// The histogram-drift monitor: chi-square of the sample histogram against the reference.
    case histogramDrift = "histogram drift monitor"

    /// Whether this is one of SP 800-90B's two continuous tests rather than a photon monitor.
    public var isContinuousTest: Bool { self == .repetitionCount || self == .adaptiveProportion }
}

/// One failure of a health test or alarm of a photon monitor.
public struct HealthFailure: Sendable, Hashable, CustomStringConvertible {
    /// The test or monitor that failed.
    public var test: HealthTestKind
    /// The offset of the sample at which it failed, counted in samples from the start of the stream; for a
    /// monitor, the last sample of the window that alarmed.
    public var sampleOffset: UInt64
    /// For the counter monitors, the pulses counted up to the end of the window that alarmed.
    public var pulseOffset: UInt64?
    /// The run length (RCT), count (APT) or monitor statistic reached.
    public var value: Double
    /// The cutoff or threshold it crossed.
    public var threshold: Double
    /// What the value is, for a monitor.
    public var detail: String?
    /// Whether the failure happened during start-up testing.
    public var duringStartup: Bool
    /// Whether this failure made the failure permanent under the ``FailurePolicy``.
    public var permanent: Bool
    /// Whether the failure gated output (discarded samples); `false` for a monitor alarm that was only reported,
    /// under ``MonitorAction/warn``.
    public var gating: Bool

    public init(
        test: HealthTestKind, sampleOffset: UInt64, pulseOffset: UInt64? = nil, value: Double, threshold: Double,
        detail: String? = nil, duringStartup: Bool, permanent: Bool, gating: Bool = true
    ) {
        self.gating = gating
        self.test = test
        self.sampleOffset = sampleOffset
        self.pulseOffset = pulseOffset
        self.value = value
        self.threshold = threshold
        self.detail = detail
        self.duringStartup = duringStartup
        self.permanent = permanent
    }

    /// The failure as an error, for consumers that were waiting for bits.
    public var error: QRNGError {
        let what =
            !gating
            ? "reported only (--monitors warn), output not gated"
            : permanent ? "permanent failure, output stopped until an operator reset" : "output discarded"
        let stage =
            test.isContinuousTest
            ? (duringStartup ? "start-up test failed" : "continuous test failed") : "monitor alarm"
        var message = "\(stage); \(what)"
        if let detail { message += "; \(detail)" }
        if let pulseOffset { message += "; pulse offset \(pulseOffset)" }
        return QRNGError(
            .healthTestFailure, message,
            context: .init(sampleOffset: sampleOffset, test: test.rawValue, value: value, threshold: threshold))
    }

    public var description: String { error.description }
}

/// When a failure is intermittent and when it is permanent.
///
/// Every failure discards the samples still held back and re-runs the start-up tests. When
/// ``permanentFailureCount`` failures fall within ``permanentFailureWindow`` samples, the failure is permanent:
/// nothing more is output until an operator calls ``HealthMonitor/operatorReset()``.
public struct FailurePolicy: Sendable, Hashable {
    /// The number of failures that make a failure permanent.
    public var permanentFailureCount: Int
    /// The span, in samples, within which those failures must fall.
    public var permanentFailureWindow: UInt64

    /// Three failures within 2²⁰ samples. With α = 2⁻³⁰ a healthy source fails once in about 10⁹ samples,
    /// so three in a million samples means a broken source.
    public init(permanentFailureCount: Int = 3, permanentFailureWindow: UInt64 = 1 << 20) {
        precondition(permanentFailureCount >= 1, "at least one failure must be allowed before it is permanent")
        self.permanentFailureCount = permanentFailureCount
        self.permanentFailureWindow = permanentFailureWindow
    }
}

/// Where the health monitor stands.
public enum HealthState: Sendable, Hashable, CustomStringConvertible {
    /// Start-up tests are running; this many samples must still pass before any output.
    case startingUp(remainingSamples: Int)
    /// The tests pass; output flows.
    case healthy
    /// Too many failures: no output until an operator reset.
    case failedPermanently

    public var description: String {
        switch self {
        case .startingUp(let remaining): "starting up (\(remaining) samples to go)"
        case .healthy: "healthy"
        case .failedPermanently: "FAILED (permanent)"
        }
    }
}

/// What a photon monitor's alarm does. SP 800-90B's Repetition Count and Adaptive Proportion Tests always gate.
public enum MonitorAction: String, Sendable, Hashable, CaseIterable {
    /// An alarm is a failure: held samples are discarded and start-up testing runs again.
    case gate
    /// An alarm is reported and counted, and output goes on: for the offline analysis of a recording whose
    /// physics a user wants to see rather than have gated.
    case warn
}
