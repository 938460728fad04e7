import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What `qrng serve --http` does to clients that abuse a connection: oversized request heads and clients that
/// send a request a byte at a time.
@Suite(.serialized) struct ConnectionLimitTests {
    @Test func a64KiBHeaderGets431AndTheServerStaysUp() throws {
        let server = try HTTPServeTests.Server(["--http", "127.0.0.1:0", "--allow-simulated"])
        defer { _ = server.stop() }
        let big = String(repeating: "x", count: 64 << 10)
        let refused = try HTTPServeTests.get("\(server.base)/v1/random?bytes=8", curlOptions: ["-H", "X-Big: \(big)"])
        #expect(refused.status == 431, "\(refused.status) \(refused.text)")
        #expect((refused.json["error"] as? String)?.contains("16384 bytes") == true, "\(refused.text)")
        #expect(try HTTPServeTests.get("\(server.base)/v1/random?bytes=8").status == 200, "the server stays up")
        // Just under the limit is fine.
        let fits = String(repeating: "x", count: 15 << 10)
        #expect(try HTTPServeTests.get("\(server.base)/v1/random?bytes=8", curlOptions: ["-H", "X-Fits: \(fits)"]).status == 200)
    }

    /// The API's routes read no request body: one over 1 KiB gets 413 (by length or chunked) and the server stays up.
    @Test func aLargeRequestBodyGets413() throws {
        let server = try HTTPServeTests.Server(["--http", "127.0.0.1:0", "--allow-simulated"])
        defer { _ = server.stop() }
        let body = ServeCommandTests.path("large-body")
        defer { unlink(body) }
        try Data(count: 4 << 20).write(to: URL(fileURLWithPath: body))
        for extra in [[], ["-H", "Transfer-Encoding: chunked", "-H", "Expect:"]] {
            let refused = try HTTPServeTests.get(
                "\(server.base)/v1/random?bytes=8", curlOptions: ["-X", "GET", "--data-binary", "@\(body)"] + extra)
            #expect(refused.status == 413, "\(extra): \(refused.text)")
            #expect((refused.json["error"] as? String)?.contains("no request body") == true)
        }
        #expect(try HTTPServeTests.get("\(server.base)/v1/random?bytes=8").status == 200, "the server stays up")
    }

    /// A client that sends its request one byte a second is cut off once the idle timeout (2 s here) has passed
    /// without a complete request head, while another client is served at once.
    @Test func aSlowSenderIsCutOffWhileOthersAreServed() throws {
        let server = try HTTPServeTests.Server(["--http", "127.0.0.1:0", "--allow-simulated", "--idle-timeout", "2"])
        defer { _ = server.stop() }
        let port = try #require(server.base.split(separator: ":").last.flatMap { UInt16($0) })
        let descriptor = try #require(LoopbackSocket.connect(port: port))
        defer { close(descriptor) }
        let request = Array("GET /v1/random?bytes=8 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: \(String(repeating: "s", count: 60))\r\n\r\n".utf8)
        let start = Date()
        var cutOffAfter: Double?
        var received: [UInt8] = []
        var otherServedIn: Double?
        for (index, byte) in request.enumerated() {
            var one = byte
            if send(descriptor, &one, 1, Int32(MSG_NOSIGNAL)) != 1 {
                cutOffAfter = Date().timeIntervalSince(start)
                break
            }
            if index == 1 {
                let asked = Date()
                #expect(try HTTPServeTests.get("\(server.base)/v1/random?bytes=64").status == 200)
                otherServedIn = Date().timeIntervalSince(asked)
            }
            // Sleep a second in poll, watching for the server closing the connection.
            var descriptors = [pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)]
            if poll(&descriptors, 1, 1000) > 0 {
                var buffer = [UInt8](repeating: 0, count: 4096)
                let count = recv(descriptor, &buffer, buffer.count, 0)
                if count > 0 { received += buffer[0..<count] }
                if count <= 0 || descriptors[0].revents & Int16(POLLHUP) != 0 {
                    cutOffAfter = Date().timeIntervalSince(start)
                    break
                }
            }
        }
        let cutOff = try #require(cutOffAfter, "the slow sender was never cut off")
        #expect(cutOff >= 1.5 && cutOff < 8, "cut off after \(cutOff) s; the idle timeout is 2 s")
        #expect(!String(decoding: received, as: UTF8.self).contains("200 OK"), "the slow request was never answered")
        #expect((otherServedIn ?? 99) < 2, "the other client waited \(otherServedIn ?? -1) s")
    }

    /// Two connections per address: a third is closed at once and counted, and once one of the two closes a new
    /// request is served.
    @Test func connectionsPerClientAreLimited() throws {
        let server = try HTTPServeTests.Server([
            "--http", "127.0.0.1:0", "--allow-simulated", "--max-connections-per-client", "2",
        ])
        defer { _ = server.stop() }
        let port = try #require(server.base.split(separator: ":").last.flatMap { UInt16($0) })
        let first = try #require(LoopbackSocket.connect(port: port))
        let second = try #require(LoopbackSocket.connect(port: port))
        defer { close(second) }
        usleep(200_000)
        let asked = Date()
        #expect(try HTTPServeTests.get("\(server.base)/v1/random?bytes=8").status == 0, "a third connection is refused")
        #expect(Date().timeIntervalSince(asked) < 5, "and closed at once, not left hanging")
        close(first)
        usleep(200_000)
        let served = try HTTPServeTests.get("\(server.base)/metrics")
        #expect(served.status == 200)
        #expect(served.text.contains("qrng_http_connections_refused_total 1"), "\(served.text)")
    }

    /// A TLS client that connects and sends nothing is closed when the handshake has not finished within the
    /// idle timeout, and counted.
    @Test func aSilentTLSClientIsClosedAfterTheTimeout() throws {
        let (certificate, key) = try HTTPServeTests.makeCertificate()
        defer {
            unlink(certificate)
            unlink(key)
        }
        let server = try HTTPServeTests.Server([
            "--http", "127.0.0.1:0", "--tls-cert", certificate, "--tls-key", key, "--allow-simulated", "--idle-timeout", "2",
        ])
        defer { _ = server.stop() }
        let port = try #require(server.base.split(separator: ":").last.flatMap { UInt16($0) })
        let silent = try #require(LoopbackSocket.connect(port: port))
        defer { close(silent) }
        let start = Date()
        var descriptors = [pollfd(fd: silent, events: Int16(POLLIN), revents: 0)]
        #expect(poll(&descriptors, 1, 10_000) == 1, "closed within 10 s")
        var byte: UInt8 = 0
        #expect(recv(silent, &byte, 1, 0) <= 0, "closed, not answered")
        let waited = Date().timeIntervalSince(start)
        #expect(waited >= 1.5 && waited < 8, "closed after \(waited) s; the timeout is 2 s")
        let metrics = try HTTPServeTests.get("\(server.base)/metrics", curlOptions: ["--cacert", certificate]).text
        #expect(metrics.contains(#"qrng_tls_handshake_failures_total{reason="timeout"} 1"#), "\(metrics)")
    }
}
