import Foundation
import QRNG
import Testing

/// `qrng serve --kme-id`: an ETSI GS QKD 014 V1.1.1 key management entity fed by the pool, driven by curl and by
/// a Python requests client written to the standard (tools/etsi014_sae_check.py). SAEs are alice, bob and carol,
/// each its client certificate.
@Suite(.serialized) struct KeyDeliveryTests {
    typealias PKI = MutualTLSTests.PKI
    typealias Reply = HTTPServeTests.Reply

    static func kme(_ pki: PKI, _ options: [String] = []) throws -> HTTPServeTests.Server {
        try HTTPServeTests.Server([
            "--http", "127.0.0.1:0", "--tls-cert", pki.path("server.pem"), "--tls-key", pki.path("server.key"),
            "--client-ca", pki.path("ca.pem"), "--kme-id", "kme-test", "--allow-simulated", "--access-log",
        ] + options)
    }

    /// `path` under /api/v1/keys/ as `sae`, GET or, with a body, POST of JSON.
    static func call(
        _ server: HTTPServeTests.Server, _ pki: PKI, as sae: String, _ path: String, post body: String? = nil
    ) throws -> Reply {
        var options = ["--cacert", pki.path("server.pem"), "--cert", pki.path("\(sae).pem"), "--key", pki.path("\(sae).key")]
        if let body { options += ["-H", "Content-Type: application/json", "--data-binary", body] }
        return try HTTPServeTests.get("\(server.base)/api/v1/keys/\(path)", curlOptions: options)
    }

    /// The keys of a Key container, ID → bytes, in order.
    static func keys(_ reply: Reply) throws -> [(String, Data)] {
        #expect(reply.status == 200, "\(reply.status) \(reply.text)")
        let keys = try #require(reply.json["keys"] as? [[String: Any]], "\(reply.text)")
        return try keys.map { key in
            let id = try #require(key["key_ID"] as? String)
            #expect(UUID(uuidString: id) != nil && id == id.lowercased(), "\(id)")
            let text = try #require(key["key"] as? String)
            return (id, try #require(Data(base64Encoded: text)))
        }
    }

    /// A refusal with the standard's Error body: `message`, and `details` naming `parameter` when given.
    static func expectError(_ reply: Reply, _ status: Int, parameter: String? = nil, _ comment: String) {
        #expect(reply.status == status, "\(comment): \(reply.status) \(reply.text)")
        #expect((reply.json["message"] as? String)?.isEmpty == false, "\(comment): \(reply.text)")
        #expect(reply.json["keys"] == nil, "\(comment): \(reply.text)")
        if let parameter {
            let details = reply.json["details"] as? [[String: Any]] ?? []
            #expect(details.contains { $0["parameter"] as? String == parameter }, "\(comment): \(reply.text)")
        }
    }

    @Test func masterAndSlaveGetTheSameKeyOnceWithCurl() throws {
        let pki = try PKI()
        defer { pki.remove() }
        let server = try Self.kme(pki)
        let status = try Self.call(server, pki, as: "alice", "bob/status").json
        #expect(status["source_KME_ID"] as? String == "kme-test" && status["target_KME_ID"] as? String == "kme-test")
        #expect(status["master_SAE_ID"] as? String == "alice" && status["slave_SAE_ID"] as? String == "bob")
        #expect(status["key_size"] as? Int == 256 && status["stored_key_count"] as? Int == 0)
        #expect(status["max_key_count"] as? Int == 10_000 && status["max_key_per_request"] as? Int == 128)
        #expect(status["min_key_size"] as? Int == 64 && status["max_key_size"] as? Int == 8192)
        #expect(status["max_SAE_ID_count"] as? Int == 8)

        let made = try Self.keys(Self.call(server, pki, as: "alice", "bob/enc_keys?number=2&size=512"))
        #expect(made.count == 2 && made.allSatisfy { $0.1.count == 64 } && made[0].1 != made[1].1)
        #expect(try Self.call(server, pki, as: "alice", "bob/status").json["stored_key_count"] as? Int == 2)

        // The slave gets each key once; a second time, or a third SAE, is refused alike, with nothing revealed.
        #expect(try Self.keys(Self.call(server, pki, as: "bob", "alice/dec_keys?key_ID=\(made[0].0)")).map(\.1) == [made[0].1])
        let again = try Self.call(server, pki, as: "bob", "alice/dec_keys?key_ID=\(made[0].0)")
        Self.expectError(again, 400, parameter: "key_ID", "a second dec_keys")
        let stranger = try Self.call(server, pki, as: "carol", "alice/dec_keys?key_ID=\(made[1].0)")
        Self.expectError(stranger, 400, parameter: "key_ID", "a third SAE")
        #expect(!stranger.text.contains(made[1].1.base64EncodedString()))
        let posted = try Self.call(server, pki, as: "bob", "alice/dec_keys", post: #"{"key_IDs":[{"key_ID":"\#(made[1].0)"}]}"#)
        #expect(try Self.keys(posted).map(\.1) == [made[1].1], "carol's attempt took nothing from bob")
        #expect(try Self.call(server, pki, as: "alice", "bob/status").json["stored_key_count"] as? Int == 0)

        // Multicast: one key for bob and carol, each once.
        let shared = try Self.keys(Self.call(
            server, pki, as: "alice", "bob/enc_keys", post: #"{"number":1,"additional_slave_SAE_IDs":["carol"]}"#))
        #expect(shared.count == 1 && shared[0].1.count == 32)
        for sae in ["carol", "bob"] {
            #expect(try Self.keys(Self.call(server, pki, as: sae, "alice/dec_keys?key_ID=\(shared[0].0)")).map(\.1) == [shared[0].1])
        }
        Self.expectError(try Self.call(server, pki, as: "carol", "alice/dec_keys?key_ID=\(shared[0].0)"), 400, "multicast, twice")

        // Without a certificate of the CA there is no SAE and no response.
        let anonymous = try HTTPServeTests.get(
            "\(server.base)/api/v1/keys/bob/status", curlOptions: ["--cacert", pki.path("server.pem")])
        #expect(anonymous.status == 0)

        let metrics = try HTTPServeTests.get("\(server.base)/metrics", curlOptions: [
            "--cacert", pki.path("server.pem"), "--cert", pki.path("alice.pem"), "--key", pki.path("alice.key"),
        ]).text
        for line in [
            #"qrng_kme_keys_total{event="created",master="alice",slave="bob"} 3"#,
            #"qrng_kme_keys_total{event="delivered",master="alice",slave="bob"} 3"#,
            #"qrng_kme_keys_total{event="delivered",master="alice",slave="carol"} 1"#,
            "qrng_kme_stored_keys 0",
        ] {
            #expect(metrics.contains(line), "\(line)\n\(metrics)")
        }
        #expect(metrics.contains(#"route="/api/v1/keys/{master_SAE_ID}/dec_keys""#))
        let (status0, log) = server.stop()
        #expect(status0 == 0)
        #expect(log.contains("kme: created 2 keys of 512 bits for alice→bob"), "\(log)")
        #expect(log.contains("kme: created 1 key of 256 bits for alice→bob, carol"), "\(log)")
        // Never a key in the log, in any encoding.
        for (_, key) in made + shared {
            #expect(!log.contains(key.base64EncodedString()) && !log.contains(hexString(key)))
        }
    }

    @Test func aPythonRequestsClientWrittenToTheStandard() throws {
        let pki = try PKI()
        defer { pki.remove() }
        let server = try Self.kme(pki)
        defer { _ = server.stop() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", TestPaths.repository.appendingPathComponent("tools/etsi014_sae_check.py").path, "--url", server.base, "--pki",
            pki.directory, "--server-ca", pki.path("server.pem"),
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(text)")
        #expect(text.contains(#""keys": 366"#), "\(text)")
    }

    @Test func faultsGetTheStandardsErrorBodyNamingTheField() throws {
        let pki = try PKI()
        defer { pki.remove() }
        let clients = pki.path("clients.json")
        try Data(#"{"certificate:alice": {}, "certificate:bob": {}}"#.utf8).write(to: URL(fileURLWithPath: clients))
        let server = try Self.kme(pki, ["--clients", clients, "--max-sae-id-count", "1"])
        defer { _ = server.stop() }
        for (path, body, parameter) in [
            ("bob/enc_keys?size=250", nil, "size"), ("bob/enc_keys?size=56", nil, "size"),
            ("bob/enc_keys?size=8200", nil, "size"), ("bob/enc_keys?size=abc", nil, "size"),
            ("bob/enc_keys?number=0", nil, "number"), ("bob/enc_keys?number=129", nil, "number"),
            ("bob/enc_keys", #"{"number":2.5}"#, "number"), ("bob/enc_keys", #"{"size":true}"#, "size"),
            ("bob/enc_keys", #"{"extension_mandatory":[{"abc_route_type":"direct"}]}"#, "extension_mandatory"),
            ("bob/enc_keys", #"{"additional_slave_SAE_IDs":["carol"]}"#, "additional_slave_SAE_IDs"),
            ("bob/enc_keys", #"{"additional_slave_SAE_IDs":["bob"]}"#, "additional_slave_SAE_IDs"),
            ("bob/enc_keys", #"{"nubmer":1}"#, "nubmer"), ("carol/enc_keys", nil, "slave_SAE_ID"),
            ("alice/enc_keys", nil, "slave_SAE_ID"), ("carol/status", nil, "slave_SAE_ID"),
            ("bob/dec_keys?key_ID=not-a-uuid", nil, "key_ID"), ("bob/dec_keys", nil, "key_ID"),
            ("bob/dec_keys", #"{"key_IDs":[]}"#, "key_IDs"), ("bob/dec_keys", #"{"key_IDs":[{"id":"x"}]}"#, "key_IDs[0].key_ID"),
        ] as [(String, String?, String)] {
            Self.expectError(try Self.call(server, pki, as: "alice", path, post: body), 400, parameter: parameter, "\(path) \(body ?? "")")
        }
        Self.expectError(try Self.call(server, pki, as: "alice", "bob/enc_keys", post: "{"), 400, "malformed JSON")
        Self.expectError(try Self.call(server, pki, as: "alice", "bob/enc_keys", post: ""), 400, "a POST without a body")
        Self.expectError(
            try Self.call(server, pki, as: "alice", "bob/enc_keys", post: #"{"extension_mandatory":[{}]}"#), 400,
            parameter: "extension_mandatory", "an empty extension object")
        let unsupported = try Self.call(
            server, pki, as: "alice", "bob/enc_keys", post: #"{"extension_mandatory":[{"abc_route_type":"direct"}]}"#)
        #expect(unsupported.text.contains("abc_route_type"), "the unsupported extension is named: \(unsupported.text)")
        // carol is not among the clients: 401, the standard's status for an SAE it does not serve.
        Self.expectError(try Self.call(server, pki, as: "carol", "alice/dec_keys?key_ID=\(UUID())"), 401, "unlisted SAE")
        // Methods: status is GET only, the others GET and POST.
        let put = try HTTPServeTests.get("\(server.base)/api/v1/keys/bob/enc_keys", curlOptions: [
            "-X", "PUT", "--cacert", pki.path("server.pem"), "--cert", pki.path("alice.pem"), "--key", pki.path("alice.key"),
        ])
        #expect(put.status == 405 && put.headers.lowercased().contains("allow: get, post"), "\(put.headers)")
        Self.expectError(try Self.call(server, pki, as: "alice", "bob/status", post: "{}"), 405, "POST status")
        // Nothing above took a key.
        #expect(try Self.call(server, pki, as: "alice", "bob/status").json["stored_key_count"] as? Int == 0)
    }

    @Test func keysExpireAndAFullStoreRefusesWith503() throws {
        let pki = try PKI()
        defer { pki.remove() }
        let server = try Self.kme(pki, ["--key-lifetime", "1", "--max-stored-keys", "4", "--max-keys-per-request", "4"])
        let made = try Self.keys(Self.call(server, pki, as: "alice", "bob/enc_keys?number=3"))
        #expect(try Self.call(server, pki, as: "alice", "bob/status").json["max_key_count"] as? Int == 4)
        Self.expectError(try Self.call(server, pki, as: "alice", "bob/enc_keys?number=2"), 503, "two more than room for")
        #expect(try Self.keys(Self.call(server, pki, as: "alice", "bob/enc_keys?number=1")).count == 1)
        Self.expectError(try Self.call(server, pki, as: "alice", "bob/enc_keys?number=1"), 503, "full")
        // Past the lifetime (1 s; the sweep runs every 250 ms), every key is gone and the store has room again.
        Thread.sleep(forTimeInterval: 2)
        Self.expectError(try Self.call(server, pki, as: "bob", "alice/dec_keys?key_ID=\(made[0].0)"), 400, "expired")
        #expect(try Self.call(server, pki, as: "alice", "bob/status").json["stored_key_count"] as? Int == 0)
        #expect(try Self.keys(Self.call(server, pki, as: "alice", "bob/enc_keys?number=4")).count == 4)
        let metrics = try HTTPServeTests.get("\(server.base)/metrics", curlOptions: [
            "--cacert", pki.path("server.pem"), "--cert", pki.path("alice.pem"), "--key", pki.path("alice.key"),
        ]).text
        #expect(metrics.contains(#"qrng_kme_keys_total{event="expired",master="alice",slave="bob"} 4"#), "\(metrics)")
        let (status, log) = server.stop()
        #expect(status == 0)
        #expect(log.contains("kme: expired "), "\(log)")
        #expect(log.contains("kme: shutdown: zeroed 4 undelivered keys"), "\(log)")
    }

    @Test func kmeOptionsAreChecked() throws {
        for (arguments, option) in [
            (["--key-size", "256"], "--key-size"), (["--kme-id", "k"], "--kme-id"),
            (["--kme-id", "k", "--client-ca", "/x", "--tls-cert", "/x", "--tls-key", "/x", "--key-size", "100"], "--key-size"),
            (["--kme-id", "k", "--client-ca", "/x", "--tls-cert", "/x", "--tls-key", "/x", "--min-key-size", "512", "--max-key-size", "256"], "--max-key-size"),
            (["--kme-id", "k", "--client-ca", "/x", "--tls-cert", "/x", "--tls-key", "/x", "--max-stored-keys", "5", "--max-keys-per-request", "6"], "--max-stored-keys"),
            (["--kme-id", "k", "--client-ca", "/x", "--tls-cert", "/x", "--tls-key", "/x", "--key-lifetime", "0"], "--key-lifetime"),
        ] {
            let (status, errors) = try AccountingCommandTests.run(["serve", "--http", "127.0.0.1:0", "--allow-simulated"] + arguments)
            #expect(status == 64 && errors.contains(option), "\(arguments): \(status) \(errors)")
        }
    }
}

extension KeyDeliveryTests {
    /// The README's ten-line curl walkthrough, run as written (in the PKI's directory, on a free port instead of
    /// 8443, waiting for the server before the first curl): the README stays true.
    @Test func theReadmeWalkthroughRunsAsWritten() throws {
        let pki = try PKI()
        defer { pki.remove() }
        let readme = try String(contentsOf: TestPaths.repository.appendingPathComponent("README.md"), encoding: .utf8)
        let section = try #require(readme.range(of: "Ten lines with curl"), "the README's KME walkthrough")
        let rest = readme[section.upperBound...]
        let start = try #require(rest.range(of: "```sh\n"))
        let end = try #require(rest[start.upperBound...].range(of: "```"))
        var lines = rest[start.upperBound..<end.lowerBound].split(separator: "\n").map(String.init)
        #expect(lines.count == 10, "ten lines")
        let port = String(20_000 + Int(getpid()) % 20_000)
        lines = lines.map { $0.replacingOccurrences(of: "8443", with: port) }
        // The server starts in the background; a person typing waits for it, the script must.
        lines.insert("for _ in $(seq 600); do curl -s -o /dev/null --cacert server.pem https://127.0.0.1:\(port)/ 2>/dev/null; [ $? -ne 7 ] && break; sleep 0.1; done", at: 1)
        lines.append("kill %1; wait")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", lines.joined(separator: "\n")]
        process.currentDirectoryURL = URL(fileURLWithPath: pki.directory)
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = URL(fileURLWithPath: ServeCommandTests.binary).deletingLastPathComponent().path + ":" + (environment["PATH"] ?? "")
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let replies = text.split(separator: "\n").map { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
        }
        try #require(replies.count == 5, "\(text)")
        #expect(replies[0]["stored_key_count"] as? Int == 0 && replies[0]["master_SAE_ID"] as? String == "alice")
        let made = try String(contentsOfFile: pki.path("keys.json"), encoding: .utf8)
        let firstKey = try #require(((replies[1]["keys"] as? [[String: Any]])?.first?["key"]) as? String)
        let secondKey = try #require(((replies[3]["keys"] as? [[String: Any]])?.first?["key"]) as? String)
        #expect(made.contains(firstKey) && made.contains(secondKey) && firstKey != secondKey, "bob got alice's keys")
        #expect(replies[2]["message"] is String, "the second fetch is refused: \(replies[2])")
        #expect(replies[4]["stored_key_count"] as? Int == 0)
    }
}
