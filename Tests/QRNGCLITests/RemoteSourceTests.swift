import Foundation
import QRNG
import QRNGServer
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `--source https://HOST:PORT`: a machine without hardware pulls another node's output into its own pool,
/// health-tests it, and serves it; `--combine xor` combines several nodes, each tested on its own first.
@Suite(.serialized) struct RemoteSourceTests {
    typealias PKI = MutualTLSTests.PKI

    /// A node serving HTTPS on loopback; seeded, its output is `qrng generate --seed` of the same seed.
    static func node(_ pki: PKI, seed: Int? = nil, port: Int = 0, _ more: [String] = []) throws -> HTTPServeTests.Server {
        try HTTPServeTests.Server([
            "--http", "127.0.0.1:\(port)", "--tls-cert", pki.path("server.pem"), "--tls-key", pki.path("server.key"),
            "--allow-simulated",
        ] + (seed.map { ["--seed", String($0)] } ?? []) + more)
    }

    /// The first `bytes` bytes of `qrng generate --seed seed`.
    static func generated(seed: Int, bytes: Int) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ServeCommandTests.binary)
        process.arguments = ["generate", "--seed", String(seed), "--bytes", String(bytes)]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return [UInt8](data)
    }

    static func port(of server: HTTPServeTests.Server) -> Int { Int(server.base.split(separator: ":").last ?? "") ?? 0 }

    /// Two seeded nodes, read through RemoteFeed and XORCombinedFeed: past each node's start-up tests (1024
    /// bytes), the combination is, byte for byte, the XOR of what the two nodes sent, which is what `generate`
    /// gives for their seeds.
    @Test func theCombinationIsTheXOROfWhatEachNodeSent() throws {
        let pki = try PKI()
        defer { pki.remove() }
        let a = try Self.node(pki, seed: 7)
        let b = try Self.node(pki, seed: 8)
        defer {
            _ = a.stop()
            _ = b.stop()
        }
        let feeds = try [a, b].map { node in
            var configuration = RemoteFeed.Configuration(url: node.base)
            configuration.trustedCA = pki.path("server.pem")
            return try RemoteFeed(configuration) { _ in }
        }
        defer { feeds.forEach { $0.stop() } }
        #expect(feeds.allSatisfy { $0.provenance.kind == .simulated }, "the nodes say they are simulated")
        let combined = try XORCombinedFeed(feeds: feeds)
        let count = 200_000
        var out = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let got = try out.withUnsafeMutableBytes { try combined.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[filled...])) }
            try #require(got > 0)
            filled += got
        }
        let sentByA = try Self.generated(seed: 7, bytes: 1024 + count)
        let sentByB = try Self.generated(seed: 8, bytes: 1024 + count)
        #expect(out == (0..<count).map { sentByA[1024 + $0] ^ sentByB[1024 + $0] })
        #expect(combined.states == [.healthy, .healthy])
    }

    /// A node that serves a constant (a stand-in in Python, labelled a device) beside an honest one: its own tests
    /// catch it, the combining node logs the failures naming it, and its output stops for good (health 503 naming
    /// the node), having served nothing.
    @Test(arguments: [0, 0x5A])
    func aNodeServingAConstantIsCaughtByItsOwnTests(constant: Int) throws {
        let pki = try PKI()
        defer { pki.remove() }
        let honest = try Self.node(pki)
        defer { _ = honest.stop() }
        let fake = Process()
        fake.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        fake.arguments = ["python3", TestPaths.repository.appendingPathComponent("tools/constant_node.py").path, String(constant)]
        let fakeOutput = Pipe()
        let fakeInput = Pipe()
        fake.standardOutput = fakeOutput
        fake.standardInput = fakeInput
        fake.standardError = FileHandle.nullDevice
        try fake.run()
        // Closing its standard input ends the fake node (tools/constant_node.py), however env and pyenv launched it.
        defer { try? fakeInput.fileHandleForWriting.close() }
        let portLine = String(decoding: fakeOutput.fileHandleForReading.availableData, as: UTF8.self)
        let fakePort = try #require(Int(portLine.trimmingCharacters(in: .whitespacesAndNewlines)), "\(portLine)")
        let fakeURL = "http://127.0.0.1:\(fakePort)"
        let combining = try HTTPServeTests.Server([
            "--http", "127.0.0.1:0", "--source", honest.base, "--source", fakeURL, "--combine", "xor",
            "--source-ca", pki.path("server.pem"), "--allow-simulated",
        ])
        var health = try HTTPServeTests.get("\(combining.base)/v1/health")
        for _ in 0..<200 where health.json["closed"] == nil {
            usleep(50_000)
            health = try HTTPServeTests.get("\(combining.base)/v1/health")
        }
        #expect(health.status == 503 && (health.json["closed"] as? String)?.contains(fakeURL) == true, "\(health.text)")
        let random = try HTTPServeTests.get("\(combining.base)/v1/random?bytes=16")
        #expect(random.status == 503, "\(random.text)")
        let (_, log) = combining.stop()
        #expect(log.contains("qrng: health: node \(fakeURL): health test failure: Repetition Count Test"), "\(log)")
        #expect(log.contains("permanent failure"), "\(log)")
        #expect(!log.contains("health: node \(honest.base)"), "the honest node passes: \(log)")
        #expect(log.contains("0 bytes served"), "\(log)")
    }

    /// A node pulling from another over mutual TLS serves its bytes; while the other is down its output stops and
    /// /v1/health says why; once the other is back, output resumes.
    @Test func outputStopsWhileTheRemoteIsDownAndResumes() throws {
        let pki = try PKI()
        defer { pki.remove() }
        let mutualTLS = ["--client-ca", pki.path("ca.pem")]
        var upstream = try Self.node(pki, seed: 11, mutualTLS)
        let upstreamPort = Self.port(of: upstream)
        let local = try HTTPServeTests.Server([
            "--http", "127.0.0.1:0", "--source", upstream.base, "--source-ca", pki.path("server.pem"),
            "--source-cert", pki.path("alice.pem"), "--source-key", pki.path("alice.key"), "--allow-simulated",
        ])
        defer { _ = local.stop() }
        #expect(local.log.contains("min-entropy 8.0 bits per sample (the remote node's extracted output"), "\(local.log)")
        // Start-up tests gate output for a moment (503, "starting up"); wait for them to pass.
        var ready = try HTTPServeTests.get("\(local.base)/v1/health")
        for _ in 0..<200 where ready.status != 200 {
            usleep(50_000)
            ready = try HTTPServeTests.get("\(local.base)/v1/health")
        }
        let first = try HTTPServeTests.get("\(local.base)/v1/random?bytes=1000")
        #expect(first.status == 200 && first.body.count == 1000, "\(first.text)")
        #expect(first.headers.lowercased().contains("qrng-source: simulated"), "the upstream's provenance carries over")

        _ = upstream.stop()
        // The next fetch fails within the retry's first backoff; allow a few seconds for it to be tried.
        var health = try HTTPServeTests.get("\(local.base)/v1/health")
        for _ in 0..<50 where health.status == 200 {
            Thread.sleep(forTimeInterval: 0.2)
            health = try HTTPServeTests.get("\(local.base)/v1/health")
        }
        #expect(health.status == 503, "\(health.text)")
        #expect((health.json["sourceProblem"] as? String)?.isEmpty == false, "\(health.text)")
        let refused = try HTTPServeTests.get("\(local.base)/v1/random?bytes=1000")
        #expect(refused.status == 503 && (refused.json["error"] as? String)?.contains("the source is not flowing") == true)

        upstream = try Self.node(pki, seed: 12, port: upstreamPort, mutualTLS)
        defer { _ = upstream.stop() }
        for _ in 0..<100 where health.status != 200 {
            Thread.sleep(forTimeInterval: 0.2)
            health = try HTTPServeTests.get("\(local.base)/v1/health")
        }
        #expect(health.status == 200, "\(health.text)")
        #expect(try HTTPServeTests.get("\(local.base)/v1/random?bytes=1000").status == 200)
        let (status, log) = local.stop()
        #expect(status == 0)
        #expect(log.contains("output waits, retrying") && log.contains("answering again"), "\(log)")
    }

    @Test func remoteSourceOptionsAreChecked() throws {
        for (arguments, named) in [
            (["--source", "https://a:1", "--source", "https://b:1"], "--combine"),
            (["--source", "https://a:1", "--combine", "xor"], "--combine"),
            (["--source", "https://a:1", "--source", "clicks:/x", "--combine", "xor"], "--source"),
            (["--source", "https://a:1", "--source", "https://a:1", "--combine", "xor"], "--source"),
            (["--source", "https://a:1", "--source-cert", "/x"], "--source-cert"),
            (["--source-ca", "/x"], "--source-ca"),
            (["--source", "http://192.0.2.1:80"], "--source"),
        ] {
            let (status, log) = try AccountingCommandTests.run(["serve", "--http", "127.0.0.1:0", "--allow-simulated"] + arguments)
            #expect(status != 0 && log.contains(named), "\(arguments): \(status) \(log)")
        }
    }
}
