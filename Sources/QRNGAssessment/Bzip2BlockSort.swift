import QRNG

/// The last column of a block's Burrows–Wheeler transform: the byte before each cyclic rotation of the block, the
/// rotations in sorted order. That column is all bzip2's back end sees of the sort, and any correct sort of the
/// rotations gives the same column (identical rotations, which a correct sort may order either way, are preceded
/// by identical bytes), so this need not sort the way bzip2's `blocksort.c` does.
///
/// Text made of short words between single separators, such as samples written in decimal, is sorted a word at a
/// time. Take the separator s to be the block's most common byte. Then the block, read cyclically, is
/// w₀ s w₁ s … w_{m−1} s, and a rotation that starts j bytes into word w_k reads (suffix of w_k from j) s w_{k+1} s
/// w_{k+2} s …. Comparing two such strings word by word, each word followed by s, decides them in the same order as
/// comparing them byte by byte, because a word-plus-separator is never a proper prefix of another (s ends it and
/// occurs in no word). So every rotation is sorted by the key (its head: the rest of its first word; then the
/// rotation of the word sequence from w_{k+1}), the word rotations are sorted once over m words instead of n
/// bytes, and the block's rotations come out of a counting sort by head, taken in word-rotation order. Words of
/// up to 7 bytes (15 in the rarer case a long one turns up) fit an integer key with their separator. Anything else
/// — no separator that keeps words that short, such as random bytes — is sorted byte by byte.
final class Bzip2BlockSorter {
    private let rotationScratch = CyclicRotationSort.Scratch()
    private let capacity: Int
    private let separatorPositions: UnsafeMutablePointer<UInt32>
    private let wordIdentifiers: UnsafeMutablePointer<UInt32>
    private let sequence: UnsafeMutablePointer<UInt32>
    private let order: UnsafeMutablePointer<UInt32>

    init(blockCapacity: Int) {
        capacity = blockCapacity
        separatorPositions = .allocate(capacity: blockCapacity + 8)
        wordIdentifiers = .allocate(capacity: blockCapacity)
        sequence = .allocate(capacity: blockCapacity)
        order = .allocate(capacity: blockCapacity)
    }

    deinit {
        separatorPositions.deallocate()
        wordIdentifiers.deallocate()
        sequence.deallocate()
        order.deallocate()
    }

    /// Bytes that may be read past the end of a block (never used): whole-word loads of the last words.
    static let readPadding = 16

    /// Writes the last column of `block`'s transform to `output`, which must have room for one byte more (a spare
    /// the word-wise path writes to). `histogram` counts the block's bytes; the block's memory must be readable for
    /// `readPadding` bytes past its end.
    func lastColumn(of block: UnsafeBufferPointer<UInt8>, histogram: UnsafePointer<Int>, into output: UnsafeMutablePointer<UInt8>) {
        let count = block.count
        precondition(count <= capacity)
        guard count > 0 else { return }
        var separator = 0
        for byte in 1..<256 where histogram[byte] > histogram[separator] { separator = byte }
        let separatorCount = histogram[separator]
        if separatorCount == count {
            output.update(from: block.baseAddress!, count: count)
            return
        }
        findSeparators(block, UInt8(separator), count: separatorCount)
        let longestWord = longestWord(blockCount: count, separatorCount: separatorCount)
        if longestWord < MemoryLayout<UInt64>.size {
            sortByWords(block, separator: UInt8(separator), separatorCount: separatorCount,
                key: UInt64.self, into: output)
        } else if longestWord < MemoryLayout<UInt128>.size {
            sortByWords(block, separator: UInt8(separator), separatorCount: separatorCount,
                key: UInt128.self, into: output)
        } else {
            sortByBytes(block, histogram: histogram, into: output)
        }
    }

    /// The generic transform: the block's bytes, renumbered densely, as one sequence.
    private func sortByBytes(_ block: UnsafeBufferPointer<UInt8>, histogram: UnsafePointer<Int>, into output: UnsafeMutablePointer<UInt8>) {
        let count = block.count
        var dense = [UInt32](repeating: 0, count: 256)
        var symbolCount = 0
        for byte in 0..<256 where histogram[byte] > 0 {
            dense[byte] = UInt32(symbolCount)
            symbolCount += 1
        }
        for index in 0..<count { sequence[index] = dense[Int(block[index])] }
        CyclicRotationSort.sort(
            UnsafeBufferPointer(start: sequence, count: count), alphabetSize: symbolCount, into: order,
            scratch: rotationScratch)
        for rank in 0..<count {
            let start = Int(order[rank])
            output[rank] = block[start == 0 ? count - 1 : start - 1]
        }
    }

    /// Fills `separatorPositions` with the offsets of `separator`, eight bytes at a time.
    private func findSeparators(_ block: UnsafeBufferPointer<UInt8>, _ separator: UInt8, count expected: Int) {
        let base = UnsafeRawPointer(block.baseAddress!)
        let count = block.count
        let pattern = UInt64(separator) &* 0x0101_0101_0101_0101
        let low7: UInt64 = 0x7f7f_7f7f_7f7f_7f7f
        var found = 0
        var offset = 0
        while offset + 8 <= count {
            let difference = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) ^ pattern
            // The top bit of each byte that is zero, with no borrow between bytes.
            var zeros = ~(((difference & low7) &+ low7) | difference | low7)
            // Three positions are stored whether or not they exist (text rarely has more separators in eight
            // bytes), and the count decides how many stay.
            let matches = zeros.nonzeroBitCount
            for slot in 0..<3 {
                separatorPositions[found &+ slot] = UInt32(truncatingIfNeeded: offset &+ zeros.trailingZeroBitCount &>> 3)
                zeros &= zeros &- 1
            }
            if matches > 3 {
                var slot = 3
                while zeros != 0 {
                    separatorPositions[found &+ slot] = UInt32(truncatingIfNeeded: offset &+ zeros.trailingZeroBitCount &>> 3)
                    zeros &= zeros &- 1
                    slot += 1
                }
            }
            found &+= matches
            offset += 8
        }
        while offset < count {
            if block[offset] == separator {
                separatorPositions[found] = UInt32(truncatingIfNeeded: offset)
                found += 1
            }
            offset += 1
        }
        assert(found == expected)
    }

    /// The longest word between consecutive separators, the one wrapping round the end of the block included.
    private func longestWord(blockCount: Int, separatorCount: Int) -> Int {
        var longest = blockCount - 1 - Int(separatorPositions[separatorCount - 1]) + Int(separatorPositions[0])
        var previous = separatorPositions[0]
        for index in 1..<separatorCount {
            let position = separatorPositions[index]
            longest = max(longest, Int(position &- previous) - 1)
            previous = position
        }
        return longest
    }

    /// The word-at-a-time transform (see the type's description). A word's key holds the word and its separator,
    /// big-endian from the top byte and zero below, so keys order words as the bytes do; the key of a word's suffix
    /// from byte j is the key shifted left by 8j bits, the empty suffix's key being the separator alone.
    private func sortByWords<Key: FixedWidthInteger & UnsignedInteger & BitwiseCopyable>(
        _ block: UnsafeBufferPointer<UInt8>, separator: UInt8, separatorCount: Int,
        key: Key.Type, into output: UnsafeMutablePointer<UInt8>
    ) {
        let count = block.count
        let base = UnsafeRawPointer(block.baseAddress!)
        let keyBytes = MemoryLayout<Key>.size

        // Word k runs from separator k + 1 to separator k + 1 (the last one wrapping round); give each distinct
        // word an identifier.
        let words = WordTable<Key>()
        // Every word but the last lies inside the block: one load, masked to the word and its separator. The mask
        // keeps the top length + 1 ≤ keyBytes bytes, a shift below the key's width, so no overshift check.
        for word in 0..<(separatorCount - 1) {
            let start = Int(separatorPositions[word]) &+ 1
            let length = Int(separatorPositions[word &+ 1]) &- start
            let loaded = Key(bigEndian: base.loadUnaligned(fromByteOffset: start, as: Key.self))
            let key = loaded & (Key.max &<< ((keyBytes &- 1 &- length) &* 8))
            wordIdentifiers[word] = words.identifier(of: key, length: length)
        }
        do {
            // The last word wraps round the end of the block.
            let word = separatorCount - 1
            let start = Int(separatorPositions[word]) + 1
            let length = count + Int(separatorPositions[0]) - start
            var assembled: Key = 0
            for offset in 0..<length {
                let position = (start + offset) % count
                assembled |= Key(block[position]) << ((keyBytes - 1 - offset) * 8)
            }
            let key = assembled | Key(separator) << ((keyBytes - 1 - length) * 8)
            wordIdentifiers[word] = words.identifier(of: key, length: length)
        }
        withExtendedLifetime(words) {
            transform(
                words: Words(keys: words.keys, lengths: words.lengths, frequencies: words.frequencies, count: words.count),
                separator: separator, separatorCount: separatorCount, blockCount: count,
                into: output)
        }
    }

    /// The distinct words of a block: key (as `sortByWords` describes), length and number of occurrences, indexed
    /// by identifier.
    struct Words<Key: FixedWidthInteger & UnsignedInteger & BitwiseCopyable> {
        var keys: UnsafePointer<Key>
        var lengths: UnsafePointer<UInt8>
        var frequencies: UnsafePointer<Int32>
        var count: Int
    }

    /// Where the word-wise transform expects each word's identifier, word k being the one after separator k (the
    /// last wrapping round the block's end), for callers that find the words another way (`Bzip2Length`'s decimal
    /// text) and then call `transform`.
    var wordIdentifierBuffer: UnsafeMutablePointer<UInt32> { wordIdentifiers }

    /// The word-wise transform from the words on: `words` holds the distinct words and `wordIdentifierBuffer` the
    /// identifier of each of the block's `separatorCount` words; `blockCount` bytes in all.
    func transform<Key: FixedWidthInteger & UnsignedInteger & BitwiseCopyable>(
        words: Words<Key>, separator: UInt8, separatorCount: Int, blockCount count: Int,
        into output: UnsafeMutablePointer<UInt8>
    ) {
        let keyBytes = MemoryLayout<Key>.size
        let distinct = words.count

        // Rank the distinct words, and sort the rotations of the sequence of word ranks.
        let wordOrder = Self.sortedIndices(of: Array(UnsafeBufferPointer(start: words.keys, count: distinct)))
        // Words numbered in the order of their keys (as `Bzip2Length`'s decimal text numbers them) are their own
        // ranks: no renumbering pass.
        let ranked: UnsafePointer<UInt32>
        if wordOrder.indices.allSatisfy({ wordOrder[$0] == UInt32($0) }) {
            ranked = UnsafePointer(wordIdentifiers)
        } else {
            var wordRank = [UInt32](repeating: 0, count: distinct)
            for (rank, word) in wordOrder.enumerated() { wordRank[Int(word)] = UInt32(rank) }
            wordRank.withUnsafeBufferPointer { wordRank in
                for word in 0..<separatorCount { sequence[word] = wordRank[Int(wordIdentifiers[word])] }
            }
            ranked = UnsafePointer(sequence)
        }
        CyclicRotationSort.sort(
            UnsafeBufferPointer(start: ranked, count: separatorCount), alphabetSize: distinct, into: order,
            scratch: rotationScratch)

        // Heads: slot (word, j) for each nonempty suffix of each distinct word. Rank the heads, count the
        // positions each heads, and note the byte before each. Every word also ends in the empty head (the
        // rotations that start at a separator): that bucket is filled in word-rotation order directly.
        //
        // Each word has a row of `stride` slots, the longest word's length, except the word round the block's end
        // when it occurs nowhere else: that one, often longer than the rest (the two halves of a split word), gets
        // a row of its own after the others, and the loop below takes it apart, so that it does not lengthen every
        // word's row.
        let wrapWord = Int(wordIdentifiers[separatorCount - 1])
        let wrapOnly = words.frequencies[wrapWord] == 1
        var stride = 1
        for word in 0..<distinct where !(wrapOnly && word == wrapWord) { stride = max(stride, Int(words.lengths[word])) }
        let wrapRow = wrapOnly ? distinct * stride : wrapWord * stride
        let wrapSlots = wrapOnly ? Int(words.lengths[wrapWord]) : stride
        func slot(_ word: Int, _ offset: Int) -> Int {
            (word == wrapWord ? wrapRow : word * stride) + offset
        }
        var headKeys: [Key] = []
        var headOwners: [UInt32] = []
        for word in 0..<distinct {
            let key = words.keys[word]
            for offset in 0..<Int(words.lengths[word]) {
                headKeys.append(key << (offset * 8))
                headOwners.append(UInt32(word) << 8 | UInt32(offset))
            }
        }
        let emptyHead = Key(separator) << (keyBytes * 8 - 8)
        let headOrder = Self.sortedIndices(of: headKeys)
        var bucketStarts: [Int] = []
        // Per slot: bucket << 9 | advance << 8 | byte before. Slots past a word's last head write to a spare bucket,
        // one byte past the output, without advancing it: every word then takes the same number of steps and the
        // loop below has no branch.
        var slotInfo = [UInt32](repeating: 0, count: distinct * stride + (wrapOnly ? wrapSlots : 0))
        var emptyHeadBucket = -1
        // Per bucket: the byte before all its heads when they agree, -2 when they differ (-1 before the first).
        var bucketBytes: [Int16] = []
        var previousKey: Key = 0
        func openBucket(_ key: Key) {
            if bucketStarts.isEmpty || key != previousKey {
                if emptyHeadBucket < 0 && emptyHead < key {
                    emptyHeadBucket = bucketStarts.count
                    bucketStarts.append(separatorCount)
                }
                bucketStarts.append(0)
            }
            previousKey = key
        }
        for head in headOrder {
            let key = headKeys[Int(head)]
            openBucket(key)
            let word = Int(headOwners[Int(head)] >> 8)
            let offset = Int(headOwners[Int(head)] & 0xff)
            let byteBefore =
                offset == 0 ? separator : UInt8(truncatingIfNeeded: words.keys[word] >> ((keyBytes - offset) * 8))
            slotInfo[slot(word, offset)] = UInt32(bucketStarts.count - 1) << 9 | 1 << 8 | UInt32(byteBefore)
            bucketStarts[bucketStarts.count - 1] += Int(words.frequencies[word])
            bucketBytes += repeatElement(-1, count: bucketStarts.count - bucketBytes.count)
            let seen = bucketBytes[bucketStarts.count - 1]
            bucketBytes[bucketStarts.count - 1] = seen == -1 || seen == Int16(byteBefore) ? Int16(byteBefore) : -2
        }
        if emptyHeadBucket < 0 {
            emptyHeadBucket = bucketStarts.count
            bucketStarts.append(separatorCount)
        }
        bucketBytes += repeatElement(-2, count: bucketStarts.count - bucketBytes.count)
        bucketBytes[emptyHeadBucket] = -2
        var total = 0
        for bucket in bucketStarts.indices {
            let size = bucketStarts[bucket]
            bucketStarts[bucket] = total
            total += size
        }
        assert(total == count)
        let emptyHeadStart = bucketStarts[emptyHeadBucket]
        let spareBucket = UInt32(bucketStarts.count)
        bucketStarts.append(count)
        for word in 0..<distinct where !(wrapOnly && word == wrapWord) {
            for offset in Int(words.lengths[word])..<stride { slotInfo[slot(word, offset)] = spareBucket << 9 }
        }
        // A bucket whose heads all follow the same byte (a head only one word has, such as a whole three-digit
        // number) holds that byte throughout, whatever the order: it is filled at once, and its heads write to the
        // spare byte instead. Fewer buckets written in the loop below means fewer lines of the output taking
        // scattered stores at a time: for a block of 8-bit samples, about 110 instead of 270.
        var uniformBuckets: [(start: Int, count: Int, byte: UInt8)] = []
        for bucket in 0..<(bucketStarts.count - 1) where bucketBytes[bucket] >= 0 {
            uniformBuckets.append((bucketStarts[bucket], bucketStarts[bucket + 1] - bucketStarts[bucket], UInt8(bucketBytes[bucket])))
        }
        for index in slotInfo.indices {
            let bucket = Int(slotInfo[index] >> 9)
            if bucket < bucketBytes.count && bucketBytes[bucket] >= 0 { slotInfo[index] = spareBucket << 9 }
        }
        for bucket in uniformBuckets { (output + bucket.start).update(repeating: bucket.byte, count: bucket.count) }

        // Word rotations in order: the rotation from word q + 1 follows every head inside word q, and the
        // rotation that starts at the separator before word q + 1 is preceded by word q's last byte (or a
        // separator when the word is empty).
        let lastByte = (0..<distinct).map { word in
            let length = Int(words.lengths[word])
            return length == 0 ? separator : UInt8(truncatingIfNeeded: words.keys[word] >> ((keyBytes - length) * 8))
        }
        lastByte.withUnsafeBufferPointer { lastByte in
        slotInfo.withUnsafeBufferPointer { slotInfo in
            bucketStarts.withUnsafeMutableBufferPointer { cursors in
                // Plain pointers in registers: the buffers' base addresses, read from memory, would be read again
                // after every byte stored to the output, which might have overwritten them.
                let lastByte = lastByte.baseAddress!
                let slotInfo = slotInfo.baseAddress!
                let cursors = cursors.baseAddress!
                let order = self.order
                @inline(__always) func scatter<Identifier: FixedWidthInteger & UnsignedInteger>(
                    _: Identifier.Type, stride: Int
                ) {
                    @inline(__always) func place(_ slots: Range<Int>) {
                        for slot in slots {
                            let info = slotInfo[slot]
                            let bucket = Int(info >> 9)
                            output[cursors[bucket]] = UInt8(truncatingIfNeeded: info)
                            cursors[bucket] &+= Int(info >> 8 & 1)
                        }
                    }
                    // First the word before each rotation, in sorted order, as narrow as the word count allows:
                    // scattered loads alone in their loop overlap freely, where among the stores below each
                    // waited on the one before, and the narrow copy keeps more of what the loop below reads in
                    // cache. (`sequence` is free once the rotations are sorted.)
                    let previous = UnsafeMutableRawPointer(sequence).assumingMemoryBound(to: Identifier.self)
                    var wrapRank = 0
                    for rank in 0..<separatorCount {
                        let next = Int(order[rank])
                        previous[rank] = Identifier(
                            truncatingIfNeeded: wordIdentifiers[next == 0 ? separatorCount &- 1 : next &- 1])
                        wrapRank = next == 0 ? rank : wrapRank
                    }
                    for rank in 0..<separatorCount {
                        // Once per block: the rotation from word 0, preceded by the word round the block's end.
                        if rank == wrapRank {
                            place(wrapRow..<(wrapRow + wrapSlots))
                            output[emptyHeadStart &+ rank] = lastByte[wrapWord]
                            continue
                        }
                        let word = Int(previous[rank])
                        let slots = word &* stride
                        place(slots..<(slots &+ stride))
                        output[emptyHeadStart &+ rank] = lastByte[word]
                    }
                }
                // The common word lengths get a loop of their own, unrolled with a constant stride.
                func scatter<Identifier: FixedWidthInteger & UnsignedInteger>(_ width: Identifier.Type) {
                    switch stride {
                    case 1: scatter(width, stride: 1)
                    case 2: scatter(width, stride: 2)
                    case 3: scatter(width, stride: 3)
                    case 4: scatter(width, stride: 4)
                    default: scatter(width, stride: stride)
                    }
                }
                if distinct <= 1 << 8 {
                    scatter(UInt8.self)
                } else if distinct <= 1 << 16 {
                    scatter(UInt16.self)
                } else {
                    scatter(UInt32.self)
                }
            }
        }
        }
    }

    /// Indices of `keys` in ascending order of key.
    private static func sortedIndices<Key: FixedWidthInteger & UnsignedInteger>(of keys: [Key]) -> [UInt32] {
        if Key.self == UInt64.self, keys.count > 64 {
            let keys = keys as! [UInt64]
            let count = keys.count
            let payload = (0..<count).map { UInt32($0) }
            var sortedKeys = [UInt64](repeating: 0, count: count)
            var sorted = [UInt32](repeating: 0, count: count)
            let bucketStarts = UnsafeMutablePointer<Int32>.allocate(capacity: (1 << CyclicRotationSort.maximumDigitBits) + 1)
            defer { bucketStarts.deallocate() }
            sortedKeys.withUnsafeMutableBufferPointer { sortedKeys in
                sorted.withUnsafeMutableBufferPointer { sorted in
                    CyclicRotationSort.sortPairs(
                        keys: keys, payload: payload, count: count, sortedKeys: sortedKeys.baseAddress!,
                        sortedPayload: sorted.baseAddress!, bucketStarts: bucketStarts)
                }
            }
            return sorted
        }
        return keys.indices.sorted { keys[$0] < keys[$1] }.map { UInt32($0) }
    }
}
