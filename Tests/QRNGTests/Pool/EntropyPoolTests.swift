import Dispatch
import Foundation
import QRNG
import Synchronization
import Testing

@Suite struct EntropyPoolTests {
    static let provenance = Provenance(kind: .simulated, detail: "test")

    /// Words numbered from `start`: unique, so any bits handed out twice would show up as a repeated number.
    static func numbered(_ range: Range<UInt64>) -> BitBuffer {
        BitBuffer(words: Array(range), count: range.count * 64)
    }

    @Test func bitsComeOutInOrderOnce() throws {
        let pool = EntropyPool(provenance: Self.provenance, capacityBits: 1024)
        try pool.deposit(Self.numbered(0..<4))
        #expect(pool.availableBits == 256)
        #expect(try pool.take(bits: 64).words == [0])
        #expect(try pool.randomWords(count: 2) == [UInt64(1).bigEndian, UInt64(2).bigEndian])
        #expect(try pool.take(bits: 64).words == [3])
        #expect(pool.availableBits == 0)
        #expect(pool.statistics.bitsDeposited == 256 && pool.statistics.bitsTaken == 256)
    }

    @Test func nonBlockingReadsReportEmpty() throws {
        let pool = EntropyPool(provenance: Self.provenance, capacityBits: 1024)
        #expect(try pool.tryTake(bits: 1) == nil)
        var bytes = [UInt8](repeating: 7, count: 4)
        #expect(try bytes.withUnsafeMutableBytes { try pool.tryRead(into: $0) } == .empty)
        #expect(bytes == [7, 7, 7, 7], "an empty read leaves the destination alone")
        try pool.deposit(BitBuffer(packedBytes: [1, 2, 3]))
        #expect(try bytes.withUnsafeMutableBytes { try pool.tryRead(into: $0) } == .empty)
        #expect(try pool.tryTake(bits: 8) == BitBuffer(packedBytes: [1]))
        #expect(try bytes.withUnsafeMutableBytes { try pool.tryRead(into: UnsafeMutableRawBufferPointer(rebasing: $0.prefix(2))) } == .filled)
        #expect(bytes.prefix(2) == [2, 3])
    }

    @Test func closingWakesWaitingConsumersWithTheReason() throws {
        let pool = EntropyPool(provenance: Self.provenance, capacityBits: 1024)
        let outcome = Mutex<QRNGError?>(nil)
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            do {
                _ = try pool.take(bits: 100)
            } catch let error as QRNGError {
                outcome.withLock { $0 = error }
            } catch {
            }
            done.signal()
        }
        let reason = QRNGError(.healthTestFailure, "test failure")
        pool.close(reason: reason)
        done.wait()
        #expect(outcome.withLock { $0 } == reason)
        #expect(throws: QRNGError.self) { try pool.deposit(Self.numbered(0..<1)) }
    }

    @Test func closingCanDiscardWhatIsLeft() throws {
        let pool = EntropyPool(provenance: Self.provenance, capacityBits: 1024)
        try pool.deposit(Self.numbered(0..<2))
        pool.close(reason: QRNGError(.healthTestFailure, "failed"), discardingRemainingBits: true)
        #expect(pool.availableBits == 0 && pool.statistics.bitsDiscarded == 128)
        #expect(throws: QRNGError.self) { try pool.take(bits: 1) }

        let draining = EntropyPool(provenance: Self.provenance, capacityBits: 1024)
        try draining.deposit(Self.numbered(0..<2))
        draining.close(reason: QRNGError(.endOfInput, "ended"))
        #expect(try draining.take(bits: 128) == Self.numbered(0..<2))
        #expect(throws: QRNGError.self) { try draining.take(bits: 1) }
    }

    /// One producer and four consumers on their own threads, through a pool much smaller than the traffic:
    /// two consumers block for one word at a time, two poll for several words at once. Every word is handed out
    /// exactly once.
    @Test func concurrentConsumersNeverShareBits() throws {
        let pool = EntropyPool(provenance: Self.provenance, capacityBits: 4096)
        let totalWords: UInt64 = 40_000
        let consumers = 4
        let received = Mutex<[UInt64]>([])
        let group = DispatchGroup()
        for consumer in 0..<consumers {
            group.enter()
            Thread.detachNewThread {
                var mine: [UInt64] = []
                var request = 1 + consumer
                do {
                    while true {
                        if consumer < 2 {
                            // Deposits and takes are whole words, so a one-word take is never partial.
                            mine += try pool.take(bits: 64).words
                        } else if let bits = try pool.tryTake(bits: 64 * request) {
                            mine += bits.words
                            request = request % 7 + 1
                        }
                    }
                } catch {}
                received.withLock { $0 += mine }
                group.leave()
            }
        }
        for start in stride(from: UInt64(0), to: totalWords, by: 100) {
            try pool.deposit(Self.numbered(start..<start + 100))
        }
        while pool.availableBits > 0 { usleep(1000) }
        pool.close(reason: QRNGError(.endOfInput, "done"))
        group.wait()
        let all = received.withLock { $0 }
        #expect(all.count == Int(totalWords), "every word handed out")
        #expect(all.sorted() == Array(0..<totalWords), "each word exactly once")
        #expect(pool.statistics.bitsTaken == totalWords * 64)
    }

    /// Three consumers reading many words at a time, so that their copies run outside the lock at once, while a
    /// producer refills a pool a few reads large. No word is handed out twice.
    @Test func largeConcurrentReadsNeverShareBits() throws {
        let pool = EntropyPool(provenance: Self.provenance, capacityBits: 1 << 13)
        let totalWords: UInt64 = 200_000
        let received = Mutex<[UInt64]>([])
        let group = DispatchGroup()
        for consumer in 0..<3 {
            group.enter()
            Thread.detachNewThread {
                var mine: [UInt64] = []
                var size = 1 + consumer * 20
                do {
                    while true {
                        var buffer = [UInt64](repeating: 0, count: size)
                        if consumer == 2 {
                            guard try buffer.withUnsafeMutableBytes({ try pool.tryRead(into: $0) }) == .filled else {
                                continue
                            }
                        } else {
                            try buffer.withUnsafeMutableBytes { try pool.read(into: $0) }
                        }
                        mine += buffer.map { UInt64(bigEndian: $0) }
                        size = size % 100 + 1
                    }
                } catch {}
                received.withLock { $0 += mine }
                group.leave()
            }
        }
        for start in stride(from: UInt64(0), to: totalWords, by: 1000) {
            try pool.deposit(Self.numbered(start..<start + 1000))
        }
        while pool.availableBits > 0 { usleep(1000) }
        pool.close(reason: QRNGError(.endOfInput, "done"))
        group.wait()
        // A read still waiting when the pool closes loses its partial buffer (the bits were handed out), so up
        // to three reads' worth of words may be missing; none may be repeated or invented.
        let all = received.withLock { $0 }
        let distinct = Set(all)
        #expect(distinct.count == all.count, "\(all.count - distinct.count) words handed out twice")
        #expect(all.allSatisfy { $0 < totalWords }, "words that were never deposited")
        #expect(all.count > Int(totalWords) - 300, "only \(all.count) of \(totalWords) words handed out")
    }

    /// A producer waiting in `waitForRoom` sleeps until consumers take the level below the low watermark, not at
    /// every take.
    @Test func aProducerWaitingForRoomWakesOnlyBelowTheLowWatermark() throws {
        let pool = EntropyPool(provenance: Self.provenance, capacityBits: 1024, lowWatermarkBits: 512)
        try pool.deposit(Self.numbered(0..<16))
        let resumed = Atomic<Bool>(false)
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            try? pool.waitForRoom()
            resumed.store(true, ordering: .sequentiallyConsistent)
            done.signal()
        }
        _ = try pool.take(bits: 256)  // 768 left
        _ = try pool.take(bits: 192)  // 576 left
        usleep(30_000)
        let early = resumed.load(ordering: .sequentiallyConsistent)
        #expect(!early, "woken above the low watermark")
        _ = try pool.take(bits: 128)  // 448 left
        done.wait()
        let late = resumed.load(ordering: .sequentiallyConsistent)
        #expect(late)
    }
}
