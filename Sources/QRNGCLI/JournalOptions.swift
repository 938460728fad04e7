import ArgumentParser
import QRNG

#if canImport(Glibc)
import Glibc
#endif

/// Where `generate` and `serve` keep the consumption journals of recorded sources, and whether to honour them.
struct JournalOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Directory of the consumption journals that keep a recording's bits from being handed out twice "
            + "(default: $STATE_DIRECTORY under systemd, else $XDG_STATE_HOME/qrng or ~/.local/state/qrng).",
        valueName: "dir"))
    var stateDir: String?

    @Flag(help: ArgumentHelp(
        "Read a recording from its first sample although earlier runs handed out bits from it: the output "
            + "re-uses those bits and is labelled RE-USED."))
    var fromStart = false

    /// The state directory these options name.
    var stateDirectory: String {
        if let stateDir { return stateDir }
        if let systemd = environmentVariable("STATE_DIRECTORY"), !systemd.isEmpty {
            // systemd's StateDirectory= may list several, separated by colons; the first is ours.
            return String(systemd.split(separator: ":").first ?? Substring(systemd))
        }
        if let state = environmentVariable("XDG_STATE_HOME"), state.hasPrefix("/") { return state + "/qrng" }
        return (environmentVariable("HOME") ?? "/tmp") + "/.local/state/qrng"
    }

    /// Opens the journal of the recording `configuration` reads, if it reads a regular file, and makes the
    /// configuration resume after what earlier runs consumed (unless --from-start).
    ///
    /// - Returns: `nil` for simulations, pipes and standard input, which cannot be read twice.
    func openJournal(for configuration: inout PipelineConfiguration) throws -> ConsumptionJournal? {
        guard let recording = configuration.source.recordingPath, recording != "-" else {
            if fromStart { throw ValidationError("--from-start applies to recorded sources read from a file") }
            return nil
        }
        guard
            let journal = try ConsumptionJournal.open(
                recordingPath: recording, configurationFingerprint: configuration.source.fingerprint,
                stateDirectory: stateDirectory, resume: fromStart ? .fromStart : .afterConsumed)
        else { return nil }
        configuration.resumeAfterSamples = journal.resumePosition
        if journal.resumePosition > 0 {
            printToStandardError(
                "qrng: resuming \(recording) after the \(journal.resumePosition) samples earlier runs consumed "
                    + "(journal \(journal.path); --from-start re-uses them)")
        }
        if journal.reusesConsumedSamples {
            printToStandardError(
                "qrng: WARNING: RE-USED: reading \(recording) from the start although \(journal.consumedSamples) "
                    + "of its samples were consumed before (journal \(journal.path)): the first bits repeat "
                    + "bits already handed out")
        }
        return journal
    }
}

/// The environment variable `name`, or `nil`.
func environmentVariable(_ name: String) -> String? {
    getenv(name).map { String(cString: $0) }
}
