import Foundation
import Testing

/// tools/run_batteries.py: its parsers on canned outputs of dieharder, ent and rngtest, and one cheap run end to
/// end against the debug binary (ent and rngtest on a few kilobytes; dieharder needs far more than the debug
/// build's simulated pipeline serves in a test's time, so its parser is tested on canned output only).
@Suite struct BatteriesScriptTests {
    static let root: URL = {
        var url = URL(fileURLWithPath: #filePath)
        let manifest = "Package.swift"
        while url.path != "/" && !FileManager.default.fileExists(atPath: url.appendingPathComponent(manifest).path) {
            url.deleteLastPathComponent()
        }
        return url
    }()

    /// Runs the script with `arguments` and `input` on standard input; returns its status and standard output.
    static func run(_ arguments: [String], input: String = "") throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", root.appendingPathComponent("tools/run_batteries.py").path] + arguments
        process.currentDirectoryURL = root
        let (stdin, stdout) = (Pipe(), Pipe())
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let output = String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }

    /// The table's rows as (test, verdict).
    static func verdicts(_ table: String) -> [String: String] {
        var rows: [String: String] = [:]
        for line in table.split(separator: "\n") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            if cells.count == 4 && cells[0] != "test" { rows[cells[0]] = cells[3] }
        }
        return rows
    }

    @Test func dieharderRowsKeepItsOwnAssessment() throws {
        let output = """
            #=============================================================================#
            #            dieharder version 3.31.1 Copyright 2003 Robert G. Brown          #
            #=============================================================================#
               rng_name    |rands/second|   Seed   |
            stdin_input_raw|  3.12e+07  |1234567890|
            #=============================================================================#
                    test_name   |ntup| tsamples |psamples|  p-value |Assessment
            #=============================================================================#
               diehard_birthdays|   0|       100|     100|0.95144283|  PASSED  
                  diehard_operm5|   0|   1000000|     100|0.00312345|   WEAK   
              diehard_rank_32x32|   0|     40000|     100|0.00000012|  FAILED  
                      sts_serial|   2|    100000|     100|0.45678901|  PASSED  

            """
        let (status, table) = try Self.run(["--parse", "dieharder"], input: output)
        #expect(Self.verdicts(table) == [
            "dieharder diehard_birthdays": "PASS", "dieharder diehard_operm5": "WEAK",
            "dieharder diehard_rank_32x32": "FAIL", "dieharder sts_serial (ntup 2)": "PASS",
        ], "\(table)")
        #expect(table.contains("p = 0.951443"))
        #expect(status == 1, "a FAIL row makes the status 1")
    }

    @Test func entFiguresBecomeVerdicts() throws {
        // ent on 10⁶ bytes of /dev/urandom.
        let random = """
            Entropy = 7.999826 bits per byte.

            Optimum compression would reduce the size
            of this 1000000 byte file by 0 percent.

            Chi square distribution for 1000000 samples is 241.26, and randomly
            would exceed this value 72.25 percent of the times.

            Arithmetic mean value of data bytes is 127.4188 (127.5 = random).
            Monte Carlo value for Pi is 3.139428558 (error 0.07 percent).
            Serial correlation coefficient is -0.000646 (totally uncorrelated = 0.0).
            """
        let (status, table) = try Self.run(["--parse", "ent"], input: random)
        #expect(Self.verdicts(table) == [
            "ent entropy": "PASS", "ent chi-square": "PASS", "ent mean": "PASS", "ent Monte Carlo pi": "PASS",
            "ent serial correlation": "PASS",
        ], "\(table)")
        #expect(table.contains("exceeded 72.25 % of the time") && status == 0, "\(table)")

        // Borderline: chi-square exceeded 99.5 % of the time is WEAK; a mean 5σ high fails.
        let borderline = random.replacingOccurrences(of: "72.25 percent", with: "99.50 percent")
            .replacingOccurrences(of: "127.4188", with: "127.8695")
        let borderlineRows = try Self.verdicts(Self.run(["--parse", "ent"], input: borderline).1)
        #expect(borderlineRows["ent chi-square"] == "WEAK" && borderlineRows["ent mean"] == "FAIL", "\(borderlineRows)")

        // ent on 1000 zero bytes.
        let zeros = """
            Entropy = 0.000000 bits per byte.

            Optimum compression would reduce the size
            of this 1000 byte file by 100 percent.

            Chi square distribution for 1000 samples is 255000.00, and randomly
            would exceed this value less than 0.01 percent of the times.

            Arithmetic mean value of data bytes is 0.0000 (127.5 = random).
            Monte Carlo value for Pi is 4.000000000 (error 27.32 percent).
            Serial correlation coefficient is undefined (all values equal!).
            """
        let (zeroStatus, zeroTable) = try Self.run(["--parse", "ent"], input: zeros)
        #expect(Set(Self.verdicts(zeroTable).values) == ["FAIL"] && zeroStatus == 1, "\(zeroTable)")
    }

    @Test func rngtestFailuresAreJudgedAgainstTheChanceRate() throws {
        func report(blocks: Int, failures: Int) -> String {
            """
            rngtest: starting FIPS tests...
            rngtest: bits received from input: \(20_000 * blocks + 32)
            rngtest: FIPS 140-2 successes: \(blocks - failures)
            rngtest: FIPS 140-2 failures: \(failures)
            rngtest: FIPS 140-2(2001-10-10) Monobit: 0
            rngtest: FIPS 140-2(2001-10-10) Poker: 0
            rngtest: FIPS 140-2(2001-10-10) Runs: \(failures)
            rngtest: FIPS 140-2(2001-10-10) Long run: 0
            rngtest: FIPS 140-2(2001-10-10) Continuous run: 0
            """
        }
        // 10,000 blocks: 8 failures expected by chance.
        for (failures, verdict) in [(6, "PASS"), (17, "WEAK"), (30, "FAIL")] {
            let (_, table) = try Self.run(["--parse", "rngtest"], input: report(blocks: 10_000, failures: failures))
            #expect(Self.verdicts(table)["rngtest FIPS 140-2"] == verdict, "\(failures) failures: \(table)")
        }
    }

    @Test func aQuickRunServesTheToolsAndCleansUp() throws {
        let binary = Self.root.appendingPathComponent(".build/debug/qrng").path
        #expect(FileManager.default.isExecutableFile(atPath: binary), "build the qrng executable first: \(binary)")
        let fifo = FileManager.default.temporaryDirectory.appendingPathComponent("qrng-\(getpid())-batteries.fifo").path
        let (status, output) = try Self.run([
            "--qrng", binary, "--fifo", fifo, "--dieharder-tests", "none", "--ent-bytes", "60000",
            "--rngtest-blocks", "20", "--", "--allow-simulated", "--seed", "3",
        ])
        #expect(status == 0 || status == 1, "\(output)")
        #expect(output.contains("source: SIMULATED"), "\(output)")
        let rows = Self.verdicts(output)
        #expect(rows.keys.contains("ent chi-square") && rows.keys.contains("rngtest FIPS 140-2"), "\(output)")
        #expect(!FileManager.default.fileExists(atPath: fifo), "the FIFO is removed")
    }

    @Test func aMissingToolIsNamedWithItsPackage() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [Self.root.appendingPathComponent("tools/run_batteries.py").path, "--quick"]
        process.environment = ["PATH": "/nonexistent"]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 2)
        #expect(message.contains("apt-get install dieharder ent rng-tools5"), "\(message)")
    }
}
