import QRNG

// Sorting (key, rotation) pairs by key: least-significant-digit radix passes, with buckets split as they grow.
extension CyclicRotationSort {
    /// Sorts (key, payload) pairs by key into `sortedKeys` and `sortedPayload`: one radix pass over the keys' top
    /// bits, then one insertion pass over everything, which only moves keys within their (small) buckets. Keys are
    /// left-aligned, so the top bits are the most significant symbols.
    ///
    /// The first pass takes at most 8 bits: one pass over 16 bits scatters a block's keys over 65,536 places in
    /// arrays larger than the cache, where 256 places (whose current lines all fit the first-level cache) and then
    /// a second pass within each bucket (which fits it too) go faster.
    static func sortPairs(
        keys: UnsafePointer<UInt64>, payload: UnsafePointer<UInt32>, count: Int,
        sortedKeys: UnsafeMutablePointer<UInt64>, sortedPayload: UnsafeMutablePointer<UInt32>,
        bucketStarts: UnsafeMutablePointer<Int32>
    ) {
        let digitBits = min(maximumFirstDigitBits, max(4, Int.bitWidth - count.leadingZeroBitCount))
        let shift = UInt64(64 - digitBits)
        radixSortPairs(
            keys: keys, payload: payload, count: count, sortedKeys: sortedKeys, sortedPayload: sortedPayload,
            bucketCount: 1 << digitBits, sortedBits: digitBits, bucketStarts: bucketStarts
        ) { key in Int(key &>> shift) }
    }

    /// The radix pass of `sortPairs` by any digit that orders keys as their top `sortedBits` bits do (and tells
    /// apart keys that differ there), with `bucketCount` values; then the insertion pass. Buckets too large for
    /// insertion are split first by further radix passes over the next bits: keys need not spread evenly over
    /// their top bits.
    @inline(__always)
    static func radixSortPairs(
        keys: UnsafePointer<UInt64>, payload: UnsafePointer<UInt32>, count: Int,
        sortedKeys: UnsafeMutablePointer<UInt64>, sortedPayload: UnsafeMutablePointer<UInt32>,
        bucketCount: Int, sortedBits: Int, bucketStarts: UnsafeMutablePointer<Int32>, digit: (UInt64) -> Int
    ) {
        bucketStarts.update(repeating: 0, count: bucketCount)
        for index in 0..<count { bucketStarts[digit(keys[index])] &+= 1 }
        var largeBuckets: [(start: Int, end: Int)] = []
        var total: Int32 = 0
        for bucket in 0..<bucketCount {
            let size = bucketStarts[bucket]
            bucketStarts[bucket] = total
            if size > largeBucket { largeBuckets.append((Int(total), Int(total &+ size))) }
            total &+= size
        }
        // Scatter with starts that advance.
        for index in 0..<count {
            let bucket = digit(keys[index])
            let slot = Int(bucketStarts[bucket])
            bucketStarts[bucket] = Int32(truncatingIfNeeded: slot &+ 1)
            sortedKeys[slot] = keys[index]
            sortedPayload[slot] = payload[index]
        }
        if !largeBuckets.isEmpty {
            let largest = largeBuckets.reduce(0) { max($0, $1.end - $1.start) }
            let spareKeys = UnsafeMutablePointer<UInt64>.allocate(capacity: largest)
            let sparePayload = UnsafeMutablePointer<UInt32>.allocate(capacity: largest)
            defer {
                spareKeys.deallocate()
                sparePayload.deallocate()
            }
            for range in largeBuckets {
                splitBucket(
                    keys: sortedKeys + range.start, payload: sortedPayload + range.start, count: range.end - range.start,
                    sortedBits: sortedBits, spareKeys: spareKeys, sparePayload: sparePayload, counts: bucketStarts)
            }
        }
        guard count > 1 else { return }
        for index in 1..<count {
            let key = sortedKeys[index]
            guard key < sortedKeys[index - 1] else { continue }
            let value = sortedPayload[index]
            var slot = index
            repeat {
                sortedKeys[slot] = sortedKeys[slot - 1]
                sortedPayload[slot] = sortedPayload[slot - 1]
                slot -= 1
            } while slot > 0 && sortedKeys[slot - 1] > key
            sortedKeys[slot] = key
            sortedPayload[slot] = value
        }
    }

    /// Buckets larger than this are split further; smaller ones are left to the insertion pass.
    static let largeBucket: Int32 = 32

    /// Sorts a bucket of pairs (or of keys alone, without payloads) whose keys agree on their top `sortedBits` bits
    /// by a radix pass over the next bits, in place (through the spare buffers), then splits the parts still too
    /// large the same way. Parts whose keys agree on all 64 bits are done; the rest is left to the insertion pass.
    /// `counts` has room for 2^16.
    static func splitBucket(
        keys: UnsafeMutablePointer<UInt64>, payload: UnsafeMutablePointer<UInt32>?, count: Int, sortedBits: Int,
        spareKeys: UnsafeMutablePointer<UInt64>, sparePayload: UnsafeMutablePointer<UInt32>?,
        counts: UnsafeMutablePointer<Int32>
    ) {
        guard sortedBits < 64 else { return }
        // About one key a bucket: fewer buckets to clear than keys to place.
        let digitBits = min(maximumDigitBits, 64 - sortedBits, Int.bitWidth - count.leadingZeroBitCount)
        let bucketCount = 1 << digitBits
        let shift = UInt64(64 - digitBits)
        let drop = UInt64(sortedBits)
        spareKeys.update(from: keys, count: count)
        if let payload { sparePayload!.update(from: payload, count: count) }
        counts.update(repeating: 0, count: bucketCount)
        for index in 0..<count { counts[Int((spareKeys[index] &<< drop) &>> shift)] &+= 1 }
        var largeParts: [(start: Int, end: Int)] = []
        var total: Int32 = 0
        for bucket in 0..<bucketCount {
            let size = counts[bucket]
            counts[bucket] = total
            if size > largeBucket { largeParts.append((Int(total), Int(total &+ size))) }
            total &+= size
        }
        if let payload, let sparePayload {
            for index in 0..<count {
                let bucket = Int((spareKeys[index] &<< drop) &>> shift)
                let slot = Int(counts[bucket])
                counts[bucket] = Int32(truncatingIfNeeded: slot &+ 1)
                keys[slot] = spareKeys[index]
                payload[slot] = sparePayload[index]
            }
        } else {
            for index in 0..<count {
                let bucket = Int((spareKeys[index] &<< drop) &>> shift)
                let slot = Int(counts[bucket])
                counts[bucket] = Int32(truncatingIfNeeded: slot &+ 1)
                keys[slot] = spareKeys[index]
            }
        }
        for part in largeParts {
            splitBucket(
                keys: keys + part.start, payload: payload.map { $0 + part.start }, count: part.end - part.start,
                sortedBits: sortedBits + digitBits, spareKeys: spareKeys, sparePayload: sparePayload, counts: counts)
        }
    }
}
