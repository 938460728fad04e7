import Foundation
import QRNG
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `qrng serve --http`, driven by curl over loopback.
@Suite(.serialized) struct HTTPServeTests {
    /// A running `qrng serve` and the HTTP address it reported.
    final class Server {
        let process: Process
        let errors: Pipe
        let base: String
        private(set) var log = ""

        init(_ arguments: [String]) throws {
            (process, errors) = try ServeCommandTests.launch(["serve", "--stats-interval", "0"] + arguments)
            var text = ""
            let handle = errors.fileHandleForReading
            // Waits at most a minute for the address line, so that a server that never listens fails the test
            // instead of hanging it.
            let deadline = Date().addingTimeInterval(60)
            while !text.contains("listening on http") && Date() < deadline {
                var descriptors = [pollfd(fd: handle.fileDescriptor, events: Int16(POLLIN), revents: 0)]
                guard poll(&descriptors, 1, 1000) > 0 else { continue }
                let data = handle.availableData
                if data.isEmpty { break }
                text += String(decoding: data, as: UTF8.self)
            }
            if !text.contains("listening on http") { process.terminate() }
            log = text
            let line = try #require(text.split(separator: "\n").first { $0.contains("listening on http") }, "\(text)")
            let address = try #require(line.split(separator: " ").first { $0.hasPrefix("http") })
            base = String(address.trimmingCharacters(in: CharacterSet(charactersIn: ",")))
        }

        /// Stops the server with SIGTERM; returns its exit status and everything it wrote on standard error.
        func stop() -> (Int32, String) {
            kill(process.processIdentifier, SIGTERM)
            let rest = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            log += rest
            return (process.terminationStatus, log)
        }
    }

    struct Reply {
        var status: Int
        var httpVersion = ""
        var headers: String
        var body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
        var json: [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]) ?? [:]
        }
    }

    /// GET `path` with curl.
    static func get(_ url: String, curlOptions: [String] = []) throws -> Reply {
        let headers = ServeCommandTests.path("curl-\(UUID().uuidString).headers")
        let body = ServeCommandTests.path("curl-\(UUID().uuidString).body")
        defer {
            unlink(headers)
            unlink(body)
        }
        let curl = Process()
        curl.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        curl.arguments = ["-s", "--max-time", "60", "-D", headers, "-o", body, "-w", "%{http_code} %{http_version}"] + curlOptions + [url]
        let output = Pipe()
        curl.standardOutput = output
        try curl.run()
        let written = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        curl.waitUntilExit()
        let fields = written.split(separator: " ")
        return Reply(
            status: fields.first.flatMap { Int($0) } ?? 0, httpVersion: fields.count > 1 ? String(fields[1]) : "",
            headers: (try? String(contentsOfFile: headers, encoding: .utf8)) ?? "",
            body: [UInt8]((try? Data(contentsOf: URL(fileURLWithPath: body))) ?? Data()))
    }

    @Test func everyFormatAndEveryBadParameter() throws {
        let server = try Server(["--http", "127.0.0.1:0", "--allow-simulated", "--max-request-bytes", "64K"])
        defer { _ = server.stop() }
        let octets = try Self.get("\(server.base)/v1/random?bytes=1000")
        #expect(octets.status == 200 && octets.body.count == 1000)
        #expect(octets.headers.lowercased().contains("qrng-source: simulated"))
        #expect(octets.headers.lowercased().contains("content-type: application/octet-stream"))

        let hex = try Self.get("\(server.base)/v1/random?bytes=32&format=hex")
        let hexText = hex.text.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(hex.status == 200 && hexText.count == 64 && hexText.allSatisfy(\.isHexDigit))
        let base64 = try Self.get("\(server.base)/v1/random?bytes=48&format=base64")
        #expect(Data(base64Encoded: base64.text.trimmingCharacters(in: .whitespacesAndNewlines))?.count == 48)

        let uint8 = try Self.get("\(server.base)/v1/random?bytes=20&format=json").json
        #expect(uint8["type"] as? String == "uint8" && uint8["length"] as? Int == 20 && uint8["success"] as? Bool == true)
        #expect((uint8["data"] as? [Int])?.count == 20 && (uint8["data"] as? [Int])?.allSatisfy { (0...255).contains($0) } == true)
        #expect(uint8["source"] as? String == "simulated")
        let uint16 = try Self.get("\(server.base)/v1/random?bytes=10&format=json&type=uint16").json
        #expect(uint16["length"] as? Int == 5 && (uint16["data"] as? [Int])?.allSatisfy { (0...65535).contains($0) } == true)
        let hex16 = try Self.get("\(server.base)/v1/random?bytes=16&format=json&type=hex16&size=4").json
        #expect((hex16["data"] as? [String])?.map(\.count) == [8, 8, 8, 8] && hex16["size"] as? Int == 4)

        // Malformed or oversized: 400 naming the parameter, and the server stays up.
        for (query, parameter) in [
            ("", "bytes"), ("bytes=abc", "bytes"), ("bytes=0", "bytes"), ("bytes=-5", "bytes"),
            ("bytes=65537", "bytes"), ("bytes=8&format=xml", "format"), ("bytes=8&format=json&type=float", "type"),
            ("bytes=9&format=json&type=uint16", "bytes"), ("bytes=9&format=json&type=hex16&size=2", "size"),
            ("bytes=8&type=", "type"), ("bytes=8&format=hex&size=0", "size"),
        ] {
            let reply = try Self.get("\(server.base)/v1/random?\(query)")
            #expect(reply.status == 400, "\(query)")
            #expect(reply.json["parameter"] as? String == parameter, "\(query): \(reply.text)")
            #expect(reply.json["success"] as? Bool == false)
        }
        #expect(try Self.get("\(server.base)/v1/random?bytes=65536").body.count == 65536)

        let health = try Self.get("\(server.base)/v1/health")
        #expect(health.status == 200 && health.json["state"] as? String == "healthy")
        #expect(try Self.get("\(server.base)/v1/nothing").status == 404)
        // The routes are there, only not for other methods: 405 with Allow, and nothing taken from the pool.
        for method in [["-X", "POST"], ["-X", "DELETE"], ["-X", "TRACE"], ["--head"]] {
            let refused = try Self.get("\(server.base)/v1/random?bytes=8", curlOptions: method)
            #expect(refused.status == 405 && refused.headers.lowercased().contains("allow: get"), "\(method)")
        }
    }

    /// BB84 basis choices and hash seeds: every format, the bias asked for, and 400s naming the parameter.
    @Test func basisChoicesAndHashSeeds() throws {
        let server = try Server(["--http", "127.0.0.1:0", "--allow-simulated", "--max-request-bytes", "16K"])
        defer { _ = server.stop() }
        let fair = try Self.get("\(server.base)/v1/basis-choices?count=1000")
        let fairBases = try #require(fair.json["bases"] as? String, "\(fair.text)")
        #expect(fair.status == 200 && fairBases.count == 1000 && fairBases.allSatisfy { $0 == "Z" || $0 == "X" })
        #expect(fair.json["pz"] as? Double == 0.5 && fair.json["source"] as? String == "simulated")
        #expect(try Self.get("\(server.base)/v1/basis-choices?count=300&pz=1").json["bases"] as? String
            == String(repeating: "Z", count: 300))
        #expect(try Self.get("\(server.base)/v1/basis-choices?count=300&pz=0").json["bases"] as? String
            == String(repeating: "X", count: 300))
        // 100,000 choices at p_Z = 0.9: the share of Z is 0.9 ± 0.001 (1σ); ±0.01 fails with odds far below 1e-9.
        let biased = try Self.get("\(server.base)/v1/basis-choices?count=100000&pz=0.9")
        let biasedBases = try #require(biased.json["bases"] as? String)
        #expect(biasedBases.count == 100_000 && abs(Double(biasedBases.filter { $0 == "Z" }.count) / 1e5 - 0.9) < 0.01)
        let packed = try Self.get("\(server.base)/v1/basis-choices?count=1001&format=octets")
        #expect(packed.status == 200 && packed.body.count == 126 && packed.body[125] & 0x7f == 0)
        #expect(packed.headers.lowercased().contains("qrng-count: 1001"))
        #expect(packed.headers.lowercased().contains("content-type: application/octet-stream"))
        let allX = try Self.get("\(server.base)/v1/basis-choices?count=20&pz=0&format=octets")
        #expect(allX.body == [0xff, 0xff, 0xf0], "1 is X, most significant bit first")

        let seed = try Self.get("\(server.base)/v1/hash-seed?bits=256").json
        #expect(seed["bits"] as? Int == 256 && (seed["seed"] as? String)?.count == 64)
        let short = try Self.get("\(server.base)/v1/hash-seed?bits=12&format=hex").text
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(short.count == 4 && short.allSatisfy(\.isHexDigit) && short.last == "0", "\(short)")
        let octets = try Self.get("\(server.base)/v1/hash-seed?bits=131072&format=octets")
        #expect(octets.body.count == 16384 && octets.headers.lowercased().contains("qrng-bits: 131072"))

        for (route, query, parameter) in [
            ("basis-choices", "", "count"), ("basis-choices", "count=0", "count"),
            ("basis-choices", "count=131073", "count"), ("basis-choices", "count=8&pz=1.5", "pz"),
            ("basis-choices", "count=8&pz=nan", "pz"), ("basis-choices", "count=8&pz=-0.1", "pz"),
            ("basis-choices", "count=8&format=hex", "format"), ("hash-seed", "", "bits"),
            ("hash-seed", "bits=0", "bits"), ("hash-seed", "bits=131073", "bits"), ("hash-seed", "bits=x", "bits"),
            ("hash-seed", "bits=8&format=base64", "format"),
        ] {
            let reply = try Self.get("\(server.base)/v1/\(route)?\(query)")
            #expect(reply.status == 400, "\(route)?\(query)")
            #expect(reply.json["parameter"] as? String == parameter, "\(route)?\(query): \(reply.text)")
        }
    }

    /// Eight concurrent clients and a FIFO reader on the one pool: no 16-byte window appears twice in all they
    /// got; SIGTERM then ends the server with status 0 and an account of what HTTP served.
    @Test func concurrentClientsAndAFIFOReaderNeverShareBytes() throws {
        let fifo = ServeCommandTests.path("http-fifo")
        let server = try Server(["--http", "127.0.0.1:0", "--fifo", fifo, "--allow-simulated", "--seed", "12"])
        let base = server.base
        let results = Mutex(Array(repeating: [UInt8](), count: 9))
        DispatchQueue.concurrentPerform(iterations: 9) { client in
            var bytes: [UInt8] = []
            if client == 8 {
                if let handle = FileHandle(forReadingAtPath: fifo) {
                    bytes = [UInt8]((try? handle.read(upToCount: 1 << 18)) ?? Data())
                    try? handle.close()
                }
            } else {
                for _ in 0..<4 { bytes += (try? Self.get("\(base)/v1/random?bytes=65536").body) ?? [] }
            }
            results.withLock { $0[client] = bytes }
        }
        let received = results.withLock { $0 }
        let (status, log) = server.stop()
        #expect(status == 0, "\(log)")
        #expect(received[0..<8].allSatisfy { $0.count == 4 * 65536 })
        #expect(received[8].count > 0)
        var windows = Set<[UInt8]>()
        var total = 0
        for bytes in received where bytes.count >= 16 {
            for start in stride(from: 0, through: bytes.count - 16, by: 16) {
                windows.insert(Array(bytes[start..<start + 16]))
                total += 1
            }
        }
        #expect(windows.count == total, "a 16-byte window was served twice")
        #expect(log.contains("bytes served to 32 requests"), "\(log)")
    }

    @Test func plaintextOffLoopbackAndNothingToServeAreRefused() throws {
        for (arguments, message) in [
            (["--http", "0.0.0.0:0"], "loopback only"), ([], "nothing to serve"), (["--http", "nohost"], "HOST:PORT"),
        ] {
            let (process, errors) = try ServeCommandTests.launch(["serve", "--allow-simulated"] + arguments)
            let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 64, "\(arguments): \(text)")
            #expect(text.contains(message), "\(arguments): \(text)")
        }
    }

    /// A detector that dies: health turns 503 with the failure, and no byte is served after it.
    @Test func aFailingSourceGives503() throws {
        let server = try Server([
            "--http", "127.0.0.1:0", "--allow-simulated", "--seed", "4", "--fault", "dead-detector@0.002:1",
        ])
        defer { _ = server.stop() }
        // Start-up testing gates output too (503 with state "starting up"); wait for the failure itself.
        var health = try Self.get("\(server.base)/v1/health")
        for _ in 0..<200 where health.json["lastFailure"] == nil {
            usleep(50_000)
            health = try Self.get("\(server.base)/v1/health")
        }
        #expect(health.status == 503, "\(health.text)")
        #expect((health.json["lastFailure"] as? [String: Any])?["test"] as? String == "Repetition Count Test")
        let random = try Self.get("\(server.base)/v1/random?bytes=16")
        #expect(random.status == 503 && random.json["success"] as? Bool == false, "\(random.text)")
    }

    /// `/metrics` in Prometheus text: requests by route and status, bytes served, the latency histogram, the
    /// pool's fill and the health state.
    @Test func metricsCountWhatWasServed() throws {
        let server = try Server(["--http", "127.0.0.1:0", "--allow-simulated"])
        defer { _ = server.stop() }
        for _ in 0..<3 { _ = try Self.get("\(server.base)/v1/random?bytes=1000") }
        _ = try Self.get("\(server.base)/v1/random?bytes=oops")
        let metrics = try Self.get("\(server.base)/metrics")
        #expect(metrics.status == 200 && metrics.headers.lowercased().contains("text/plain"))
        let lines = Set(metrics.text.split(separator: "\n").map(String.init))
        #expect(lines.contains(#"qrng_http_requests_total{route="/v1/random",client="address:127.0.0.1",status="200"} 3"#), "\(metrics.text)")
        #expect(lines.contains(#"qrng_http_requests_total{route="/v1/random",client="address:127.0.0.1",status="400"} 1"#))
        #expect(lines.contains("qrng_http_served_bytes_total 3000"))
        #expect(lines.contains { $0.hasPrefix(#"qrng_http_request_duration_seconds_count{route="/v1/random"} 4"#) })
        #expect(lines.contains { $0.hasPrefix("qrng_pool_fill_bits ") })
        #expect(lines.contains("qrng_health_healthy 1.0"), "gauges are written as doubles")
    }

    /// A self-signed certificate for 127.0.0.1 and localhost, made by openssl.
    static func makeCertificate() throws -> (certificate: String, key: String) {
        let certificate = ServeCommandTests.path("tls-cert.pem")
        let key = ServeCommandTests.path("tls-key.pem")
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        openssl.arguments = [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
            "-out", certificate, "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-days", "2",
        ]
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        #expect(openssl.terminationStatus == 0)
        return (certificate, key)
    }

    /// HTTPS from PEM files: HTTP/2 and HTTP/1.1 by ALPN, a client that does not trust the certificate and a
    /// plaintext request both refused.
    @Test func httpsServesHTTP2AndHTTP1() throws {
        let (certificate, key) = try Self.makeCertificate()
        defer {
            unlink(certificate)
            unlink(key)
        }
        let server = try Server([
            "--http", "127.0.0.1:0", "--tls-cert", certificate, "--tls-key", key, "--allow-simulated",
        ])
        defer { _ = server.stop() }
        #expect(server.base.hasPrefix("https://"))
        let http2 = try Self.get("\(server.base)/v1/random?bytes=100", curlOptions: ["--cacert", certificate, "--http2"])
        #expect(http2.status == 200 && http2.body.count == 100 && http2.httpVersion == "2", "\(http2.httpVersion)")
        let http1 = try Self.get("\(server.base)/v1/random?bytes=100", curlOptions: ["--cacert", certificate, "--http1.1"])
        #expect(http1.status == 200 && http1.body.count == 100 && http1.httpVersion == "1.1")
        #expect(http1.body != http2.body)
        // Every route and format over HTTPS and HTTP/2.
        for (query, contentType) in [
            ("random?bytes=64&format=hex", "text/plain"), ("random?bytes=64&format=base64", "text/plain"),
            ("random?bytes=64&format=json&type=hex16&size=8", "application/json"),
            ("basis-choices?count=100&pz=0.75", "application/json"),
            ("basis-choices?count=100&format=octets", "application/octet-stream"),
            ("hash-seed?bits=300", "application/json"), ("hash-seed?bits=300&format=hex", "text/plain"),
            ("hash-seed?bits=300&format=octets", "application/octet-stream"), ("health", "application/json"),
        ] {
            let reply = try Self.get("\(server.base)/v1/\(query)", curlOptions: ["--cacert", certificate, "--http2"])
            #expect(reply.status == 200 && reply.httpVersion == "2" && !reply.body.isEmpty, "\(query)")
            #expect(reply.headers.lowercased().contains("content-type: \(contentType)"), "\(query): \(reply.headers)")
            #expect(reply.headers.lowercased().contains("qrng-source: simulated"), "\(query)")
        }
        let metrics = try Self.get("\(server.base)/metrics", curlOptions: ["--cacert", certificate, "--http2"])
        #expect(metrics.status == 200 && metrics.text.contains(#"route="/v1/hash-seed",client="address:127.0.0.1",status="200"} 3"#), "\(metrics.text)")
        #expect(try Self.get("\(server.base)/v1/health").status == 0, "an untrusted certificate is refused")
        let plain = server.base.replacingOccurrences(of: "https://", with: "http://")
        #expect(try Self.get("\(plain)/v1/health").status != 200)
    }

    @Test func tlsOptionsAreCheckedAndBadFilesNamed() throws {
        let (certificate, key) = try Self.makeCertificate()
        defer {
            unlink(certificate)
            unlink(key)
        }
        for (arguments, status, message) in [
            (["--http", "127.0.0.1:0", "--tls-cert", certificate], Int32(64), "go together"),
            (["--http", "127.0.0.1:0", "--tls-cert", certificate, "--tls-key", "/nonexistent/key.pem"], 1, "/nonexistent/key.pem"),
            (["--http", "127.0.0.1:0", "--tls-cert", key, "--tls-key", key], 1, key),
        ] {
            let (process, errors) = try ServeCommandTests.launch(["serve", "--allow-simulated"] + arguments)
            let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == status, "\(arguments): \(text)")
            #expect(text.contains(message), "\(arguments): \(text)")
        }
    }
}
