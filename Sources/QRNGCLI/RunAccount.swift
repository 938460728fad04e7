import Foundation
import QRNG

/// Where everything a run read went, from the source's samples to the bytes written: the summary a user can
/// check number by number, as text or as JSON (`--json`).
///
/// Samples: read = skipped as consumed by earlier runs + tested; tested = released + held + start-up + rejected
/// by each test + on-demand + after a permanent failure + dropped at the end. Bits: released = to seeds +
/// extracted + withdrawn after failures + dropped at the end + waiting; output = extractor output + seed
/// surplus; output = deposited in the pool + not deposited when the run stopped; deposited = handed out +
/// discarded + left in the pool.
struct RunAccount: Codable, Hashable {
    struct Source: Codable, Hashable {
        var description: String
        var simulated: Bool
        var simulationSeed: UInt64?
        var pulses: UInt64
        var singleClicksD0: UInt64
        var singleClicksD1: UInt64
        var doubleClicks: UInt64
        var badRecordsSkipped: UInt64
        var firstBadRecord: String?
    }

    struct Samples: Codable, Hashable {
        var read: UInt64
        var skippedAsConsumedByEarlierRuns: UInt64
        var tested: UInt64
        var released: UInt64
        var held: UInt64
        var startupTesting: UInt64
        var inStartupTesting: UInt64
        /// By the test's name.
        var rejectedBy: [String: UInt64]
        var onDemandTests: UInt64
        var afterPermanentFailure: UInt64
        var droppedAtEnd: DroppedAtEnd
        var balanced: Bool
    }

    struct DroppedAtEnd: Codable, Hashable {
        var total: UInt64
        var unfinishedAdaptiveProportionWindow: Int
        var unevaluatedByMonitors: Int
        var unfinishedStartupTest: Int
    }

    struct Bits: Codable, Hashable {
        var bitsPerSample: Int
        var released: UInt64
        var toToeplitzSeeds: UInt64
        var extracted: UInt64
        var withdrawnAfterFailures: UInt64
        var droppedAtEnd: UInt64
        var incompleteFinalBlock: Int
        var unfinishedSeed: Int
        var waiting: UInt64
        var output: UInt64
        var seedSurplusInOutput: UInt64
        var balanced: Bool
    }

    struct Seed: Codable, Hashable {
        var given: Bool
        var seedBits: Int
        var seedsDrawn: Int
        var samples: UInt64
        var surplusBits: UInt64
        var description: String
    }

    struct Health: Codable, Hashable {
        var state: String
        var failures: Int
        var monitorAlarmsReportedOnly: Int
        var lastFailure: String?
    }

    struct Pool: Codable, Hashable {
        var deposited: UInt64
        var notDepositedWhenStopped: UInt64
        var handedOut: UInt64
        /// Handed out to a write that failed (a reader that went away): never written, never served again.
        var handedOutNotWritten: UInt64
        var discarded: UInt64
        var left: UInt64
    }

    /// What `serve` did with the bytes it took from the pool.
    struct FIFO: Codable, Hashable {
        var path: String
        /// Bytes written into the pipe; those read by readers are these less ``unreadInPipeAtStop``.
        var served: UInt64
        var unreadInPipeAtStop: UInt64
        /// Taken from the pool for a write that a stop cut short.
        var droppedByStop: UInt64
    }

    /// What `serve --http` handed out.
    struct HTTP: Codable, Hashable {
        var address: String
        var requests: UInt64
        var bytesServed: UInt64
    }

    var source: Source
    var minEntropyPerSample: Double
    var minEntropyOrigin: String
    var extractor: String
    var samples: Samples
    var bits: Bits
    var toeplitzSeed: Seed?
    var health: Health
    /// In bits.
    var pool: Pool
    var bytesWritten: Int
    var ending: String
    var reused: Bool
    var fifo: FIFO?
    var http: HTTP?

    init(
        statistics: PipelineStatistics, bitsPerSample: Int, minEntropyPerSample: Double, pool: PoolStatistics,
        poolLeftBits: Int, bytesWritten: Int, ending: String, simulationSeed: UInt64?, reused: Bool
    ) {
        let counters = statistics.source
        source = Source(
            description: statistics.provenance.description, simulated: statistics.provenance.isSimulated,
            simulationSeed: simulationSeed, pulses: counters.pulses, singleClicksD0: counters.singleClicksD0,
            singleClicksD1: counters.singleClicksD1, doubleClicks: counters.doubleClicks,
            badRecordsSkipped: counters.skipped.count, firstBadRecord: counters.skipped.first.map { "\($0)" })
        self.minEntropyPerSample = minEntropyPerSample
        minEntropyOrigin = statistics.minEntropyOrigin
        extractor = statistics.extractorName
        let account = statistics.samples
        let end = statistics.endOfInput
        samples = Samples(
            read: statistics.samplesSkippedBefore + account.tested,
            skippedAsConsumedByEarlierRuns: statistics.samplesSkippedBefore, tested: account.tested,
            released: account.released, held: account.held, startupTesting: account.startup,
            inStartupTesting: account.inStartup,
            rejectedBy: Dictionary(uniqueKeysWithValues: account.rejected.map { ($0.key.rawValue, $0.value) }),
            onDemandTests: account.onDemand, afterPermanentFailure: account.afterPermanentFailure,
            droppedAtEnd: DroppedAtEnd(
                total: account.droppedAtEnd, unfinishedAdaptiveProportionWindow: end?.health.unfinishedWindowSamples ?? 0,
                unevaluatedByMonitors: end?.health.unevaluatedMonitorSamples ?? 0,
                unfinishedStartupTest: end?.health.unfinishedStartupSamples ?? 0),
            balanced: account.isBalanced)
        let bitAccount = statistics.bits
        bits = Bits(
            bitsPerSample: bitsPerSample, released: bitAccount.released, toToeplitzSeeds: bitAccount.seeds,
            extracted: bitAccount.extracted, withdrawnAfterFailures: bitAccount.withdrawnAfterFailures,
            droppedAtEnd: bitAccount.droppedAtEnd, incompleteFinalBlock: end?.partialBlockBits ?? 0,
            unfinishedSeed: end?.unfinishedSeedBits ?? 0, waiting: bitAccount.waiting, output: bitAccount.output,
            seedSurplusInOutput: bitAccount.seedSurplus,
            balanced: bitAccount.isBalanced && bitAccount.released == account.released * UInt64(bitsPerSample))
        toeplitzSeed = statistics.seeding.map {
            Seed(
                given: $0.given, seedBits: $0.seedBits, seedsDrawn: $0.seedsDrawn, samples: $0.samples,
                surplusBits: $0.surplusBits, description: $0.description)
        }
        health = Health(
            state: statistics.healthState.description, failures: statistics.failureCount,
            monitorAlarmsReportedOnly: statistics.monitorWarnings, lastFailure: statistics.lastFailure.map { "\($0)" })
        self.pool = Pool(
            deposited: pool.bitsDeposited,
            notDepositedWhenStopped: bitAccount.output >= pool.bitsDeposited ? bitAccount.output - pool.bitsDeposited : 0,
            handedOut: pool.bitsTaken,
            handedOutNotWritten: pool.bitsTaken >= UInt64(bytesWritten) * 8 ? pool.bitsTaken - UInt64(bytesWritten) * 8 : 0,
            discarded: pool.bitsDiscarded, left: UInt64(poolLeftBits))
        self.bytesWritten = bytesWritten
        self.ending = ending
        self.reused = reused
    }

    /// The account in a few lines of text, leaving out what is zero.
    var text: String {
        func list(_ parts: [(String, UInt64)]) -> String {
            parts.filter { $0.1 > 0 }.map { "\($0.1) \($0.0)" }.joined(separator: ", ")
        }
        var rejected = samples.rejectedBy.sorted { $0.key < $1.key }.map { ("rejected by the \($0.key)", $0.value) }
        rejected.insert(("in start-up tests", samples.startupTesting), at: 0)
        let sampleLine = list(
            [("released", samples.released), ("held", samples.held), ("in a running start-up test", samples.inStartupTesting)]
                + rejected
                + [("discarded by on-demand tests", samples.onDemandTests),
                   ("read after a permanent failure", samples.afterPermanentFailure),
                   ("dropped at the end of input", samples.droppedAtEnd.total)])
        var lines = ["samples: \(samples.read) read"
            + (samples.skippedAsConsumedByEarlierRuns > 0
                ? " (\(samples.skippedAsConsumedByEarlierRuns) skipped as consumed by earlier runs)" : "")
            + ": \(sampleLine.isEmpty ? "none tested" : sampleLine)"]
        let bitLine = list([
            ("to Toeplitz seeds", bits.toToeplitzSeeds), ("through the extractor", bits.extracted),
            ("withdrawn with partial blocks after failures", bits.withdrawnAfterFailures),
            ("dropped at the end of input", bits.droppedAtEnd), ("waiting for the rest of a block", bits.waiting),
        ])
        lines.append("released bits: \(bits.released)\(bitLine.isEmpty ? "" : ": " + bitLine)")
        var outputLine = "output: \(bits.output) bits"
        if bits.seedSurplusInOutput > 0 { outputLine += " (\(bits.seedSurplusInOutput) of them seed surplus)" }
        let destinations = list([
            ("written (\(bytesWritten) bytes)", UInt64(bytesWritten) * 8),
            ("taken for a write that failed", pool.handedOutNotWritten),
            ("left in the pool and zeroed", pool.left), ("discarded from the pool after a failure", pool.discarded),
            ("not deposited when the run stopped", pool.notDepositedWhenStopped),
        ])
        if !destinations.isEmpty { outputLine += ": " + destinations }
        lines.append(outputLine)
        if let fifo {
            lines.append(
                "pipe \(fifo.path): \(fifo.served) bytes served, \(fifo.served - min(fifo.served, fifo.unreadInPipeAtStop)) of "
                    + "them read, \(fifo.unreadInPipeAtStop) unread in the pipe at the stop (handed out, never served "
                    + "again), \(fifo.droppedByStop) taken for a write the stop cut short")
        }
        if let http {
            lines.append("http \(http.address): \(http.bytesServed) bytes served to \(http.requests) requests")
        }
        if !(samples.balanced && bits.balanced) { lines.append("WARNING: the account does not add up") }
        return lines.map { "qrng: " + $0 }.joined(separator: "\n")
    }

    func json() throws -> String { try prettyJSON(self) }
}

/// `value` as indented JSON with sorted keys, non-finite numbers as the strings "inf", "-inf" and "nan": the one
/// JSON layout of every command's `--json`.
func prettyJSON(_ value: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(
        positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}
