import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// tools/qrng-haproxy.cfg as written: two nodes behind HAProxy (TLS passed through, health checks on /v1/health).
/// One node stops mid-run: every request is still served, and no 16-byte window of what came through the balancer
/// appears twice.
@Suite(.serialized) struct LoadBalancerTests {
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/sbin/haproxy"), "needs haproxy (Debian package)"))
    func failoverKeepsServingAndNothingTwice() throws {
        let pki = try MutualTLSTests.PKI()
        defer { pki.remove() }
        let node1 = try RemoteSourceTests.node(pki)
        let node2 = try RemoteSourceTests.node(pki)
        defer { _ = node2.stop() }
        let balancerPort = 20_000 + (Int(getpid()) + 7_919) % 20_000
        let haproxy = Process()
        haproxy.executableURL = URL(fileURLWithPath: "/usr/sbin/haproxy")
        haproxy.arguments = ["-f", TestPaths.repository.appendingPathComponent("tools/qrng-haproxy.cfg").path, "-db"]
        var environment = ProcessInfo.processInfo.environment
        environment["QRNG_LB_BIND"] = "127.0.0.1:\(balancerPort)"
        environment["QRNG_NODE1"] = "127.0.0.1:\(RemoteSourceTests.port(of: node1))"
        environment["QRNG_NODE2"] = "127.0.0.1:\(RemoteSourceTests.port(of: node2))"
        environment["QRNG_CA"] = pki.path("server.pem")
        haproxy.environment = environment
        let haproxyLog = Pipe()
        haproxy.standardOutput = haproxyLog
        haproxy.standardError = haproxyLog
        try haproxy.run()
        defer {
            haproxy.terminate()
            haproxy.waitUntilExit()
        }
        let url = "https://127.0.0.1:\(balancerPort)/v1/random?bytes=4096"
        func fetch() throws -> HTTPServeTests.Reply {
            try HTTPServeTests.get(url, curlOptions: ["--cacert", pki.path("server.pem")])
        }
        // Both nodes pass two health checks 500 ms apart before the balancer routes to them.
        var reply = try fetch()
        for _ in 0..<100 where reply.status != 200 {
            usleep(100_000)
            reply = try fetch()
        }
        try #require(reply.status == 200, "the balancer never served: \(reply.status)")
        usleep(1_500_000)

        var bodies: [[UInt8]] = []
        var statuses: [Int] = []
        for index in 0..<80 {
            if index == 40 {
                let (status, log) = node1.stop()
                #expect(status == 0, "\(log)")
                #expect(!log.contains("after serving 0 bytes"), "node 1 served its share before it stopped: \(log)")
            }
            let reply = try fetch()
            statuses.append(reply.status)
            if reply.status == 200 { bodies.append(reply.body) }
        }
        #expect(statuses.allSatisfy { $0 == 200 }, "every request is served across the failover: \(statuses)")
        #expect(bodies.allSatisfy { $0.count == 4096 })
        var windows = Set<[UInt8]>()
        var total = 0
        for body in bodies {
            for start in stride(from: 0, to: body.count, by: 16) {
                windows.insert(Array(body[start..<start + 16]))
                total += 1
            }
        }
        #expect(windows.count == total, "no 16-byte window served twice: \(total - windows.count) repeats")
        haproxy.terminate()
        haproxy.waitUntilExit()
        let log = String(decoding: haproxyLog.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(log.contains("node1 is DOWN"), "the health checks took node 1 out: \(log)")
    }
}
