import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Per-client quotas of `qrng serve --http`: token buckets of bytes and requests, 429 with Retry-After beyond.
@Suite(.serialized) struct QuotaTests {
    /// 200 bytes/s with 10 s of burst: 2000 bytes at once. After 1500, another 1500 needs 1000 more tokens, 5 s
    /// of refill: 429 with Retry-After of about 5, and after waiting that long, 200. (The margins are seconds,
    /// so a slow machine does not turn a refusal into an admission.)
    @Test func overTheByteQuotaIs429AndRetryAfterWorks() throws {
        let server = try HTTPServeTests.Server([
            "--http", "127.0.0.1:0", "--allow-simulated", "--quota-bytes-per-second", "200", "--quota-burst-seconds", "10",
        ])
        defer { _ = server.stop() }
        #expect(try HTTPServeTests.get("\(server.base)/v1/random?bytes=1500").status == 200)
        let refused = try HTTPServeTests.get("\(server.base)/v1/random?bytes=1500")
        #expect(refused.status == 429, "\(refused.text)")
        #expect(refused.json["success"] as? Bool == false && (refused.json["error"] as? String)?.contains("bytes quota") == true)
        let retryAfter = try #require(
            refused.headers.split(separator: "\r\n").first { $0.lowercased().hasPrefix("retry-after:") }
                .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) },
            "\(refused.headers)")
        #expect((4...5).contains(retryAfter), "\(retryAfter)")
        #expect(refused.json["retryAfter"] as? Int == retryAfter)
        sleep(UInt32(retryAfter))
        #expect(try HTTPServeTests.get("\(server.base)/v1/random?bytes=1500").status == 200, "Retry-After honoured")
        // More than the bucket ever holds: a 400 naming the parameter, not a 429 that no wait would cure.
        let tooBig = try HTTPServeTests.get("\(server.base)/v1/random?bytes=2001")
        #expect(tooBig.status == 400 && tooBig.json["parameter"] as? String == "bytes", "\(tooBig.text)")
        // Basis choices and seeds draw on the same bytes: 16,000 fair choices are 2000 bytes.
        #expect(try HTTPServeTests.get("\(server.base)/v1/basis-choices?count=16001").status == 400)
        let metrics = try HTTPServeTests.get("\(server.base)/metrics").text
        #expect(metrics.contains(#"qrng_http_quota_rejections_total{client="address:127.0.0.1",quota="bytes"} 1"#), "\(metrics)")
        #expect(metrics.contains(#"qrng_http_client_served_bytes_total{client="address:127.0.0.1"} 3000"#), "\(metrics)")
    }

    /// 0.5 requests/s with 4 s of burst: two requests at once, the third refused for 2 s.
    @Test func overTheRequestQuotaIs429() throws {
        let server = try HTTPServeTests.Server([
            "--http", "127.0.0.1:0", "--allow-simulated", "--quota-requests-per-second", "0.5", "--quota-burst-seconds", "4",
        ])
        defer { _ = server.stop() }
        #expect(try HTTPServeTests.get("\(server.base)/v1/health").status == 200)
        #expect(try HTTPServeTests.get("\(server.base)/v1/random?bytes=8").status == 200)
        let refused = try HTTPServeTests.get("\(server.base)/v1/health")
        #expect(refused.status == 429 && refused.headers.lowercased().contains("retry-after: 2"), "\(refused.headers)")
        #expect((refused.json["error"] as? String)?.contains("requests quota") == true)
    }

    @Test func quotaOptionsAreChecked() throws {
        for (arguments, message) in [
            (["--quota-bytes-per-second", "0"], "--quota-bytes-per-second"),
            (["--quota-requests-per-second", "nan"], "--quota-requests-per-second"),
            (["--quota-burst-seconds", "-1"], "--quota-burst-seconds"),
        ] {
            let (process, errors) = try ServeCommandTests.launch(
                ["serve", "--allow-simulated", "--http", "127.0.0.1:0"] + arguments)
            let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 64, "\(arguments): \(text)")
            #expect(text.contains(message), "\(arguments): \(text)")
        }
    }
}
