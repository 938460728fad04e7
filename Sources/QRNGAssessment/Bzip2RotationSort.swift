import QRNG

/// Sorting the cyclic rotations of a sequence of small integers, the core of the Burrows–Wheeler transform that
/// `Bzip2Length` needs.
///
/// Each rotation is first summarised by a 64-bit key holding its first symbols, as many whole symbols as fit, and
/// the keys are sorted with a most-significant-digit radix pass. For data with some entropy that settles almost
/// everything. (For symbols of 8 to 12 bits, such as the word ranks of 8-bit samples' text, or of 1, 2 or 4 bits
/// around one that occurs once, such as binary text's, and 256 rotations or more, the keys also hold the
/// rotation's start and are sorted instead by least-significant-digit passes over their leading symbols; see
/// `sortByLeadingSymbols`.) Rotations whose keys tie are refined by prefix doubling (Larsson and Sadakane): once
/// rotations are sorted by their first h symbols, sorting a tied group by the rank of the rotation h further on
/// sorts it by 2h. Identical rotations (a periodic sequence) never separate, and stop the doubling at h ≥ the
/// length; they may come in any order, which leaves the last column unchanged. Should the doubling grow expensive
/// (long repeats), the rotations are sorted instead as the suffixes of the sequence written twice, by SA-IS in
/// linear time.
enum CyclicRotationSort {
    /// Buffers reused from block to block.
    final class Scratch {
        private(set) var capacity = 0
        private(set) var keys = UnsafeMutablePointer<UInt64>.allocate(capacity: 1)
        private(set) var sortedKeys = UnsafeMutablePointer<UInt64>.allocate(capacity: 1)
        private(set) var ranks = UnsafeMutablePointer<UInt32>.allocate(capacity: 1)
        private(set) var payload = UnsafeMutablePointer<UInt32>.allocate(capacity: 1)
        let bucketStarts = UnsafeMutablePointer<Int32>.allocate(capacity: (1 << maximumPairDigitBits) + 1)
        /// Per digit value of the radix passes that split runs of keys, while `bucketStarts` holds other starts.
        let digitCounts = UnsafeMutablePointer<Int32>.allocate(capacity: (1 << maximumDigitBits) + 1)
        /// Per value of a key's top digit: the rank of that value among those that occur.
        let prefixRanks = UnsafeMutablePointer<UInt32>.allocate(capacity: 1 << maximumDigitBits)

        func reserve(_ count: Int) {
            guard count > capacity else { return }
            keys.deallocate()
            sortedKeys.deallocate()
            ranks.deallocate()
            payload.deallocate()
            capacity = max(count, 2 * capacity)
            keys = .allocate(capacity: capacity)
            sortedKeys = .allocate(capacity: capacity)
            ranks = .allocate(capacity: capacity)
            payload = .allocate(capacity: capacity)
        }

        deinit {
            keys.deallocate()
            sortedKeys.deallocate()
            ranks.deallocate()
            payload.deallocate()
            bucketStarts.deallocate()
            digitCounts.deallocate()
            prefixRanks.deallocate()
        }
    }

    static let maximumDigitBits = 16
    static let maximumFirstDigitBits = 8
    /// Buckets of the two-digit radix pass (see `sort`): up to 512 prefixes squared.
    static let maximumPairDigitBits = 18

    /// Writes to `order` the start of every rotation of `sequence` (symbols below `alphabetSize`), smallest first.
    static func sort(
        _ sequence: UnsafeBufferPointer<UInt32>, alphabetSize: Int, into order: UnsafeMutablePointer<UInt32>,
        scratch: Scratch
    ) {
        let count = sequence.count
        guard count > 1, alphabetSize > 1 else {
            for index in 0..<count { order[index] = UInt32(index) }
            return
        }
        // One more key than rotations, for `sortByLeadingSymbols`' sentinel.
        scratch.reserve(count + 1)
        if sortAroundUniqueSymbol(sequence, alphabetSize: alphabetSize, into: order, scratch: scratch) { return }
        let symbolBits = Int.bitWidth - (alphabetSize - 1).leadingZeroBitCount
        // Narrower symbols' digits are sparse when symbols are (sortBySparsePrefixes), and would leave large runs.
        if symbolsPerDigit(symbolBits: symbolBits) == 1 && count >= 256 {
            let symbolCounts = scratch.bucketStarts
            symbolCounts.update(repeating: 0, count: 1 << symbolBits)
            for index in 0..<count { symbolCounts[Int(sequence[index])] &+= 1 }
            let indexBits = Int.bitWidth - (count - 1).leadingZeroBitCount
            sortByLeadingSymbols(
                sequence, alphabetSize: alphabetSize, unique: nil, symbolBits: symbolBits, symbolsPerDigit: 1,
                symbolsPerKey: (64 - indexBits) / symbolBits, indexBits: indexBits, placed: [], bounds: [], into: order,
                scratch: scratch)
            return
        }
        let symbolsPerKey = 64 / symbolBits
        let keyBits = symbolsPerKey * symbolBits
        let keys = scratch.keys
        let payload = scratch.payload
        // The key of rotation i holds symbols i ..< i + symbolsPerKey (cyclically), left-aligned.
        let window: UInt64 = keyBits == 64 ? .max : (1 << UInt64(keyBits)) - 1
        var rolling: UInt64 = 0
        var next = 0
        for _ in 0..<(symbolsPerKey - 1) {
            rolling = (rolling << UInt64(symbolBits)) | UInt64(sequence[next])
            next += 1
            if next == count { next = 0 }
        }
        for index in 0..<count {
            rolling = ((rolling << UInt64(symbolBits)) | UInt64(sequence[next])) & window
            next += 1
            if next == count { next = 0 }
            keys[index] = rolling &<< UInt64(64 - keyBits)
            payload[index] = UInt32(truncatingIfNeeded: index)
        }
        if !sortBySparsePrefixes(
            keys: keys, count: count, alphabetSize: alphabetSize, symbolBits: symbolBits, symbolsPerKey: symbolsPerKey,
            into: order, scratch: scratch)
        {
            sortPairs(
                keys: keys, payload: payload, count: count, sortedKeys: scratch.sortedKeys, sortedPayload: order,
                bucketStarts: scratch.bucketStarts)
        }
        refineTies(
            sequence, alphabetSize: alphabetSize, order: order, sortedKeys: scratch.sortedKeys,
            sortedDepth: symbolsPerKey, ranks: scratch.ranks)
    }

    /// Sorts keys that are nearly in order.
    @inline(__always)
    static func insertionSort(_ keys: UnsafeMutablePointer<UInt64>, count: Int) {
        for index in 1..<count {
            let key = keys[index]
            guard key < keys[index - 1] else { continue }
            var slot = index
            repeat {
                keys[slot] = keys[slot - 1]
                slot -= 1
            } while slot > 0 && keys[slot - 1] > key
            keys[slot] = key
        }
    }

    /// Larsson–Sadakane doubling over the groups of rotations whose keys tie.
    static func refineTies(
        _ sequence: UnsafeBufferPointer<UInt32>, alphabetSize: Int, order: UnsafeMutablePointer<UInt32>,
        sortedKeys: UnsafePointer<UInt64>, sortedDepth: Int, ranks: UnsafeMutablePointer<UInt32>,
        singletons: [Int] = []
    ) {
        let count = sequence.count
        var groups: [(start: Int, end: Int)] = []
        var start = 0
        // Positions in `singletons` (ascending) are in place whatever their keys, and end any group before them.
        var nextSingleton = 0
        while start < count {
            var end = start + 1
            if nextSingleton < singletons.count && singletons[nextSingleton] == start {
                nextSingleton += 1
                start = end
                continue
            }
            let limit = nextSingleton < singletons.count ? singletons[nextSingleton] : count
            while end < limit && sortedKeys[end] == sortedKeys[start] { end += 1 }
            if end - start > 1 { groups.append((start, end)) }
            start = end
        }
        refineGroups(groups, sequence, alphabetSize: alphabetSize, order: order, sortedDepth: sortedDepth, ranks: ranks)
    }

    /// Larsson–Sadakane doubling over `groups`, the ranges of `order` (ascending) whose rotations agree on their
    /// first `sortedDepth` symbols.
    static func refineGroups(
        _ groups: [(start: Int, end: Int)], _ sequence: UnsafeBufferPointer<UInt32>, alphabetSize: Int,
        order: UnsafeMutablePointer<UInt32>, sortedDepth: Int, ranks: UnsafeMutablePointer<UInt32>
    ) {
        let count = sequence.count
        var groups = groups
        // Rotations that agree on `count` symbols or more are identical.
        guard !groups.isEmpty, sortedDepth < count else { return }
        // A rotation's rank is the sorted position of the first member of its group.
        for position in 0..<count { ranks[Int(order[position])] = UInt32(truncatingIfNeeded: position) }
        for group in groups {
            for position in group.start..<group.end {
                ranks[Int(order[position])] = UInt32(truncatingIfNeeded: group.start)
            }
        }
        // Doubling costs O(n log n) a round in the worst case; past this much comparison work SA-IS is cheaper.
        var budget = 24 * count + 4096
        var depth = sortedDepth
        var members: [UInt64] = []
        while !groups.isEmpty && depth < count {
            var unresolved: [(start: Int, end: Int)] = []
            for group in groups {
                let size = group.end - group.start
                members.removeAll(keepingCapacity: true)
                var allEqual = true
                var firstRank: UInt32 = 0
                for position in group.start..<group.end {
                    let rotation = Int(order[position])
                    var shifted = rotation + depth
                    if shifted >= count { shifted -= count }
                    let rank = ranks[shifted]
                    if position == group.start { firstRank = rank } else if rank != firstRank { allEqual = false }
                    members.append(UInt64(rank) << 32 | UInt64(rotation))
                }
                if allEqual {
                    unresolved.append(group)
                    continue
                }
                budget -= size * (Int.bitWidth - size.leadingZeroBitCount)
                if budget < 0 {
                    sortBySuffixArray(sequence, alphabetSize: alphabetSize, into: order)
                    return
                }
                members.sort()
                var subgroupStart = group.start
                for (offset, member) in members.enumerated() {
                    let position = group.start + offset
                    order[position] = UInt32(truncatingIfNeeded: member)
                    if offset > 0 && member >> 32 != members[offset - 1] >> 32 {
                        if position - subgroupStart > 1 { unresolved.append((subgroupStart, position)) }
                        subgroupStart = position
                    }
                    ranks[Int(UInt32(truncatingIfNeeded: member))] = UInt32(truncatingIfNeeded: subgroupStart)
                }
                if group.end - subgroupStart > 1 { unresolved.append((subgroupStart, group.end)) }
            }
            groups = unresolved
            depth *= 2
        }
    }

    /// The rotations as the suffixes of the sequence written twice (with a smallest sentinel after it): suffix i < n
    /// begins with rotation i, so sorting those suffixes sorts the rotations, identical rotations aside.
    static func sortBySuffixArray(
        _ sequence: UnsafeBufferPointer<UInt32>, alphabetSize: Int, into order: UnsafeMutablePointer<UInt32>
    ) {
        let count = sequence.count
        var text = [Int32](repeating: 0, count: 2 * count + 1)
        for index in 0..<count {
            let symbol = Int32(truncatingIfNeeded: sequence[index]) + 1
            text[index] = symbol
            text[index + count] = symbol
        }
        var position = 0
        for suffix in SuffixSorting.suffixArray(text, alphabetSize: alphabetSize + 1) where suffix < count {
            order[position] = UInt32(truncatingIfNeeded: suffix)
            position += 1
        }
    }

    /// Sorts the rotations' keys by a radix pass over two symbol-aligned prefixes, each replaced by its rank
    /// among the prefixes that occur, when few do; returns false, sorting nothing, otherwise.
    ///
    /// The top 16 bits of a key can carry far less than 16 bits of information: with three symbols of which one
    /// is rare (the word ranks of binary text whose block splits a word), each symbol takes two bits of which one is
    /// almost always zero, so the top 16 bits take about 256 values and a one-pass radix sort leaves buckets of
    /// thousands. Ranking the prefixes that occur packs the first two prefixes of a key into one dense digit of
    /// about 16 bits' worth. The second prefix of rotation i is the first of rotation i + (symbols a prefix), so it
    /// too has a rank; and ranks keep the prefixes' order, so the digit orders keys as their top bits do.
    private static func sortBySparsePrefixes(
        keys: UnsafePointer<UInt64>, count: Int, alphabetSize: Int, symbolBits: Int, symbolsPerKey: Int,
        into order: UnsafeMutablePointer<UInt32>, scratch: Scratch
    ) -> Bool {
        let prefixSymbols = maximumDigitBits / symbolBits
        // Prefixes of one symbol, or symbols that fill most of their codes, leave the top bits dense: don't spend a
        // pass over the keys finding that out.
        guard prefixSymbols > 1, 2 * prefixSymbols <= symbolsPerKey, 4 * alphabetSize <= 3 << symbolBits else {
            return false
        }
        let prefixBits = prefixSymbols * symbolBits
        let prefixShift = UInt64(64 - prefixBits)
        let ranks = scratch.prefixRanks
        ranks.update(repeating: 0, count: 1 << prefixBits)
        for index in 0..<count { ranks[Int(keys[index] &>> prefixShift)] = 1 }
        var distinct: UInt32 = 0
        for prefix in 0..<(1 << prefixBits) {
            let occurs = ranks[prefix]
            ranks[prefix] = distinct
            distinct &+= occurs
        }
        // Worth a pass only when the prefixes that occur are few next to the digit's values.
        guard Int(distinct) * Int(distinct) <= 1 << maximumPairDigitBits, Int(distinct) * 16 <= 1 << prefixBits else {
            return false
        }
        let drop = UInt64(prefixBits)
        radixSortPairs(
            keys: keys, payload: scratch.payload, count: count, sortedKeys: scratch.sortedKeys, sortedPayload: order,
            bucketCount: Int(distinct * distinct), sortedBits: 2 * prefixBits, bucketStarts: scratch.bucketStarts
        ) { key in
            Int(ranks[Int(key &>> prefixShift)] &* distinct &+ ranks[Int((key &<< drop) &>> prefixShift)])
        }
        return true
    }

}
