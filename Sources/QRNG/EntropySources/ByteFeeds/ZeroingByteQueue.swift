/// A first-in, first-out queue of bytes that zeroes every byte it hands out or drops, including the copies that
/// compaction would otherwise leave in spare capacity: the buffer between a feed's origin and its reader.
package struct ZeroingByteQueue: Sendable {
    private var storage: [UInt8] = []
    private var front = 0

    package init() {}

    /// Bytes waiting.
    package var count: Int { storage.count - front }

    package mutating func append(_ bytes: UnsafeRawBufferPointer) {
        storage.append(contentsOf: bytes)
    }

    /// The waiting byte `offset` places from the front.
    package subscript(offset: Int) -> UInt8 { storage[front + offset] }

    /// Copies the first `destination.count` waiting bytes (at most ``count``) into `destination`, zeroes and drops
    /// them; returns how many.
    @discardableResult
    package mutating func take(into destination: UnsafeMutableRawBufferPointer) -> Int {
        let taken = min(destination.count, count)
        storage.withUnsafeMutableBytes { bytes in
            let source = UnsafeMutableRawBufferPointer(rebasing: bytes[front..<front + taken])
            destination.copyMemory(from: UnsafeRawBufferPointer(source))
        }
        drop(taken)
        return taken
    }

    /// Zeroes and drops the first `count` waiting bytes.
    package mutating func drop(_ dropped: Int) {
        precondition(dropped <= count, "cannot drop more bytes than are waiting")
        storage.withUnsafeMutableBytes { secureZero(UnsafeMutableRawBufferPointer(rebasing: $0[front..<front + dropped])) }
        front += dropped
        // Compacts once the dropped part dominates: the bytes move down and the vacated end is zeroed before the
        // array forgets it, so no copy of a byte outlives the byte.
        guard front > 0 && front >= storage.count / 2 else { return }
        let left = storage.count - front
        storage.withUnsafeMutableBytes { bytes in
            if left > 0 { bytes.baseAddress!.copyMemory(from: bytes.baseAddress! + front, byteCount: left) }
            secureZero(UnsafeMutableRawBufferPointer(rebasing: bytes[left...]))
        }
        storage.removeLast(front)
        front = 0
    }

    /// Zeroes and drops everything.
    package mutating func removeAll() {
        storage.withUnsafeMutableBytes { secureZero($0) }
        storage.removeAll()
        front = 0
    }
}
