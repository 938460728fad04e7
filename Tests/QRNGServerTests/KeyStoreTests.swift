import Dispatch
import Foundation
import Synchronization
import Testing

@testable import QRNGServer

/// The KME's key store: each key goes to each of its slaves once, to nobody else, and not after its lifetime.
@Suite struct KeyStoreTests {
    /// `count` keys of `bytes` bytes, key i filled with the byte i + 1.
    private func deposit(
        _ store: KeyStore, count: Int, bytes: Int = 32, master: String = "alice", slaves: [String] = ["bob"],
        now: ContinuousClock.Instant = .now
    ) throws -> [KeyStore.Key] {
        let reservation = try store.reserve(count)
        let material = KeyMaterial(count: count * bytes) { buffer in
            for index in 0..<buffer.count { buffer[index] = UInt8(index / bytes + 1) }
        }
        return store.deposit(reservation, material: material, keyBytes: bytes, master: master, slaves: slaves, now: now)
    }

    private func bytes(_ key: KeyStore.Key) -> [UInt8] { key.material.withUnsafeBytes { Array($0) } }

    @Test func eachKeyGoesToItsSlaveOnceAndToNobodyElse() throws {
        let store = KeyStore(capacity: 100, lifetime: .seconds(60))
        let keys = try deposit(store, count: 3)
        #expect(Set(keys.map(\.id)).count == 3)
        #expect(keys.map(bytes) == [[UInt8](repeating: 1, count: 32), [UInt8](repeating: 2, count: 32), [UInt8](repeating: 3, count: 32)])
        #expect(store.heldCount(for: .init(master: "alice", slave: "bob")) == 3)

        // Another SAE, the right slave under another master, and the master itself are all refused alike.
        #expect(throws: KeyStore.Refusal.unavailable(keys[0].id)) { try store.withdraw([keys[0].id], by: "carol", from: "alice") }
        #expect(throws: KeyStore.Refusal.unavailable(keys[0].id)) { try store.withdraw([keys[0].id], by: "bob", from: "carol") }
        #expect(throws: KeyStore.Refusal.unavailable(keys[0].id)) { try store.withdraw([keys[0].id], by: "alice", from: "alice") }

        let fetched = try store.withdraw([keys[1].id, keys[0].id], by: "bob", from: "alice")
        #expect(fetched.map(\.id) == [keys[1].id, keys[0].id])
        #expect(fetched.map(bytes) == [bytes(keys[1]), bytes(keys[0])])
        #expect(store.heldCount(for: .init(master: "alice", slave: "bob")) == 1)
        #expect(throws: KeyStore.Refusal.unavailable(keys[0].id)) { try store.withdraw([keys[0].id], by: "bob", from: "alice") }
    }

    @Test func aRequestIsServedWhollyOrNotAtAll() throws {
        let store = KeyStore(capacity: 100, lifetime: .seconds(60))
        let keys = try deposit(store, count: 2)
        let unknown = UUID()
        #expect(throws: KeyStore.Refusal.unavailable(unknown)) { try store.withdraw([keys[0].id, unknown], by: "bob", from: "alice") }
        #expect(throws: KeyStore.Refusal.repeated(keys[1].id)) {
            try store.withdraw([keys[1].id, keys[1].id], by: "bob", from: "alice")
        }
        // Neither refusal took anything.
        #expect(try store.withdraw([keys[0].id, keys[1].id], by: "bob", from: "alice").count == 2)
    }

    @Test func aMulticastKeyGoesOnceToEachSlaveAndIsLetGoAfterTheLast() throws {
        let store = KeyStore(capacity: 100, lifetime: .seconds(60))
        var keys = try deposit(store, count: 1, slaves: ["bob", "carol"])
        let id = keys[0].id
        weak let material = keys[0].material
        keys = []
        #expect(store.heldCount(for: .init(master: "alice", slave: "carol")) == 1)
        #expect(try store.withdraw([id], by: "bob", from: "alice").count == 1)
        #expect(material != nil, "carol has not fetched it yet")
        #expect(store.count == 1)
        #expect(try store.withdraw([id], by: "carol", from: "alice").count == 1)
        // Nothing holds the bytes any more: their memory was zeroed and freed (KeyMaterial's deinit).
        #expect(material == nil)
        #expect(store.count == 0)
        #expect(throws: KeyStore.Refusal.unavailable(id)) { try store.withdraw([id], by: "carol", from: "alice") }
    }

    @Test func capacityCountsReservedAndHeldKeys() throws {
        let store = KeyStore(capacity: 10, lifetime: .seconds(60))
        let keys = try deposit(store, count: 6)
        let reservation = try store.reserve(4)
        #expect(throws: KeyStore.Refusal.full(stored: 10, capacity: 10)) { _ = try store.reserve(1) }
        store.release(reservation)
        _ = try store.withdraw([keys[0].id, keys[1].id], by: "bob", from: "alice")
        #expect(store.count == 4)
        store.release(try store.reserve(6))
    }

    @Test func keysExpireAfterTheirLifetime() throws {
        let store = KeyStore(capacity: 100, lifetime: .seconds(10))
        let start = ContinuousClock.now
        let keys = try deposit(store, count: 3, slaves: ["bob", "carol"], now: start)
        weak let material = keys[2].material
        _ = try store.withdraw([keys[0].id], by: "bob", from: "alice", now: start + .seconds(9))
        #expect(store.expire(now: start + .seconds(9)).isEmpty)
        // At the end of its lifetime a key is refused even before the sweep.
        #expect(throws: KeyStore.Refusal.unavailable(keys[1].id)) {
            try store.withdraw([keys[1].id], by: "bob", from: "alice", now: start + .seconds(10))
        }
        let expired = store.expire(now: start + .seconds(10))
        #expect(expired == [.init(master: "alice", slave: "bob"): 2, .init(master: "alice", slave: "carol"): 3])
        #expect(store.count == 0 && store.heldCount(for: .init(master: "alice", slave: "carol")) == 0)
        _ = consume keys
        #expect(material == nil, "expired key material is let go, so zeroed")
    }

    /// Eight masters and eight slaves at once: every key is delivered exactly once, with its bytes, and none is
    /// lost.
    @Test func concurrentMastersAndSlavesNeitherShareNorLoseAKey() throws {
        let store = KeyStore(capacity: 100_000, lifetime: .seconds(600))
        let made = Mutex([UUID: [UInt8]]())
        let delivered = Mutex([UUID: [UInt8]]())
        let failures = Atomic<Int>(0)
        let rounds = 200
        DispatchQueue.concurrentPerform(iterations: 16) { worker in
            let pair = worker % 8
            if worker < 8 {
                for round in 0..<rounds {
                    guard let reservation = try? store.reserve(2) else {
                        failures.add(1, ordering: .relaxed)
                        continue
                    }
                    // Distinct bytes per key (worker, round, index), so that a mix-up shows.
                    let material = KeyMaterial(count: 2 * 8) { buffer in
                        for index in 0..<2 {
                            buffer[8 * index] = UInt8(worker)
                            buffer[8 * index + 1] = UInt8(round & 255)
                            buffer[8 * index + 2] = UInt8(round >> 8)
                            buffer[8 * index + 3] = UInt8(index)
                        }
                    }
                    let keys = store.deposit(reservation, material: material, keyBytes: 8, master: "master\(pair)", slaves: ["slave\(pair)"])
                    made.withLock { for key in keys { $0[key.id] = key.material.withUnsafeBytes { Array($0) } } }
                }
            } else {
                var fetchedCount = 0
                var idle = 0
                while fetchedCount < 2 * rounds && idle < 100_000 {
                    let waiting = made.withLock { made in
                        made.keys.filter { id in delivered.withLock { $0[id] == nil } }
                    }
                    var progressed = false
                    for id in waiting {
                        if let keys = try? store.withdraw([id], by: "slave\(pair)", from: "master\(pair)") {
                            delivered.withLock { delivered in
                                for key in keys {
                                    if delivered[key.id] != nil { failures.add(1, ordering: .relaxed) }
                                    delivered[key.id] = key.material.withUnsafeBytes { Array($0) }
                                }
                            }
                            fetchedCount += keys.count
                            progressed = true
                        }
                    }
                    idle = progressed ? 0 : idle + 1
                }
            }
        }
        #expect(failures.load(ordering: .relaxed) == 0)
        let madeKeys = made.withLock { $0 }
        let deliveredKeys = delivered.withLock { $0 }
        #expect(madeKeys.count == 8 * 2 * rounds)
        #expect(deliveredKeys == madeKeys, "every key delivered once, to its pair's slave, with its own bytes")
        #expect(store.count == 0)
    }
}
