/// Where every sample the health tests saw went: released to the extractor, held, or discarded and why.
///
/// The categories partition the tested samples: ``tested`` is always the sum of the others (``isBalanced``), so
/// every number in a run's summary can be traced to a sample count.
public struct SampleAccount: Sendable, Hashable {
    /// Samples the health tests saw.
    public var tested: UInt64 = 0
    /// Samples released to the extractor.
    public var released: UInt64 = 0
    /// Samples that passed and wait for the tests to look past them.
    public var held: UInt64 = 0
    /// Samples of completed start-up tests (SP 800-90B §4.3: at start, after each failure, after an on-demand
    /// test or an operator reset), which are tested and discarded.
    public var startup: UInt64 = 0
    /// Samples of a start-up test still running.
    public var inStartup: UInt64 = 0
    /// Samples discarded because a test failed or a monitor alarmed, by test: those the failure caught (held,
    /// passed since the last release, the failing sample itself; for a monitor, the rest of its window).
    public var rejected: [HealthTestKind: UInt64] = [:]
    /// Samples held when an on-demand test was asked for.
    public var onDemand: UInt64 = 0
    /// Samples read while the tests had failed permanently, which no one looked at.
    public var afterPermanentFailure: UInt64 = 0
    /// Samples the end of input left unreleased (see ``HealthMonitor/EndOfInput``).
    public var droppedAtEnd: UInt64 = 0

    public init() {}

    /// Samples discarded for any reason.
    public var discarded: UInt64 {
        startup + inStartup + rejected.values.reduce(0, +) + onDemand + afterPermanentFailure + droppedAtEnd
    }

    /// Whether the categories add up to ``tested``.
    public var isBalanced: Bool { tested == released + held + discarded }
}

/// Where a discarded stretch of samples goes in the account.
enum DiscardReason: Hashable {
    case startup
    case failure(HealthTestKind)
    case onDemand
    case afterPermanentFailure
    case endOfInput
}

/// The health monitor's running account: every sample before ``accountedEnd`` has been released or discarded
/// under a reason. Released samples always come from the front of what is unaccounted, and every discard covers
/// a stretch from ``accountedEnd`` to a stream offset, so two counters per reason are all it takes.
struct SampleLedger: Sendable, Hashable {
    /// The stream offset of the first sample not yet released or discarded.
    private(set) var accountedEnd: UInt64 = 0
    private var startup: UInt64 = 0
    private var onDemand: UInt64 = 0
    private var afterPermanentFailure: UInt64 = 0
    private var endOfInput: UInt64 = 0
    private var rejected: [HealthTestKind: UInt64] = [:]

    /// Counts `count` samples from ``accountedEnd`` on as released.
    mutating func release(_ count: Int) {
        accountedEnd += UInt64(count)
    }

    /// Counts the samples from ``accountedEnd`` up to `end` as discarded for `reason`.
    mutating func discard(upTo end: UInt64, as reason: DiscardReason) {
        guard end > accountedEnd else { return }
        let count = end - accountedEnd
        accountedEnd = end
        switch reason {
        case .startup: startup += count
        case .failure(let test): rejected[test, default: 0] += count
        case .onDemand: onDemand += count
        case .afterPermanentFailure: afterPermanentFailure += count
        case .endOfInput: endOfInput += count
        }
    }

    /// The account, given what the monitor has tested, released and holds, and whether it has failed for good:
    /// the samples after ``accountedEnd`` that are not held are in a running start-up test, or after a permanent
    /// failure.
    func account(tested: UInt64, released: UInt64, held: Int, failedPermanently: Bool) -> SampleAccount {
        var account = SampleAccount()
        account.tested = tested
        account.released = released
        account.held = UInt64(held)
        account.startup = startup
        account.onDemand = onDemand
        account.rejected = rejected
        account.droppedAtEnd = endOfInput
        account.afterPermanentFailure = afterPermanentFailure
        let pending = tested - min(tested, accountedEnd + UInt64(held))
        if failedPermanently {
            account.afterPermanentFailure += pending
        } else {
            account.inStartup = pending
        }
        return account
    }
}
