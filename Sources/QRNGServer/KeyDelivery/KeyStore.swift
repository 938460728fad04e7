import Foundation
import Synchronization

/// The keys a key management entity (KME) holds between a master SAE's `enc_keys` call, which creates them, and
/// each of their slave SAEs' `dec_keys` calls, which take them once.
///
/// A key is held for its master and the slaves named when it was made, and for nobody else. Each slave can take it
/// once; after the last slave has, or once its lifetime is over, its bytes are zeroed (``KeyMaterial``). Nothing is
/// written to disk: a restart loses the keys not yet delivered, and never delivers one twice.
///
/// Room is reserved before the pool is drawn on, so a KME that is full refuses at no cost to the pool.
final class KeyStore: Sendable {
    /// A master SAE and one of its slaves: what keys are counted by.
    struct Pair: Hashable, Sendable, CustomStringConvertible {
        let master: String
        let slave: String

        var description: String { "\(master)→\(slave)" }
    }

    /// Why the store cannot do what was asked.
    enum Refusal: Error, Equatable {
        /// Creating the keys would hold more than the store's capacity.
        case full(stored: Int, capacity: Int)
        /// The key is not one this slave may take from this master now: unknown, taken, expired or someone
        /// else's. Which of these is not said, so that the answer reveals nothing about other SAEs' keys.
        case unavailable(UUID)
        /// The same key ID twice in one request.
        case repeated(UUID)
    }

    /// Room for keys about to be created; give it to ``deposit(_:into:master:slaves:now:)`` or ``release(_:)``.
    struct Reservation: ~Copyable {
        fileprivate let count: Int
    }

    /// A key on its way to an SAE; its bytes are zeroed when the last reference to them goes.
    struct Key: Sendable {
        let id: UUID
        let material: KeyMaterial
    }

    private struct HeldKey {
        let master: String
        var slaves: Set<String>
        let material: KeyMaterial
        let expiry: ContinuousClock.Instant
    }

    private struct State {
        var keys: [UUID: HeldKey] = [:]
        var reserved = 0
        var heldByPair: [Pair: Int] = [:]
    }

    /// The most keys held at once, counting those reserved: `max_key_count`.
    let capacity: Int
    /// How long a key waits for its slaves before it expires.
    let lifetime: Duration
    private let state = Mutex(State())

    init(capacity: Int, lifetime: Duration) {
        self.capacity = capacity
        self.lifetime = lifetime
    }

    /// Keys held and reserved, across all pairs.
    var count: Int { state.withLock { $0.keys.count + $0.reserved } }

    /// Keys held for `pair`: made by its master, not yet taken by its slave: `stored_key_count`.
    func heldCount(for pair: Pair) -> Int { state.withLock { $0.heldByPair[pair] ?? 0 } }

    /// Makes room for `count` keys, or refuses if there is none.
    func reserve(_ count: Int) throws(Refusal) -> Reservation {
        try state.withLock { (state) throws(Refusal) in
            let stored = state.keys.count + state.reserved
            guard stored + count <= capacity else { throw .full(stored: stored, capacity: capacity) }
            state.reserved += count
        }
        return Reservation(count: count)
    }

    /// Gives back room reserved for keys that were not made after all.
    func release(_ reservation: consuming Reservation) {
        let count = reservation.count
        state.withLock { $0.reserved -= count }
    }

    /// Makes keys of `material`'s bytes, `keyBytes` each, held for `slaves` of `master`; returns them in order.
    func deposit(
        _ reservation: consuming Reservation, material: KeyMaterial, keyBytes: Int,
        master: String, slaves: [String], now: ContinuousClock.Instant = .now
    ) -> [Key] {
        let count = reservation.count
        precondition(material.count == count * keyBytes, "the material is not \(count) keys of \(keyBytes) bytes")
        let keys = material.withUnsafeBytes { material in
            (0..<count).map { index in
                Key(id: UUID(), material: KeyMaterial(copying: UnsafeRawBufferPointer(rebasing:
                    material[index * keyBytes..<(index + 1) * keyBytes])))
            }
        }
        let expiry = now + lifetime
        state.withLock { state in
            state.reserved -= count
            for key in keys {
                // A version-4 UUID has 122 random bits: a repeat is not expected in the life of the universe, but
                // a collision must never hand one key's slaves another's bytes.
                precondition(state.keys[key.id] == nil, "key ID \(key.id) repeated")
                state.keys[key.id] = HeldKey(
                    master: master, slaves: Set(slaves), material: key.material, expiry: expiry)
            }
            for slave in slaves { state.heldByPair[Pair(master: master, slave: slave), default: 0] += count }
        }
        return keys
    }

    /// Takes the keys `ids`, all or none, for `slave` from `master`: each is then no longer held for that slave,
    /// and once no slave waits for it, the store lets go of its bytes.
    func withdraw(
        _ ids: [UUID], by slave: String, from master: String, now: ContinuousClock.Instant = .now
    ) throws(Refusal) -> [Key] {
        try state.withLock { (state) throws(Refusal) -> [Key] in
            var seen = Set<UUID>()
            for id in ids {
                guard seen.insert(id).inserted else { throw .repeated(id) }
                guard let key = state.keys[id], key.master == master, key.slaves.contains(slave), now < key.expiry
                else { throw .unavailable(id) }
            }
            let pair = Pair(master: master, slave: slave)
            return ids.map { id in
                let material = state.keys[id]!.material
                state.keys[id]!.slaves.remove(slave)
                if state.keys[id]!.slaves.isEmpty { state.keys[id] = nil }
                Self.decrement(&state.heldByPair, pair, by: 1)
                return Key(id: id, material: material)
            }
        }
    }

    /// Lets go of every key whose lifetime is over; returns how many each pair lost.
    func expire(now: ContinuousClock.Instant = .now) -> [Pair: Int] {
        state.withLock { state in
            var expired: [Pair: Int] = [:]
            for (id, key) in state.keys where key.expiry <= now {
                for slave in key.slaves {
                    let pair = Pair(master: key.master, slave: slave)
                    expired[pair, default: 0] += 1
                    Self.decrement(&state.heldByPair, pair, by: 1)
                }
                state.keys[id] = nil
            }
            return expired
        }
    }

    /// Lets go of every key, as at shutdown; returns how many were held.
    @discardableResult
    func removeAll() -> Int {
        state.withLock { state in
            let count = state.keys.count
            state.keys = [:]
            state.heldByPair = [:]
            return count
        }
    }

    private static func decrement(_ counts: inout [Pair: Int], _ pair: Pair, by amount: Int) {
        let left = (counts[pair] ?? 0) - amount
        counts[pair] = left > 0 ? left : nil
    }
}
