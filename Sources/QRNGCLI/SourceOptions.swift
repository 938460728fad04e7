import ArgumentParser
import QRNG
import QRNGServer

/// The physics of the simulated source, shared by `qrng simulate` and every command that can run the simulator.
struct SimulationOptions: ParsableArguments {
    enum LightName: String, ExpressibleByArgument, CaseIterable {
        case qd
        case laser
    }

    @Option(help: "Light source: qd (quantum dot) or laser (attenuated, Poissonian).")
    var light: LightName = .qd

    @Option(help: "Brightness μ: mean photons per pulse, in (0, 1] for a quantum dot, (0, 100] for a laser.",
            transform: NumericDomain(above: 0, through: 100).double)
    var mu: Double = 0.3

    @Option(help: "Quantum dot's g2(0), in [0, 1/μ].", transform: NumericDomain(0...1000).double)
    var g2: Double = 0.01

    @Option(help: "Quantum dot's radiative lifetime τ in ns, in [0, 1000).",
            transform: NumericDomain(0..<1000).double)
    var lifetimeNs: Double = 0.5

    @Option(help: "Pulsed excitation clock rate in MHz, in (0, 100000].",
            transform: NumericDomain(above: 0, through: 1e5).double)
    var clockMhz: Double = 80

    @Option(help: "Continuous-wave excitation instead of pulses: emitted photons per second, in (0, 1e10].",
            transform: NumericDomain(above: 0, through: 1e10).double)
    var cwRate: Double?

    @Option(help: "Beam splitter transmission T (probability of going to D0), in [0, 1].",
            transform: NumericDomain(0...1).double)
    var transmission: Double = 0.5

    @Option(help: "Detector efficiencies η0,η1, each in [0, 1].", transform: NumericDomain(0...1).pair)
    var efficiency: [Double] = [0.90, 0.89]

    @Option(help: "Dark-count rates of D0,D1 per second, each in [0, 1e9).",
            transform: NumericDomain(0..<1e9).pair)
    var darkRate: [Double] = [100, 100]

    @Option(help: "Detector timing jitter (Gaussian σ) in ps, in [0, 1000000).",
            transform: NumericDomain(0..<1e6).double)
    var jitterPs: Double = 20

    @Option(help: "Detector dead time in ns, in [0, 1000000) (longer than the pulse period, it correlates successive bits).",
            transform: NumericDomain(0..<1e6).double)
    var deadTimeNs: Double = 10

    @Option(help: "Afterpulse probability per click, in [0, 1).", transform: NumericDomain(0..<1).double)
    var afterpulse: Double = 0

    @Option(help: "Mean afterpulse delay after the dead time, in ns, in [0, 1e9).",
            transform: NumericDomain(0..<1e9).double)
    var afterpulseDelayNs: Double = 100

    @Option(help: "Emitter blinking: mean on and off times in ms, e.g. 5,1, each in (0, 1000000].",
            transform: NumericDomain(above: 0, through: 1e6).pair)
    var blinking: [Double]?

    @Option(help: "Relative brightness change per second, in [-1000, 1000].",
            transform: NumericDomain(-1000...1000).double)
    var brightnessDrift: Double = 0

    @Option(help: "Change of T per second, in [-1000, 1000].",
            transform: NumericDomain(-1000...1000).double)
    var transmissionDrift: Double = 0

    @Option(help: "A fault to inject, NAME@TIME:STRENGTH (e.g. dead-detector@0.5:1); repeatable.",
            transform: parseFault)
    var fault: [SimulatedFault] = []

    /// The physics as a whole: a quantum dot's μ is a probability, g2(0) must leave P2 ≤ μ/2, a lifetime must
    /// leave room for re-excitation, and so on, as the simulators check them; their errors name the option.
    func validate() throws {
        if light == .qd && mu > 1 {
            throw ValidationError("--mu must be in (0, 1] for a quantum dot (--light qd), got \(mu)")
        }
        do {
            try simulation(duration: nil).validate()
        } catch {
            throw ValidationError("\(Self.option(naming: error.context.field)): \(error.message)")
        }
    }

    /// The option behind a simulator parameter's name.
    static func option(naming field: String?) -> String {
        let field = field ?? ""
        let options: [(String, String)] = [
            ("brightness", "--mu"), ("mean photon number", "--mu"), ("g2", "--g2"), ("lifetime", "--lifetime-ns"),
            ("clock rate", "--clock-mhz"), ("photon rate", "--cw-rate"), ("efficiency", "--efficiency"),
            ("dark", "--dark-rate"), ("jitter", "--jitter-ps"), ("dead time", "--dead-time-ns"),
            ("afterpulse delay", "--afterpulse-delay-ns"), ("afterpulse", "--afterpulse"), ("blinking", "--blinking"),
            ("drift", "--brightness-drift/--transmission-drift"), ("transmission", "--transmission"),
            ("fault", "--fault"),
        ]
        return options.first { field.contains($0.0) }?.1 ?? "the simulated physics (\(field))"
    }

    /// Whether any option needs the time-domain simulator rather than the pulse-level one.
    var needsTimeTags: Bool {
        cwRate != nil || !fault.isEmpty || afterpulse > 0 || blinking != nil || brightnessDrift != 0
            || transmissionDrift != 0
    }

    func simulation(duration: Double?) -> SimulationConfiguration {
        let lightModel: SimulationConfiguration.Light =
            light == .qd ? .quantumDot(brightness: mu, g2: g2, lifetime: lifetimeNs * 1e-9)
            : .attenuatedLaser(meanPhotonNumber: mu)
        func detector(_ index: Int) -> SimulationConfiguration.Detector {
            .init(efficiency: efficiency[index], darkCountRate: darkRate[index], jitter: jitterPs * 1e-12,
                  deadTime: deadTimeNs * 1e-9, afterpulseProbability: afterpulse,
                  afterpulseDelay: afterpulseDelayNs * 1e-9)
        }
        return SimulationConfiguration(
            excitation: cwRate.map { .continuous(photonRate: $0) } ?? .pulsed(clockRate: clockMhz * 1e6),
            light: lightModel, beamSplitterTransmission: transmission, detector0: detector(0), detector1: detector(1),
            blinking: blinking.map { .init(meanOn: $0[0] * 1e-3, meanOff: $0[1] * 1e-3) },
            brightnessDrift: brightnessDrift, transmissionDrift: transmissionDrift, faults: fault, duration: duration)
    }

}

/// Which source feeds the pipeline, and how its data become samples.
struct SourceOptions: ParsableArguments {
    enum Mode: String, ExpressibleByArgument, CaseIterable {
        case beamSplitter = "beam-splitter"
        case arrivalTime = "arrival-time"
    }

    enum Arrival: String, ExpressibleByArgument, CaseIterable {
        case afterSync = "after-sync"
        case interval
    }

    enum Simulator: String, ExpressibleByArgument, CaseIterable {
        case pulses
        case timeTags = "time-tags"
    }

    @Option(help: """
        The source: simulated, clicks:FILE (packed clicks), timetags:FILE (qrng's binary time tags), csv:FILE, \
        ptu:FILE (PicoQuant T2), or https://HOST:PORT, another qrng node's output (repeat it with --combine xor \
        for several nodes). FILE may be - for standard input or a named pipe. Default: simulated.
        """)
    var source: [String] = []

    @Option(help: "How several --source nodes are combined: xor (each node health-tested on its own first).")
    var combine: Combination?

    enum Combination: String, ExpressibleByArgument, CaseIterable {
        case xor
    }

    @Option(help: ArgumentHelp("This machine's certificate chain (PEM) for remote sources that require mutual TLS.",
                               valueName: "file"))
    var sourceCert: String?

    @Option(help: ArgumentHelp("The private key of --source-cert (PEM).", valueName: "file"))
    var sourceKey: String?

    @Option(help: ArgumentHelp("The CA (PEM) to verify remote sources' certificates against, instead of the system's.",
                               valueName: "file"))
    var sourceCa: String?

    /// The source named, `simulated` when none is.
    var sourceName: String { source.first ?? "simulated" }

    /// Whether `name` is a remote node rather than a local source.
    static func isRemote(_ name: String) -> Bool { name.hasPrefix("https://") || name.hasPrefix("http://") }

    @Option(help: """
        Simulator level: pulses (fast, independent pulses) or time-tags (jitter, dead time, afterpulses, faults). \
        Default: time-tags whenever the chosen physics or mode needs it.
        """)
    var simulator: Simulator?

    @Option(help: "Sync channel of the time tags, 0 to 65535.", transform: NumericDomain(0...65535).integer)
    var syncChannel: UInt16 = 0

    @Option(help: "Channel of detector D0 (bit 0), 0 to 65535.", transform: NumericDomain(0...65535).integer)
    var d0Channel: UInt16 = 1

    @Option(help: "Channel of detector D1 (bit 1), 0 to 65535.", transform: NumericDomain(0...65535).integer)
    var d1Channel: UInt16 = 2

    @Option(help: "Pulsed clicks: a detection counts for a pulse up to this many ps after its sync, 1 to 2^62 (default: until the next sync).",
            transform: NumericDomain(1...0x1p62).integer)
    var windowPs: UInt64?

    @Option(help: "Pulsed clicks: detections count from this many ps after the sync, 0 to 2^62.",
            transform: NumericDomain(0...0x1p62).integer)
    var delayPs: UInt64 = 0

    @Flag(help: "Recorded time tags are continuous-wave: clicks are coincidence-window bins, no sync.")
    var cw = false

    @Option(help: "Continuous-wave clicks: D0 and D1 within this many ps are a double click, 1 to 2^40.",
            transform: NumericDomain(1...0x1p40).integer)
    var coincidenceWindowPs: UInt64 = 1000

    @Option(help: "Arrival-time samples: time after the sync, or interval between detections.")
    var arrival: Arrival = .afterSync

    @Option(help: "Arrival-time bin width in ps, 1 to 2^40.", transform: NumericDomain(1...0x1p40).integer)
    var binWidthPs: UInt64 = 10

    @Option(help: "Arrival-time sample width k in bits (1 to 16).", transform: NumericDomain(1...16).integer)
    var bitsPerSample: Int = 8

    @Option(help: "Bad records in a recorded source: stop (the default) or skip and count them.")
    var onError: ErrorPolicy = .stop

    @Flag(help: "Set the min-entropy from an SP 800-90B non-IID assessment of the first samples instead of a claim or model.")
    var assess = false

    @Option(help: "Samples to assess with --assess, 1000 to 2^30.",
            transform: NumericDomain(1000...0x1p30).integer)
    var assessSamples: Int = 1_000_000

    func validate() throws {
        for name in source where !(name == "simulated" || name.contains(":")) {
            throw ValidationError(
                "--source is simulated, KIND:FILE (clicks, timetags, csv, ptu) or https://HOST:PORT, got '\(name)'")
        }
        if source.count > 1 {
            guard source.allSatisfy(Self.isRemote) else {
                throw ValidationError("--source: only remote nodes (https://HOST:PORT) can be combined, got \(source.joined(separator: ", "))")
            }
            guard combine != nil else {
                throw ValidationError("--source given \(source.count) times: say how to combine the nodes with --combine xor")
            }
            guard Set(source).count == source.count else {
                throw ValidationError("--source: a node combined with itself adds nothing; each node once")
            }
        } else if combine != nil {
            throw ValidationError("--combine xor combines several --source nodes, got \(source.count)")
        }
        if (sourceCert == nil) != (sourceKey == nil) {
            throw ValidationError("--source-cert and --source-key go together: mutual TLS needs the certificate and its key")
        }
        if (sourceCert != nil || sourceCa != nil) && !source.contains(where: Self.isRemote) {
            throw ValidationError("--source-cert, --source-key and --source-ca are for remote sources (--source https://HOST:PORT)")
        }
    }

    /// The remote nodes named, as one external source: a node's feed, or several XORed.
    func remoteSource(alpha: ErrorProbability) throws -> PipelineConfiguration.Source {
        var feeds: [any ByteFeed] = []
        for url in source {
            var configuration = RemoteFeed.Configuration(url: url)
            configuration.certificateChain = sourceCert
            configuration.privateKey = sourceKey
            configuration.trustedCA = sourceCa
            printToStandardError("qrng: source \(url): connecting")
            feeds.append(try RemoteFeed(configuration) { line in printToStandardError("qrng: " + line) })
        }
        let feed: any ByteFeed
        if feeds.count == 1 {
            feed = feeds[0]
        } else {
            feed = try XORCombinedFeed(feeds: feeds, alpha: alpha) { node, failure in
                printToStandardError("qrng: health: node \(node): \(failure)")
            }
        }
        return .external(ExternalSource(
            name: "remote " + feed.name, source: ByteFeedSource(feed: feed),
            minEntropyOrigin: feeds.count == 1
                ? "the remote node's extracted output, served as full entropy"
                : "the XOR of remote nodes' extracted output, each served as full entropy"))
    }

    func configuredSource(
        simulation: SimulationOptions, seed: UInt64?, mode: Mode, alpha: ErrorProbability = .defaultAlpha
    ) throws -> PipelineConfiguration.Source {
        if Self.isRemote(sourceName) {
            guard mode == .beamSplitter else {
                throw ValidationError("a remote node serves bytes, not arrival times: --source https:// takes the default mode")
            }
            return try remoteSource(alpha: alpha)
        }
        let source = sourceName
        if source == "simulated" {
            let timeTags = simulator.map { $0 == .timeTags } ?? (simulation.needsTimeTags || mode == .arrivalTime)
            guard timeTags else {
                // The pulse-level simulator reads the same configuration and refuses what it cannot model.
                let configuration = simulation.simulation(duration: nil)
                do {
                    try configuration.validateForPulseModel()
                } catch {
                    throw ValidationError(
                        "\(SimulationOptions.option(naming: error.context.field)): \(error.message); "
                            + "--simulator pulses models independent pulses only")
                }
                return .simulatedBeamSplitter(configuration, seed: seed)
            }
            let configuration = simulation.simulation(duration: nil)
            var rule = clickRule(continuous: simulation.cwRate != nil)
            if case .pulsed(var pulsed) = rule, windowPs == nil {
                pulsed.window = UInt64((1e6 / simulation.clockMhz).rounded())  // one clock period
                rule = .pulsed(pulsed)
            }
            return .simulatedTimeTags(configuration, seed: seed, use: use(rule, mode: mode))
        }
        let colon = source.firstIndex(of: ":")!
        let kind = String(source[..<colon])
        let path = String(source[source.index(after: colon)...])
        guard !path.isEmpty else { throw ValidationError("--source \(kind): needs a file path (or - for standard input)") }
        switch kind {
        case "clicks":
            guard mode == .beamSplitter else { throw ValidationError("a click stream gives beam-splitter bits only") }
            return .recordedClicks(path: path, errorPolicy: onError)
        case "timetags", "csv", "ptu":
            let format: TimeTagFormat = kind == "timetags" ? .binary : kind == "csv" ? .csv : .ptu
            return .recordedTimeTags(
                path: path, format: format, use: use(clickRule(continuous: cw), mode: mode), errorPolicy: onError)
        default:
            throw ValidationError("unknown source kind '\(kind)'; use clicks, timetags, csv or ptu")
        }
    }

    private func clickRule(continuous: Bool) -> TimeTagClickSource.Rule {
        if continuous {
            return .continuous(CoincidenceClickRule(d0Channel: d0Channel, d1Channel: d1Channel, window: coincidenceWindowPs))
        }
        return .pulsed(PulsedClickRule(
            syncChannel: syncChannel, d0Channel: d0Channel, d1Channel: d1Channel, delay: delayPs,
            window: windowPs ?? UInt64(1) << 62))
    }

    private func use(_ rule: TimeTagClickSource.Rule, mode: Mode) -> PipelineConfiguration.TimeTagUse {
        switch mode {
        case .beamSplitter:
            return .beamSplitter(rule)
        case .arrivalTime:
            let detectors = ChannelSet([d0Channel, d1Channel])
            let arrivalMode: ArrivalTimeSource.Mode =
                arrival == .afterSync ? .afterSync(syncChannel: syncChannel, detectors: detectors)
                : .interval(detectors: detectors)
            return .arrivalTime(arrivalMode, binWidth: binWidthPs, bitsPerSample: bitsPerSample)
        }
    }
}

extension ErrorPolicy: ExpressibleByArgument {}

func parseFault(_ text: String) throws -> SimulatedFault {
    do {
        return try SimulatedFault(parsing: text)
    } catch {
        throw ValidationError("--fault: \(error.message)")
    }
}
