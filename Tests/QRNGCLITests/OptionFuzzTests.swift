import Foundation
import QRNG
import Synchronization
@testable import QRNGCLI
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Random argument lists for every command, drawn from every option's domain and its edges (nan, inf, −0,
/// negative, huge, empty, non-numeric): parsing never accepts what the command cannot use, every refusal names an
/// option it was given, and running the commands ends in status 0, 1 or 64, never a signal.
///
/// The options come from the binary's own description of itself (`--experimental-dump-help`), so an option added
/// later is fuzzed without editing this file. Seeds are fixed. The default suite parses 40 lists per command
/// (a debug build's parser needs up to 0.25 s for the commands with fifty options) and runs about 200;
/// `QRNG_FUZZ_RUNS=N` multiplies both for a longer search (tools/fuzz-options.sh: thousands per command).
@Suite(.serialized) struct OptionFuzzTests {
    struct Tool: Decodable {
        var command: Command
    }

    struct Command: Decodable {
        var commandName: String
        var arguments: [Argument]?
        var subcommands: [Command]?
    }

    struct Argument: Decodable {
        struct Name: Decodable {
            var kind: String
            var name: String
        }
        var kind: String
        var names: [Name]?
        var valueName: String?
        var allValues: [String]?
        var isRepeating: Bool?

        var long: String? { names?.first { $0.kind == "long" }.map { "--" + $0.name } }
    }

    /// Every command that takes options, by its path of names (`["extract", "toeplitz"]`), with its arguments.
    static let commands: [([String], [Argument])] = {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ServeCommandTests.binary)
        process.arguments = ["--experimental-dump-help"]
        let output = Pipe()
        process.standardOutput = output
        guard (try? process.run()) != nil else { return [] }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard let tool = try? JSONDecoder().decode(Tool.self, from: data) else { return [] }
        var found: [([String], [Argument])] = []
        func walk(_ command: Command, path: [String]) {
            if let subcommands = command.subcommands, !subcommands.isEmpty {
                for sub in subcommands where sub.commandName != "help" { walk(sub, path: path + [sub.commandName]) }
            } else {
                found.append((path, command.arguments ?? []))
            }
        }
        walk(tool.command, path: [])
        return found
    }()

    static var multiplier: Int { Int(ProcessInfo.processInfo.environment["QRNG_FUZZ_RUNS"] ?? "") ?? 1 }

    /// Values at and beyond the edges of any numeric domain, and text that is no number at all.
    static let edgeValues = [
        "nan", "NaN", "inf", "-inf", "-0", "0", "-1", "1", "2", "0.5", "1e-300", "1e300", "-1e300", "1e12",
        "18446744073709551615", "18446744073709551616", "9223372036854775808", "-9223372036854775809", "65536",
        "4294967296", "", " ", "abc", "1e3", "0x10", "1,2", "nan,1", "1,inf", "-1,1", "0,0", "1,2,3", "2^-30",
        "2^30", "1K", "1M", "-5K", "99999999999999999999T",
    ]

    /// Cheap values for runs that execute: the edges without the huge legitimate sizes that would only take long.
    static let runValues = [
        "nan", "inf", "-inf", "-0", "0", "-1", "1", "2", "3", "7", "8", "16", "17", "0.5", "0.99", "1e-9", "100",
        "", "abc", "1,2", "0.5,0.5", "nan,1", "2^-30",
    ]

    static func value(for argument: Argument, from values: [String], using generator: inout Xoshiro256StarStar)
        -> String
    {
        let draw = generator.next()
        if let choices = argument.allValues, !choices.isEmpty, draw % 10 < 7 {
            return choices[Int(draw >> 8 % UInt64(choices.count))]
        }
        switch draw % 5 {
        case 0:
            // A random magnitude on a log scale, either sign.
            let exponent = Double(Int(draw >> 16 % 49) - 24) / 2
            let magnitude = pow(10, exponent)
            return String(draw & 1 << 12 == 0 ? magnitude : -magnitude)
        case 1:
            return String(Int64(truncatingIfNeeded: draw >> 20) % 100_000)
        default:
            return values[Int(draw >> 8 % UInt64(values.count))]
        }
    }

    /// A random argument list for `arguments`: a few options with fuzzed values, some flags; the names of the
    /// options and flags given.
    static func argumentList(
        _ arguments: [Argument], values: [String], fixed: [String: String] = [:], skipping: Set<String> = [],
        using generator: inout Xoshiro256StarStar
    ) -> ([String], [String]) {
        let options = arguments.filter {
            $0.kind == "option" && $0.long.map { !skipping.contains($0) && fixed[$0] == nil } == true
        }
        let flags = arguments.filter {
            $0.kind == "flag" && !["--help", "--version", "--list", "--experimental-dump-help"].contains($0.long ?? "")
        }
        var list: [String] = []
        var named: [String] = []
        for (name, value) in fixed.sorted(by: { $0.key < $1.key }) { list += [name, value] }
        let count = 1 + Int(generator.next() % 3)
        for _ in 0..<count where !options.isEmpty {
            let option = options[Int(generator.next() % UInt64(options.count))]
            let name = option.long!
            let value = value(for: option, from: values, using: &generator)
            // `--name=value`, so that a value starting with '-' is the option's value, not another option.
            list.append("\(name)=\(value)")
            named.append(name)
        }
        for flag in flags where generator.next() % 8 == 0 {
            list.append(flag.long!)
            named.append(flag.long!)
        }
        return (list, named)
    }

    @Test func theCommandsDescribeThemselves() {
        let names = Self.commands.map { $0.0.joined(separator: " ") }
        #expect(names.contains("generate") && names.contains("serve") && names.contains("extract toeplitz"), "\(names)")
    }

    /// Parsing alone, in process, every command. A refusal is a usage error (status 64) whose
    /// message names an option that was given; an accepted list has passed every range check.
    @Test func parsingRefusesWithTheOptionsName() throws {
        var generator = Xoshiro256StarStar(seed: 23)
        var failures: [String] = []
        for (path, arguments) in Self.commands {
            let positionals = arguments.filter { $0.kind == "positional" }.map { _ in "input.bin" }
            for _ in 0..<(40 * Self.multiplier) {
                let (list, named) = Self.argumentList(arguments, values: Self.edgeValues, using: &generator)
                do {
                    _ = try QRNGCommand.parseAsRoot(path + positionals + list)
                } catch {
                    let message = QRNGCommand.message(for: error)
                    let status = QRNGCommand.exitCode(for: error).rawValue
                    let namesOne = named.contains { message.contains($0) }
                        || (named.isEmpty && !message.isEmpty)
                        // A required option that is missing is named too.
                        || message.contains("Missing expected argument '--")
                    if status != 64 || !namesOne {
                        failures.append("qrng \((path + positionals + list).joined(separator: " ")) → \(status): \(message)")
                    }
                }
            }
        }
        #expect(failures.isEmpty, "\(failures.count) refusals without the option's name, e.g.\n\(failures.prefix(8).joined(separator: "\n"))")
    }

    /// A finished run: its status or the signal that ended it, and what it wrote on standard error.
    struct RunOutcome {
        var status: Int32
        var signalled: Bool
        var timedOut: Bool
        var errors: String
    }

    static func run(_ arguments: [String], timeout: Double = 120) throws -> RunOutcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ServeCommandTests.binary)
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Read standard error on its own thread, so that a chatty run cannot block on a full pipe.
        let collected = Mutex(Data())
        let reader = Thread {
            let data = errors.fileHandleForReading.readDataToEndOfFile()
            collected.withLock { $0 = data }
        }
        reader.start()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        let timedOut = process.isRunning
        if timedOut { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        while !reader.isFinished { usleep(1_000) }
        return RunOutcome(
            status: process.terminationStatus, signalled: process.terminationReason == .uncaughtSignal && !timedOut,
            timedOut: timedOut, errors: String(decoding: collected.withLock { $0 }, as: UTF8.self))
    }

    /// The commands run for real on small inputs with fuzzed options: status 0, 1 or 64, never a signal (a trap
    /// is SIGILL), and a usage error names an option it was given.
    @Test func runningEndsInAStatusNeverASignal() throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("qrng-fuzz-\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let input = directory + "/input.bin"
        var bytes = Xoshiro256StarStar(seed: 24)
        try Data((0..<20_000).map { _ in UInt8(truncatingIfNeeded: bytes.next()) }).write(to: URL(fileURLWithPath: input))
        let picoharp = TestPaths.repository.appendingPathComponent("testvectors/ptu/picoharp_v30_t2.ptu").path
        let out = directory + "/out"

        // Per command: the options held fixed (outputs, inputs, sizes that keep a run short) and those left out.
        struct Plan {
            var path: [String]
            var runs: Int
            var fixed: [String: String]
            var positionals: [String] = []
            var skipping: Set<String> = []
        }
        let plans = [
            Plan(path: ["generate"], runs: 90,
                 fixed: ["--bytes": "64", "--out": out, "--state-dir": directory + "/state"],
                 skipping: ["--toeplitz-seed", "--assess-samples"]),
            Plan(path: ["simulate"], runs: 30, fixed: ["--out": out, "--duration": "0.0002"]),
            Plan(path: ["extract", "toeplitz"], runs: 10, fixed: ["--input": input, "--out": out, "--seed": input]),
            Plan(path: ["extract", "von-neumann"], runs: 4, fixed: ["--input": input, "--out": out]),
            Plan(path: ["extract", "peres"], runs: 8, fixed: ["--input": input, "--out": out]),
            Plan(path: ["extract", "sha256"], runs: 8, fixed: ["--input": input, "--out": out]),
            Plan(path: ["health"], runs: 16, fixed: [:], positionals: [input]),
            Plan(path: ["assess"], runs: 8, fixed: [:], positionals: [input], skipping: ["--seed"]),
            Plan(path: ["test"], runs: 16, fixed: [:], positionals: [input], skipping: ["--source"]),
        ]
        var generator = Xoshiro256StarStar(seed: 25)
        var failures: [String] = []
        var statuses: [Int32: Int] = [:]
        for plan in plans {
            let arguments = try #require(Self.commands.first { $0.0 == plan.path }?.1, "\(plan.path)")
            for _ in 0..<(plan.runs * Self.multiplier) {
                var (list, named) = Self.argumentList(
                    arguments, values: Self.runValues, fixed: plan.fixed, skipping: plan.skipping, using: &generator)
                if plan.path == ["generate"] && generator.next() % 4 == 0 {
                    // Recorded sources too: the real PicoHarp file in CW mode, a missing file, a bad kind.
                    let sources = ["ptu:\(picoharp)", "clicks:/nonexistent/x.clk", "nonsense", "ptu:"]
                    list.append("--source=\(sources[Int(generator.next() % 4)])")
                    if generator.next() % 2 == 0 { list += ["--cw", "--d0-channel", "0", "--d1-channel", "1"] }
                    named.append("--source")
                }
                let full = plan.path + plan.positionals + list
                let outcome = try Self.run(full)
                statuses[outcome.status, default: 0] += 1
                let line = "qrng \(full.joined(separator: " "))"
                if outcome.signalled {
                    failures.append("\(line) → signal \(outcome.status): \(outcome.errors.suffix(400))")
                } else if outcome.timedOut {
                    failures.append("\(line) → still running after 120 s")
                } else if ![0, 1, 64].contains(outcome.status) {
                    failures.append("\(line) → status \(outcome.status): \(outcome.errors.suffix(300))")
                } else if outcome.status == 64 && !(named + Array(plan.fixed.keys)).contains(where: outcome.errors.contains)
                    && !outcome.errors.contains("Missing expected argument")
                {
                    failures.append("\(line) → usage error without an option's name: \(outcome.errors.prefix(300))")
                }
            }
        }
        #expect(failures.isEmpty, "\(failures.count) bad runs, e.g.\n\(failures.prefix(6).joined(separator: "\n"))")
        // Both kinds of ending happen: the fuzz reaches the commands' work, not only their parsers.
        #expect(statuses[0, default: 0] > 0 && statuses[64, default: 0] > 0, "\(statuses)")
    }
}
