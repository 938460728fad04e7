import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// How `qrng serve --http` ends: SIGTERM with responses in flight.
@Suite(.serialized) struct HTTPLifecycleTests {
    /// An HTTP/1.1 GET read slowly over a socket with a small receive buffer, so that the server's response
    /// stays in flight as long as it can (curl's --limit-rate reads a whole MiB into its buffers at once).
    final class SlowDownload: @unchecked Sendable {
        // Written by the reading thread only; read by the test after `finished` is signalled.
        private(set) var status = 0
        private(set) var contentLength: Int?
        private(set) var body: [UInt8] = []
        private(set) var closedByPeer = false
        private let received = Atomic<Int>(0)
        private let finished = DispatchSemaphore(value: 0)

        /// Body bytes read so far.
        var receivedCount: Int { received.load(ordering: .relaxed) }

        init(port: UInt16, path: String, bytesPerSecond: Int) {
            Thread.detachNewThread { [self] in
                read(port: port, path: path, bytesPerSecond: bytesPerSecond)
                finished.signal()
            }
        }

        /// Waits until the response ended (complete, or the connection closed).
        func wait() { finished.wait() }

        private func read(port: UInt16, path: String, bytesPerSecond: Int) {
            guard let descriptor = LoopbackSocket.connect(port: port, receiveBuffer: 4096) else { return }
            defer { close(descriptor) }
            let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
            guard send(descriptor, request, request.count, 0) == request.count else { return }
            var head: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 1024)
            let start = Date()
            while true {
                let count = recv(descriptor, &chunk, chunk.count, 0)
                guard count > 0 else {
                    closedByPeer = true
                    return
                }
                if contentLength == nil {
                    head += chunk[0..<count]
                    guard let end = head.firstRange(of: Array("\r\n\r\n".utf8)) else { continue }
                    let lines = String(decoding: head[..<end.lowerBound], as: UTF8.self).split(separator: "\r\n")
                    status = lines.first.flatMap { Int($0.split(separator: " ")[1]) } ?? 0
                    contentLength = lines.first { $0.lowercased().hasPrefix("content-length:") }
                        .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? -1
                    body += head[end.upperBound...]
                } else {
                    body += chunk[0..<count]
                }
                received.store(body.count, ordering: .relaxed)
                // Past Content-Length the reads go on to the close, so that anything extra is caught.
                if let contentLength, body.count >= contentLength { continue }
                // Pace the reads: sleep until the bytes read so far are due at the rate.
                let due = start.addingTimeInterval(Double(body.count) / Double(bytesPerSecond))
                let ahead = due.timeIntervalSinceNow
                if ahead > 0 { usleep(UInt32(ahead * 1e6)) }
            }
        }
    }

    /// SIGTERM while eight 1 MiB responses are in flight, some to clients too slow to finish within the drain
    /// bound: the server exits 0 in bounded time and removes its FIFO, and every client got either the whole
    /// response or a cut one (the connection closed early), never one filled out or stretched: no long run of
    /// zeros, nothing past the Content-Length.
    @Test func sigtermWithMebibyteResponsesInFlight() throws {
        let fifo = ServeCommandTests.path("inflight.fifo")
        let server = try HTTPServeTests.Server([
            "--http", "127.0.0.1:0", "--fifo", fifo, "--allow-simulated", "--seed", "30", "--pool-bytes", "9M",
        ])
        let mebibyte = 1 << 20
        // All eight responses start at once from a pool that holds them.
        let filled = Date().addingTimeInterval(120)
        while (try HTTPServeTests.get("\(server.base)/v1/health").json["poolBits"] as? Int ?? 0) < 64 * mebibyte
            && Date() < filled
        {
            usleep(100_000)
        }
        let port = try #require(server.base.split(separator: ":").last.flatMap { UInt16($0) })
        // 1 MiB at 512 KB/s takes 2 s, within the 10 s drain; at 48 KB/s about 21 s, beyond it, unless the
        // kernel's socket buffers hold what the server wrote (they do on loopback: the responses then finish after
        // the server has gone). Either way each response must be whole or cut, never filled out.
        let downloads = (0..<8).map { index in
            SlowDownload(port: port, path: "/v1/random?bytes=\(mebibyte)", bytesPerSecond: index < 4 ? 1 << 19 : 48 << 10)
        }
        func inFlight() -> Int { downloads.filter { (1..<mebibyte).contains($0.receivedCount) }.count }
        let deadline = Date().addingTimeInterval(60)
        while inFlight() < 8 && Date() < deadline { usleep(20_000) }
        #expect(inFlight() == 8, "responses under way at the signal: \(downloads.map(\.receivedCount))")
        let signalled = Date()
        let (status, log) = server.stop()
        let stopping = Date().timeIntervalSince(signalled)
        #expect(status == 0, "\(log)")
        #expect(stopping < 20, "stopped \(stopping) s after SIGTERM; the drain is bounded at 10 s")
        #expect(!FileManager.default.fileExists(atPath: fifo), "the FIFO is removed")

        var complete = 0
        for download in downloads {
            download.wait()
            let body = download.body
            #expect(download.status == 200 && download.contentLength == mebibyte)
            #expect(body.count <= mebibyte)
            if body.count == mebibyte { complete += 1 } else { #expect(download.closedByPeer, "a cut response ends with the connection") }
            // Random bytes hold no run of 32 zero bytes (odds 2⁻²⁵⁶ per place): nothing was padded.
            var run = 0
            var longest = 0
            for byte in body {
                run = byte == 0 ? run + 1 : 0
                longest = max(longest, run)
            }
            #expect(longest < 32, "a run of \(longest) zero bytes")
        }
        print("in-flight responses at SIGTERM: \(complete) of 8 complete, the rest cut; stopped in \(stopping) s")
        #expect(complete >= 4, "the fast clients finish within the drain: \(complete) of 8 complete\n\(log)")
    }

    /// The systemd units in tools/ run as written: their ExecStart lines, with only what a test machine must
    /// change (the credentials directory, the address, the paths, the group, and the recording: the PicoHarp
    /// file of testvectors/ with its channels), start, serve, and stop on SIGTERM with status 0.
    @Test(arguments: ["qrng-serve.service", "qrng-serve-https.service"])
    func systemdUnitsRunAsWritten(unit: String) throws {
        let text = try String(
            contentsOf: TestPaths.repository.appendingPathComponent("tools/\(unit)"), encoding: .utf8)
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("ExecStart=") })
        let credentials = ServeCommandTests.path("credentials-\(unit)")
        let state = ServeCommandTests.path("state-\(unit)")
        let fifo = ServeCommandTests.path("unit-\(unit).fifo")
        try FileManager.default.createDirectory(atPath: credentials, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        defer {
            try? FileManager.default.removeItem(atPath: credentials)
            try? FileManager.default.removeItem(atPath: state)
        }
        let (certificate, key) = try HTTPServeTests.makeCertificate()
        try FileManager.default.moveItem(atPath: certificate, toPath: credentials + "/tls-cert")
        try FileManager.default.moveItem(atPath: key, toPath: credentials + "/tls-key")
        let recording = TestPaths.repository.appendingPathComponent("testvectors/ptu/picoharp_v30_t2.ptu").path
        var arguments: [String] = []
        var words = line.dropFirst("ExecStart=".count).split(separator: " ").map(String.init).dropFirst()[...]
        #expect(line.hasPrefix("ExecStart=/usr/local/bin/qrng serve "))
        while let word = words.popFirst() {
            switch word {
            case "--group": _ = words.popFirst()  // no group qrng here
            case "--http": _ = words.popFirst(); arguments += ["--http", "127.0.0.1:0"]
            case "--fifo": _ = words.popFirst(); arguments += ["--fifo", fifo]
            case "--source":
                _ = words.popFirst()
                arguments += ["--source", "ptu:\(recording)", "--cw", "--d0-channel", "0", "--d1-channel", "1"]
            default: arguments.append(word.replacingOccurrences(of: "%d", with: credentials))
            }
        }
        // The recording holds 0.9 M samples: a shorter assessment, a pipe that leaves bytes for HTTP, and no
        // photon monitors (this file is not single-photon light, see SourceCommandTests).
        arguments += ["--assess-samples", "50000", "--pipe-bytes", "4096", "--no-monitors"]
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ServeCommandTests.binary)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(["STATE_DIRECTORY": state]) { $1 }
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        var log = ""
        let deadline = Date().addingTimeInterval(60)
        while !log.contains(arguments.contains("--http") ? "listening on https://" : "serving \(fifo)") && Date() < deadline {
            var descriptors = [pollfd(fd: errors.fileHandleForReading.fileDescriptor, events: Int16(POLLIN), revents: 0)]
            guard poll(&descriptors, 1, 1000) > 0 else { continue }
            let data = errors.fileHandleForReading.availableData
            if data.isEmpty { break }
            log += String(decoding: data, as: UTF8.self)
        }
        let handle = try #require(FileHandle(forReadingAtPath: fifo), "\(log)")
        let piped = try handle.read(upToCount: 16) ?? Data()
        try handle.close()
        #expect(piped.count == 16, "\(log)")
        if arguments.contains("--http") {
            let line = try #require(log.split(separator: "\n").first { $0.contains("listening on https://") })
            let base = try #require(line.split(separator: " ").first { $0.hasPrefix("https://") })
                .trimmingCharacters(in: CharacterSet(charactersIn: ","))
            let reply = try HTTPServeTests.get(
                "\(base)/v1/random?bytes=64", curlOptions: ["--cacert", credentials + "/tls-cert", "--http2"])
            #expect(reply.status == 200 && reply.body.count == 64 && reply.httpVersion == "2", "\(reply.text)")
            #expect(reply.headers.lowercased().contains("qrng-source: recording"))
        }
        kill(process.processIdentifier, SIGTERM)
        log += String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(log)")
        #expect(!FileManager.default.fileExists(atPath: fifo))
        #expect(log.contains("(assessed: SP 800-90B non-IID over 50000 samples"), "the unit assesses its source: \(log)")
    }
}

/// TCP connections to the server under test, for clients curl cannot play.
enum LoopbackSocket {
    /// A connection to 127.0.0.1:`port`, with a small receive buffer if asked; `nil` if refused.
    static func connect(port: UInt16, receiveBuffer: Int32? = nil) -> Int32? {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        if var size = receiveBuffer {
            setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(descriptor)
            return nil
        }
        return descriptor
    }
}
