import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `qrng serve --client-ca`: only clients with a valid certificate from the CA are served, each named by its
/// certificate's subject in the access log and the metrics.
@Suite(.serialized) struct MutualTLSTests {
    /// A test PKI made by openssl: a CA with good clients (alice, bob, carol), an expired one (old) and one not valid
    /// before 2099 (future), another CA with its
    /// own client (mallory), and the server's self-signed certificate.
    struct PKI {
        let directory: String
        func path(_ name: String) -> String { directory + "/" + name }

        init() throws {
            directory = ServeCommandTests.path("pki-\(UUID().uuidString)")
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
            for ca in ["ca", "other-ca"] {
                try Self.openssl(["req", "-x509"] + curve + [
                    "-keyout", "\(directory)/\(ca).key", "-out", "\(directory)/\(ca).pem", "-subj", "/CN=qrng test \(ca)",
                    "-days", "2",
                ])
            }
            for (client, ca, days) in [("alice", "ca", "2"), ("bob", "ca", "2"), ("carol", "ca", "2"), ("old", "ca", "-1"), ("mallory", "other-ca", "2")] {
                try Self.openssl(["req"] + curve + [
                    "-keyout", "\(directory)/\(client).key", "-out", "\(directory)/\(client).csr", "-subj", "/CN=\(client)",
                ])
                // -days -1: a certificate whose validity ended a day before it began, expired now.
                try Self.openssl([
                    "x509", "-req", "-in", "\(directory)/\(client).csr", "-CA", "\(directory)/\(ca).pem", "-CAkey",
                    "\(directory)/\(ca).key", "-CAcreateserial", "-out", "\(directory)/\(client).pem", "-days", days,
                ])
            }
            // Not valid before 2099: `openssl ca` is the one tool of OpenSSL 3.0 that sets a start date.
            try Self.openssl(["req"] + curve + [
                "-keyout", "\(directory)/future.key", "-out", "\(directory)/future.csr", "-subj", "/CN=future",
            ])
            try FileManager.default.createDirectory(atPath: "\(directory)/cadb", withIntermediateDirectories: true)
            try Data().write(to: URL(fileURLWithPath: "\(directory)/cadb/index.txt"))
            try Data("01\n".utf8).write(to: URL(fileURLWithPath: "\(directory)/cadb/serial"))
            try Data("""
                [ca]
                default_ca = test
                [test]
                database = \(directory)/cadb/index.txt
                new_certs_dir = \(directory)/cadb
                serial = \(directory)/cadb/serial
                default_md = sha256
                policy = anything
                [anything]
                commonName = supplied

                """.utf8).write(to: URL(fileURLWithPath: "\(directory)/ca.cnf"))
            try Self.openssl([
                "ca", "-batch", "-config", "\(directory)/ca.cnf", "-cert", "\(directory)/ca.pem", "-keyfile",
                "\(directory)/ca.key", "-in", "\(directory)/future.csr", "-out", "\(directory)/future.pem",
                "-startdate", "20990101000000Z", "-enddate", "20991231000000Z", "-notext",
            ])
            try Self.openssl(["req", "-x509"] + curve + [
                "-keyout", "\(directory)/server.key", "-out", "\(directory)/server.pem", "-subj", "/CN=localhost",
                "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-days", "2",
            ])
        }

        func remove() { try? FileManager.default.removeItem(atPath: directory) }

        static func openssl(_ arguments: [String]) throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            process.arguments = arguments
            process.standardError = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { throw VectorFailure("openssl \(arguments.joined(separator: " "))") }
        }
    }

    struct VectorFailure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// What `openssl s_client` got for a GET /v1/health, with or without a client certificate.
    static func sClient(port: String, pki: PKI, client: String?) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        var arguments = ["s_client", "-connect", "127.0.0.1:\(port)", "-CAfile", pki.path("server.pem"), "-ign_eof"]
        if let client { arguments += ["-cert", pki.path("\(client).pem"), "-key", pki.path("\(client).key")] }
        process.arguments = arguments
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        input.fileHandleForWriting.write(Data("GET /v1/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".utf8))
        try input.fileHandleForWriting.close()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return text
    }

    @Test func onlyClientsOfTheCAAreServedAndNamed() throws {
        let pki = try PKI()
        defer { pki.remove() }
        let server = try HTTPServeTests.Server([
            "--http", "127.0.0.1:0", "--tls-cert", pki.path("server.pem"), "--tls-key", pki.path("server.key"),
            "--client-ca", pki.path("ca.pem"), "--access-log", "--allow-simulated",
        ])
        let port = String(server.base.split(separator: ":").last ?? "")

        // openssl s_client: served with alice's certificate; without one, or with another CA's, no response.
        let alice = try Self.sClient(port: port, pki: pki, client: "alice")
        #expect(alice.contains("HTTP/1.1 200"), "\(alice)")
        for client in [nil, "mallory", "old"] {
            let refused = try Self.sClient(port: port, pki: pki, client: client)
            #expect(!refused.contains("HTTP/1.1 200"), "\(client ?? "no certificate"): \(refused)")
            #expect(refused.lowercased().contains("alert"), "\(client ?? "no certificate"): \(refused)")
        }

        // curl: served with alice's certificate over HTTP/2; an expired certificate and none at all are refused.
        func curl(_ client: String?, _ path: String) throws -> HTTPServeTests.Reply {
            var options = ["--cacert", pki.path("server.pem"), "--http2"]
            if let client { options += ["--cert", pki.path("\(client).pem"), "--key", pki.path("\(client).key")] }
            return try HTTPServeTests.get("\(server.base)\(path)", curlOptions: options)
        }
        let served = try curl("alice", "/v1/random?bytes=100")
        #expect(served.status == 200 && served.body.count == 100 && served.httpVersion == "2")
        #expect(try curl("old", "/v1/random?bytes=100").status == 0, "an expired certificate is refused")
        #expect(try curl(nil, "/v1/random?bytes=100").status == 0, "no certificate, no service")
        #expect(try curl("mallory", "/v1/random?bytes=100").status == 0, "another CA's certificate is refused")
        #expect(try curl("future", "/v1/random?bytes=100").status == 0, "a certificate not yet valid is refused")

        let metrics = try curl("alice", "/metrics").text
        // The refused handshakes, by BoringSSL's reason: no certificate twice; expired, not yet valid or another
        // CA's five times.
        #expect(metrics.contains(#"qrng_tls_handshake_failures_total{reason="peer_did_not_return_a_certificate"} 2"#), "\(metrics)")
        #expect(metrics.contains(#"qrng_tls_handshake_failures_total{reason="certificate_verify_failed"} 5"#), "\(metrics)")
        #expect(metrics.contains(#"qrng_http_requests_total{route="/v1/random",client="certificate:alice",status="200"} 1"#), "\(metrics)")
        #expect(metrics.contains(#"qrng_http_client_served_bytes_total{client="certificate:alice"} 100"#), "\(metrics)")
        let (status, log) = server.stop()
        #expect(status == 0, "\(log)")
        #expect(log.contains("qrng serve: access: client=certificate:alice GET /v1/random status=200 length=100"), "\(log)")
        #expect(!log.contains("mallory") && !log.contains("client=certificate:old") && !log.contains("client=certificate:future"),
                "refused clients never reach a handler")
    }

    /// With a clients file, a client of the CA that it does not list gets 403; a listed one is served within its
    /// own quota.
    @Test func onlyListedClientsAreServed() throws {
        let pki = try PKI()
        defer { pki.remove() }
        let clients = pki.path("clients.json")
        try Data(#"{"certificate:alice": {"bytesPerSecond": 100, "burstSeconds": 10}}"#.utf8).write(to: URL(fileURLWithPath: clients))
        let server = try HTTPServeTests.Server([
            "--http", "127.0.0.1:0", "--tls-cert", pki.path("server.pem"), "--tls-key", pki.path("server.key"),
            "--client-ca", pki.path("ca.pem"), "--clients", clients, "--allow-simulated",
        ])
        defer { _ = server.stop() }
        func curl(_ client: String, _ path: String) throws -> HTTPServeTests.Reply {
            try HTTPServeTests.get("\(server.base)\(path)", curlOptions: [
                "--cacert", pki.path("server.pem"), "--cert", pki.path("\(client).pem"), "--key", pki.path("\(client).key"),
            ])
        }
        #expect(try curl("alice", "/v1/random?bytes=1000").status == 200)
        let bob = try curl("bob", "/v1/random?bytes=10")
        #expect(bob.status == 403 && (bob.json["error"] as? String)?.contains("certificate:bob") == true, "\(bob.text)")
        #expect(try curl("bob", "/v1/health").status == 403)
        // alice's own quota, 1000 bytes at once, not the default.
        #expect(try curl("alice", "/v1/random?bytes=1001").status == 400)
    }

    @Test func badClientsFilesAreNamed() throws {
        let file = ServeCommandTests.path("clients-bad.json")
        defer { unlink(file) }
        for (text, message) in [
            (#"{"alice": {}}"#, "certificate:NAME or address:IP"),
            (#"{"certificate:alice": {"bytesPerSec": 1}}"#, "certificate:alice.bytesPerSec"),
            (#"{"certificate:alice": {"burstSeconds": -2}}"#, "certificate:alice.burstSeconds"),
            (#"["certificate:alice"]"#, "one JSON object"),
        ] {
            try Data(text.utf8).write(to: URL(fileURLWithPath: file))
            let (process, errors) = try ServeCommandTests.launch(
                ["serve", "--allow-simulated", "--http", "127.0.0.1:0", "--clients", file])
            let output = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 1, "\(text): \(output)")
            #expect(output.contains(message) && output.contains(file), "\(text): \(output)")
        }
    }

    @Test func clientCANeedsTLSAndAReadableFile() throws {
        let pki = try PKI()
        defer { pki.remove() }
        for (arguments, status, message) in [
            (["--http", "127.0.0.1:0", "--client-ca", pki.path("ca.pem")], Int32(64), "--client-ca"),
            ([
                "--http", "127.0.0.1:0", "--tls-cert", pki.path("server.pem"), "--tls-key", pki.path("server.key"),
                "--client-ca", pki.path("ca.key"),
            ], 1, pki.path("ca.key")),
        ] {
            let (process, errors) = try ServeCommandTests.launch(["serve", "--allow-simulated"] + arguments)
            let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == status, "\(arguments): \(text)")
            #expect(text.contains(message), "\(arguments): \(text)")
        }
    }
}
