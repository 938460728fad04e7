import ArgumentParser

/// The `qrng` command: a quantum random number generator toolkit.
public struct QRNGCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "qrng",
        abstract: "A quantum random number generator toolkit: entropy sources, health tests, extractors, a pool.",
        discussion: """
            The default source is a SIMULATED quantum-dot beam-splitter QRNG. Its output is pseudo-random: \
            it is for development and testing, never a substitute for quantum randomness.
            """,
        version: "0.1.0",
        subcommands: [
            Generate.self, Serve.self, Simulate.self, Extract.self, RunStatisticalTests.self, Assess.self,
            HealthCommand.self, Bench.self,
        ]
    )

    public init() {}
}
