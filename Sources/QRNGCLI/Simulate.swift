import ArgumentParser
import QRNG

/// `qrng simulate`: writes what the simulated QRNG's hardware would record, in the hardware's formats.
struct Simulate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write simulated detector data as time tags (qrng binary, CSV, PTU) or packed clicks.",
        discussion: """
            The output is PSEUDO-RANDOM: a physics model driven by a seeded generator. Channels: 0 sync (one tag \
            per pulse), 1 detector D0, 2 detector D1. Faults: \(SimulatedFault.Kind.allCases.map(\.rawValue).joined(separator: ", ")).
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case timetags
        case csv
        case ptu
        case clicks
    }

    enum PTUType: String, ExpressibleByArgument, CaseIterable {
        case picoharp
        case hydraharp
    }

    @Option(help: "Output format: timetags (qrng binary), csv, ptu (PicoQuant T2) or clicks (2 bits per pulse).")
    var format: Format

    @Option(help: "Simulated time in seconds, in (0, 1000000].",
            transform: NumericDomain(above: 0, through: 1e6).double)
    var duration: Double

    @Option(help: "Output file (- for standard output).")
    var out: String

    @Option(parsing: .unconditional, help: "Seed of the pseudo-random generator (default: from the OS).",
            transform: parseSeed)
    var seed: UInt64?

    @Option(help: "PTU record type: picoharp (PicoHarp T2, 4 ps) or hydraharp (HydraHarp v2 T2, 1 ps).")
    var ptuType: PTUType = .hydraharp

    @OptionGroup(title: "Simulated physics") var simulation: SimulationOptions

    func validate() throws {
        if format == .clicks && simulation.cwRate != nil {
            throw ValidationError("a click stream is per pulse: --format clicks needs pulsed excitation")
        }
    }

    func run() throws {
        let configuration = simulation.simulation(duration: duration)
        let backwards = configuration.faults.contains { $0.kind == .timestampsBackwards }
        if backwards && (format == .ptu || format == .clicks) {
            throw ValidationError(
                "\(format.rawValue) cannot record timestamps going backwards; use --format timetags or csv")
        }
        let tagger = try SimulatedTimeTagger(configuration: configuration, seed: seed)
        let sink = try WritableFile(path: out)
        var written: UInt64 = 0
        switch format {
        case .clicks:
            let period = UInt64((1e6 / simulation.clockMhz).rounded())
            var clicks = try TimeTagClickSource(
                reader: tagger,
                rule: .pulsed(PulsedClickRule(syncChannel: 0, d0Channel: 1, d1Channel: 2, window: period)))
            let writer = try PackedClickWriter(sink: sink, pulsePeriodPicoseconds: period)
            var buffer = ClickBuffer()
            while try clicks.nextPulses(1 << 20, into: &buffer) {
                try writer.write(buffer)
                written += UInt64(buffer.pulseCount)
            }
            try writer.finish()
        case .timetags, .csv, .ptu:
            let write: ([TimeTag]) throws(QRNGError) -> Void
            let finish: () throws(QRNGError) -> Void
            switch format {
            case .timetags:
                let writer = try BinaryTimeTagWriter(sink: sink, channelCount: 3, allowsTimestampsGoingBackwards: backwards)
                (write, finish) = ({ (tags) throws(QRNGError) in try writer.write(tags) }, { () throws(QRNGError) in try writer.finish() })
            case .csv:
                let writer = try CSVTimeTagWriter(sink: sink, allowsTimestampsGoingBackwards: backwards)
                (write, finish) = ({ (tags) throws(QRNGError) in try writer.write(tags) }, { () throws(QRNGError) in try writer.finish() })
            default:
                let (type, resolution): (PTURecordType, UInt64) = ptuType == .picoharp ? (.picoHarpT2, 4) : (.hydraHarpV2T2, 1)
                let writer = try PTUWriter(sink: sink, recordType: type, resolutionPicoseconds: resolution)
                (write, finish) = ({ (tags) throws(QRNGError) in try writer.write(tags) }, { () throws(QRNGError) in try writer.finish() })
            }
            var tags: [TimeTag] = []
            while try tagger.read(into: &tags, maximumCount: 1 << 16) {
                try write(tags)
                written += UInt64(tags.count)
            }
            try finish()
        }
        let (clicks, lost) = tagger.detectorCounts
        printToStandardError(
            "qrng simulate: SIMULATED (pseudo-random) \(configuration.summary): \(duration) s, wrote \(written) "
                + (format == .clicks ? "pulses" : "time tags") + " to \(out); clicks D0 \(clicks[0]), D1 \(clicks[1]), "
                + "lost in dead time \(lost[0] + lost[1])")
    }
}
