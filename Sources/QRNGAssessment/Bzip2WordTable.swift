/// Distinct words, by open addressing on their keys.
final class WordTable<Key: FixedWidthInteger & UnsignedInteger> {
    private(set) var count = 0
    private var capacity = 256
    private(set) var keys = UnsafeMutablePointer<Key>.allocate(capacity: 256)
    private(set) var lengths = UnsafeMutablePointer<UInt8>.allocate(capacity: 256)
    private(set) var frequencies = UnsafeMutablePointer<Int32>.allocate(capacity: 256)
    private var slotBits = 10
    private var slots = UnsafeMutablePointer<Int32>.allocate(capacity: 1 << 10)

    init() { slots.initialize(repeating: -1, count: 1 << slotBits) }

    deinit {
        keys.deallocate()
        lengths.deallocate()
        frequencies.deallocate()
        slots.deallocate()
    }

    @inline(__always)
    private func home(_ key: Key) -> Int {
        // Words sit in the top bytes of their keys, so fold the high half down before multiplying: a multiply
        // carries low bits up, never high bits down.
        var folded = UInt64(truncatingIfNeeded: key) ^ UInt64(truncatingIfNeeded: key >> 64)
        folded ^= folded &>> 32
        return Int(truncatingIfNeeded: (folded &* 0x9E37_79B9_7F4A_7C15) &>> UInt64(64 - slotBits))
    }

    /// The identifier of the word with this key (and length), numbered in order of first appearance.
    @inline(__always)
    func identifier(of key: Key, length: Int) -> UInt32 {
        let mask = (1 << slotBits) - 1
        var slot = home(key)
        while true {
            let existing = Int(slots[slot])
            if existing < 0 { break }
            if keys[existing] == key {
                frequencies[existing] &+= 1
                return UInt32(truncatingIfNeeded: existing)
            }
            slot = (slot &+ 1) & mask
        }
        return insert(key, length: length, at: slot)
    }

    private func insert(_ key: Key, length: Int, at slot: Int) -> UInt32 {
        if count == capacity {
            let larger = 2 * capacity
            func grown<T>(_ old: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<T> {
                let new = UnsafeMutablePointer<T>.allocate(capacity: larger)
                new.moveInitialize(from: old, count: count)
                old.deallocate()
                return new
            }
            keys = grown(keys)
            lengths = grown(lengths)
            frequencies = grown(frequencies)
            capacity = larger
        }
        let identifier = count
        slots[slot] = Int32(identifier)
        (keys + identifier).initialize(to: key)
        (lengths + identifier).initialize(to: UInt8(truncatingIfNeeded: length))
        (frequencies + identifier).initialize(to: 1)
        count += 1
        // At most one slot in eight taken while the table is small (up to 4,096 slots, 16 KiB), so that a lookup
        // seldom probes past its home slot and mispredicts (a block of 8-bit samples has 256 or 257 words: 13% of
        // lookups probed again at 1,024 slots, 0.4% at 4,096); half full beyond.
        if (slotBits < 12 ? 8 * count : 2 * count) > 1 << slotBits { rehash() }
        return UInt32(identifier)
    }

    private func rehash() {
        slots.deallocate()
        slotBits += 1
        slots = .allocate(capacity: 1 << slotBits)
        slots.initialize(repeating: -1, count: 1 << slotBits)
        let mask = (1 << slotBits) - 1
        for identifier in 0..<count {
            var slot = home(keys[identifier])
            while slots[slot] >= 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(identifier)
        }
    }
}
