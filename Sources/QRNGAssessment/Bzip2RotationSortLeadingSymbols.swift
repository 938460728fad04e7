import QRNG

// Sorting rotations by their leading symbols: keys that hold the rotation's start, sorted by least-significant-digit passes (8- to 12-bit symbols, or 1-, 2- or 4-bit symbols around one that occurs once).
extension CyclicRotationSort {
    /// Sorts the rotations with keys one bit a symbol narrower, when one symbol occurs exactly once and the others
    /// fit in the narrower symbols; returns false, sorting nothing, otherwise.
    ///
    /// Binary text's word ranks are such a case whenever the block splits a word: the two words "0" and "1" and
    /// once the split word (or the empty word between two separators at the block's ends), which would otherwise
    /// make every symbol two bits with one of them nearly always zero. So are the word ranks of 8-bit samples' text:
    /// 256 words and the split one.
    ///
    /// Read from just after the unique symbol u, the sequence is T = (the others) u. Comparing two rotations, one
    /// of them meets u first, where the other has another symbol, so the comparison is decided there at the
    /// latest. The rotations whose key window holds no u ("main", all but the last few) get keys of the other
    /// symbols, renumbered without u (order kept), and are sorted as usual (by `sortByLeadingSymbols` for most
    /// widths of the others). The few whose window reaches u are
    /// sorted among themselves by direct comparison, and each is placed among the main ones after those whose
    /// symbols, up to u's offset, come before its own followed by u. Those placed rotations never tie with any
    /// other, so the doubling leaves them where they are.
    static func sortAroundUniqueSymbol(
        _ sequence: UnsafeBufferPointer<UInt32>, alphabetSize: Int, into order: UnsafeMutablePointer<UInt32>,
        scratch: Scratch
    ) -> Bool {
        let count = sequence.count
        // Only when leaving a symbol out narrows the symbols: 2^k + 1 of them (k ≥ 1).
        let others = alphabetSize - 1
        guard others >= 2, others & (others - 1) == 0, count >= 256 else { return false }
        let symbolBits = Int.bitWidth - (others - 1).leadingZeroBitCount
        let leadingSymbolsPerDigit = symbolsPerDigit(symbolBits: symbolBits)
        let byLeadingSymbols = leadingSymbolsPerDigit != nil
        let symbolCounts = scratch.bucketStarts
        // Counted in two interleaved tables, so that a symbol met twice in a row (most of them, with few symbols)
        // does not wait on its own count.
        let unique = withUnsafeTemporaryAllocation(of: Int32.self, capacity: 2 * alphabetSize) { counts -> Int? in
            counts.initialize(repeating: 0)
            let table = counts.baseAddress!
            var index = 0
            while index + 2 <= count {
                table[Int(sequence[index])] &+= 1
                table[alphabetSize &+ Int(sequence[index &+ 1])] &+= 1
                index &+= 2
            }
            if index < count { table[Int(sequence[index])] &+= 1 }
            guard let unique = (0..<alphabetSize).first(where: { table[$0] &+ table[alphabetSize &+ $0] == 1 }) else {
                return nil
            }
            if leadingSymbolsPerDigit == 1 {
                for symbol in 0..<others {
                    let original = symbol < unique ? symbol : symbol + 1
                    symbolCounts[symbol] = table[original] &+ table[alphabetSize &+ original]
                }
            }
            return unique
        }
        guard let unique else { return false }
        // Searched from the end: in a block's word ranks the unique word is the one split by the block's end,
        // which comes last.
        var uniquePosition = count - 1
        while sequence[uniquePosition] != UInt32(unique) { uniquePosition -= 1 }

        // Keys sorted by their leading symbols hold the rotation's start in the low bits, and as many symbols as
        // fit above it.
        let indexBits = Int.bitWidth - (count - 1).leadingZeroBitCount
        let symbolsPerKey = byLeadingSymbols ? (64 - indexBits) / symbolBits : 64 / symbolBits
        let mainCount = count - symbolsPerKey
        // T[j] = sequence[(uniquePosition + 1 + j) mod count]; T[count − 1] is u.
        let start = uniquePosition + 1
        @inline(__always) func original(_ j: Int) -> Int {
            let index = start + j
            return index >= count ? index - count : index
        }
        func precedes(_ a: Int, _ b: Int) -> Bool {
            var x = a
            var y = b
            for _ in 0..<count {
                let left = sequence[x]
                let right = sequence[y]
                if left != right { return left < right }
                x = x + 1 == count ? 0 : x + 1
                y = y + 1 == count ? 0 : y + 1
            }
            return false
        }
        // The rotations whose window reaches u, in order.
        let placed = (mainCount..<count).map { original($0) }.sorted(by: precedes)
        let bounds = placed.map { rotation -> UniqueSymbolBound in
            // u's offset in this rotation, and the renumbered symbols before it.
            let offset = (uniquePosition - rotation + count) % count
            var prefix: UInt64 = 0
            for step in 0..<offset {
                let symbol = Int(sequence[(rotation + step) % count])
                prefix = prefix << UInt64(symbolBits) | UInt64(symbol < unique ? symbol : symbol - 1)
            }
            return UniqueSymbolBound(offset: offset, prefix: prefix, unique: UInt64(unique), symbolBits: symbolBits)
        }
        if let leadingSymbolsPerDigit {
            sortByLeadingSymbols(
                sequence, alphabetSize: alphabetSize, unique: (UInt32(unique), uniquePosition), symbolBits: symbolBits,
                symbolsPerDigit: leadingSymbolsPerDigit, symbolsPerKey: symbolsPerKey, indexBits: indexBits,
                placed: placed, bounds: bounds, into: order, scratch: scratch)
            return true
        }

        let keyBits = symbolsPerKey * symbolBits
        let shiftIn = UInt64(symbolBits)
        let window: UInt64 = keyBits == 64 ? .max : (1 << UInt64(keyBits)) - 1
        // T without u, written out (in the ranks' buffer, free until the doubling) in two straight runs.
        let text = scratch.ranks
        var written = 0
        for range in [start..<count, 0..<uniquePosition] {
            for index in range {
                let symbol = sequence[index]
                text[written] = symbol &- (symbol > UInt32(unique) ? 1 : 0)
                written &+= 1
            }
        }
        // Main rotations: j ≤ count − 1 − symbolsPerKey, their windows within T[0 ..< count − 1].
        let keys = scratch.keys
        let payload = scratch.payload
        var rolling: UInt64 = 0
        for j in 0..<(symbolsPerKey - 1) { rolling = rolling &<< shiftIn | UInt64(text[j]) }
        var rotation = start == count ? 0 : start
        for j in 0..<mainCount {
            rolling = (rolling &<< shiftIn | UInt64(text[j &+ symbolsPerKey &- 1])) & window
            keys[j] = rolling &<< UInt64(64 - keyBits)
            payload[j] = UInt32(truncatingIfNeeded: rotation)
            rotation &+= 1
            if rotation == count { rotation = 0 }
        }
        let sortedKeys = scratch.sortedKeys
        sortPairs(
            keys: keys, payload: payload, count: mainCount, sortedKeys: sortedKeys, sortedPayload: order,
            bucketStarts: scratch.bucketStarts)

        // The number of main rotations before each placed one.
        let placedBefore = bounds.map { bound -> Int in
            var low = 0
            var high = mainCount
            while low < high {
                let middle = (low + high) / 2
                if bound.follows(sortedKeys[middle]) { low = middle + 1 } else { high = middle }
            }
            return low
        }
        // Merge from the back, in place.
        var main = mainCount - 1
        var target = count - 1
        var singletons: [Int] = []
        for index in placed.indices.reversed() {
            while main >= 0 && main >= placedBefore[index] {
                order[target] = order[main]
                sortedKeys[target] = sortedKeys[main]
                main -= 1
                target -= 1
            }
            order[target] = UInt32(truncatingIfNeeded: placed[index])
            sortedKeys[target] = 0
            singletons.append(target)
            target -= 1
        }
        refineTies(
            sequence, alphabetSize: alphabetSize, order: order, sortedKeys: sortedKeys, sortedDepth: symbolsPerKey,
            ranks: scratch.ranks, singletons: singletons.reversed())
        return true
    }

    /// The symbols a radix digit of `sortByLeadingSymbols` holds, for the symbol widths it sorts; nil for others.
    /// Symbols of 8 to 12 bits make a digit each: a pass over one spreads the keys over 256 buckets or more, and
    /// its 4,096 counters at most stay in the cache. Narrower symbols that divide a byte make a byte's worth.
    static func symbolsPerDigit(symbolBits: Int) -> Int? {
        switch symbolBits {
        case 8...12: 1
        case 1, 2, 4: 8 / symbolBits
        default: nil
        }
    }

    /// Where a rotation that meets the unique symbol u within its first symbols goes among the main rotations
    /// (see `sortAroundUniqueSymbol`).
    struct UniqueSymbolBound {
        /// u's offset in the rotation.
        let offset: Int
        /// The rotation's renumbered symbols before u.
        let prefix: UInt64
        let unique: UInt64
        let symbolBits: Int

        /// Whether the main rotation with this key comes before the rotation: its first `offset` symbols come
        /// before the prefix, or equal it and are followed by a symbol below u (renumbered symbols below u are the
        /// symbols below u).
        @inline(__always) func follows(_ key: UInt64) -> Bool {
            let head = offset == 0 ? 0 : key &>> UInt64(64 - offset * symbolBits)
            if head != prefix { return head < prefix }
            return (key &<< UInt64(offset * symbolBits)) &>> UInt64(64 - symbolBits) < unique
        }
    }

    /// The rotations (or, given a unique symbol, the main ones of `sortAroundUniqueSymbol`), by a
    /// least-significant-digit radix sort over their first few symbols, one digit a pass: a symbol of 8 to 12 bits,
    /// or a byte's worth of narrower ones (`symbolsPerDigit`).
    ///
    /// Every pass needs the count of each digit at its offset among the rotations, and those are the counts of the
    /// digits of the sequence (less, around a unique symbol, the few that no main rotation has at that offset): for
    /// whole symbols, the symbol counts; otherwise one pass over the sequence counts them. Each key packs the
    /// rotation's first `symbolsPerKey` symbols above its start (the low `indexBits` bits), so that each pass moves
    /// one word a rotation. The first pass is fused with building the keys. Sorted by enough symbols that keys
    /// sharing them are rare, the keys are in order but for those runs, which one more pass sorts where it meets
    /// them (by insertion, after radix passes over the next bits if large) while it writes the starts to `order`,
    /// past the placed rotations before them, and notes the keys whose symbols tie.
    static func sortByLeadingSymbols(
        _ sequence: UnsafeBufferPointer<UInt32>, alphabetSize: Int, unique: (symbol: UInt32, position: Int)?,
        symbolBits: Int, symbolsPerDigit: Int, symbolsPerKey: Int, indexBits: Int, placed: [Int],
        bounds: [UniqueSymbolBound], into order: UnsafeMutablePointer<UInt32>, scratch: Scratch
    ) {
        let count = sequence.count
        let digitBits = symbolsPerDigit * symbolBits
        let digitValues = 1 << digitBits
        // Without a unique symbol every rotation is a main one, and T the sequence itself.
        let mainCount = unique == nil ? count : count - symbolsPerKey
        let first = unique.map { $0.position + 1 == count ? 0 : $0.position + 1 } ?? 0
        let uniqueSymbol = unique?.symbol ?? .max
        @inline(__always) func renumbered(_ symbol: UInt32) -> UInt32 { symbol &- (symbol > uniqueSymbol ? 1 : 0) }
        @inline(__always) func textSymbol(_ j: Int) -> Int {
            let index = first + j
            return Int(renumbered(sequence[index >= count ? index - count : index]))
        }
        // The digit of `symbolsPerDigit` symbols from T[j] on.
        func textDigit(_ j: Int) -> Int {
            (0..<symbolsPerDigit).reduce(0) { digit, offset in digit << symbolBits | textSymbol(j + offset) }
        }
        // Keys sharing their first 2^5 times as many values as there are keys are rare.
        let passes = min(
            symbolsPerKey / symbolsPerDigit, (Int.bitWidth - count.leadingZeroBitCount + 5 + digitBits - 1) / digitBits)

        // Starts for the pass over digit k in bucketStarts[k · digitValues ..< (k + 1) · digitValues], from the digit
        // counts of the digits of T, which bucketStarts[0 ..< digitValues] holds on entry when digits are single
        // symbols (the symbol counts, renumbered), and are counted here otherwise (only around a unique symbol,
        // then: T[0 ..< count − symbolsPerDigit]). Digit k of the main rotations starts at
        // T[k · symbolsPerDigit ..< mainCount + k · symbolsPerDigit], or anywhere without a unique symbol.
        let bucketStarts = scratch.bucketStarts
        if symbolsPerDigit > 1 {
            bucketStarts.update(repeating: 0, count: digitValues)
            let mask = digitValues - 1
            var rolling = 0
            var counted = 0
            // T without u, in two straight runs.
            for range in [first..<(first == 0 ? count - 1 : count), 0..<(first == 0 ? 0 : first - 1)] {
                for index in range {
                    // Masked where used: the loop carries only the shift and the or.
                    rolling = rolling &<< symbolBits | Int(renumbered(sequence[index]))
                    counted &+= 1
                    if counted >= symbolsPerDigit { bucketStarts[rolling & mask] &+= 1 }
                }
            }
        }
        for offset in 1..<passes {
            (bucketStarts + offset * digitValues).update(from: bucketStarts, count: digitValues)
        }
        for offset in 0..<passes {
            let starts = bucketStarts + offset * digitValues
            if unique != nil {
                let skipped = offset * symbolsPerDigit
                for j in 0..<skipped { starts[textDigit(j)] -= 1 }
                for j in (mainCount + skipped)..<(count - symbolsPerDigit) { starts[textDigit(j)] -= 1 }
            }
            var total: Int32 = 0
            for digit in 0..<digitValues {
                let size = starts[digit]
                starts[digit] = total
                total &+= size
            }
        }

        // The key of main rotation j holds T[j ..< j + symbolsPerKey] from the top bit, and the rotation's start.
        var keys = scratch.keys
        var spare = scratch.sortedKeys
        do {
            let shiftIn = UInt64(symbolBits)
            let window: UInt64 = (1 << UInt64(symbolsPerKey * symbolBits)) - 1
            let alignment = UInt64(64 - symbolsPerKey * symbolBits)
            let digitShift = UInt64(64 - passes * digitBits)
            let digitMask = UInt64(digitValues - 1)
            let starts = bucketStarts + (passes - 1) * digitValues
            var rolling: UInt64 = 0
            for offset in 0..<(symbolsPerKey - 1) {
                let index = first + offset
                rolling = rolling &<< shiftIn | UInt64(renumbered(sequence[index >= count ? index - count : index]))
            }
            // In three stretches, between where the incoming symbol's index wraps round and where the start's does,
            // so that both are j plus a constant.
            let symbolWrap = min(max(count - first - (symbolsPerKey - 1), 0), mainCount)
            let rotationWrap = min(count - first, mainCount)
            let stretches = [(0, symbolWrap, 0), (symbolWrap, rotationWrap, 1), (rotationWrap, mainCount, 2)]
            for (lower, upper, wrapped) in stretches where lower < upper {
                let symbolOffset = first + symbolsPerKey - 1 - (wrapped >= 1 ? count : 0)
                let rotationOffset = first - (wrapped >= 2 ? count : 0)
                for j in lower..<upper {
                    rolling = (rolling &<< shiftIn | UInt64(renumbered(sequence[j &+ symbolOffset]))) & window
                    let key = rolling &<< alignment | UInt64(j &+ rotationOffset)
                    let digit = Int((key &>> digitShift) & digitMask)
                    let slot = Int(starts[digit])
                    starts[digit] = Int32(truncatingIfNeeded: slot &+ 1)
                    keys[slot] = key
                }
            }
        }
        for offset in stride(from: passes - 2, through: 0, by: -1) {
            let digitShift = UInt64(64 - (offset + 1) * digitBits)
            let digitMask = UInt64(digitValues - 1)
            let starts = bucketStarts + offset * digitValues
            for index in 0..<mainCount {
                let key = keys[index]
                let digit = Int((key &>> digitShift) & digitMask)
                let slot = Int(starts[digit])
                starts[digit] = Int32(truncatingIfNeeded: slot &+ 1)
                spare[slot] = key
            }
            swap(&keys, &spare)
        }
        // Now bucketStarts[d] is the end of the main rotations whose first digit is d.

        // The number of main rotations before each placed one. When u is past its first digit: those whose first
        // digit is below its own, and those (in any order) whose first digit is its own and that come before it.
        // Otherwise: those whose first digit, as a number, is below its symbols before u followed by u and zeros
        // (renumbered symbols below u are the symbols below u, and the others are u or above).
        @inline(__always) func bucketStart(_ digit: Int) -> Int { digit == 0 ? 0 : Int(bucketStarts[digit - 1]) }
        let placedBefore = bounds.map { bound -> Int in
            if bound.offset < symbolsPerDigit {
                let headAndUnique = Int(bound.prefix) << symbolBits + Int(bound.unique)
                return bucketStart(headAndUnique << ((symbolsPerDigit - 1 - bound.offset) * symbolBits))
            }
            let digit = Int(bound.prefix &>> UInt64((bound.offset - symbolsPerDigit) * symbolBits))
            var before = bucketStart(digit)
            for position in before..<Int(bucketStarts[digit]) where bound.follows(keys[position]) { before += 1 }
            return before
        }
        // Main rotation m (in sorted order) goes to m + (the placed rotations before it).
        @inline(__always) func placedUpTo(_ main: Int) -> Int {
            var placedCount = 0
            while placedCount < placedBefore.count && placedBefore[placedCount] <= main { placedCount += 1 }
            return placedCount
        }

        // One pass writes the starts to `order`, in stretches between the places of the placed rotations. The keys
        // are in order but for runs that share their first `passes` digits: those (rare) are sorted where they are
        // met, and are the only ones that can hold keys whose symbols tie.
        let sortedBits = passes * digitBits
        let runShift = UInt64(64 - sortedBits)
        let indexMask: UInt64 = (1 << UInt64(indexBits)) - 1
        // After the last key, one that differs from it in every bit ends the last run.
        keys[mainCount] = ~keys[mainCount - 1]
        var groups: [(start: Int, end: Int)] = []
        var main = 0
        var placedCount = 0
        while true {
            while placedCount < placed.count && placedBefore[placedCount] <= main {
                order[placedBefore[placedCount] + placedCount] = UInt32(truncatingIfNeeded: placed[placedCount])
                placedCount += 1
            }
            if main == mainCount { break }
            let stretchEnd = placedCount < placed.count ? placedBefore[placedCount] : mainCount
            let target = order + placedCount
            var key = keys[main]
            while main < stretchEnd {
                let next = keys[main + 1]
                if (key ^ next) &>> runShift == 0 { break }
                target[main] = UInt32(truncatingIfNeeded: key & indexMask)
                main += 1
                key = next
            }
            guard main < stretchEnd else { continue }
            // A run, which may cross placed rotations.
            var end = main + 2
            while (keys[end] ^ key) &>> runShift == 0 { end += 1 }
            let size = end - main
            if size > largeBucket {
                splitBucket(
                    keys: keys + main, payload: nil, count: size, sortedBits: sortedBits, spareKeys: spare,
                    sparePayload: nil, counts: scratch.digitCounts)
            }
            insertionSort(keys + main, count: size)
            var previous = ~keys[main]
            for position in main..<end {
                let sorted = keys[position]
                let place = position + placedUpTo(position)
                order[place] = UInt32(truncatingIfNeeded: sorted & indexMask)
                // Keys are distinct (their starts differ): keys whose symbols tie differ in the start's bits only.
                // They are on the same side of every placed rotation, so next to each other.
                if sorted ^ previous <= indexMask {
                    if let last = groups.last, last.end == place {
                        groups[groups.count - 1].end += 1
                    } else {
                        groups.append((place - 1, place + 1))
                    }
                }
                previous = sorted
            }
            main = end
        }
        refineGroups(
            groups, sequence, alphabetSize: alphabetSize, order: order, sortedDepth: symbolsPerKey,
            ranks: scratch.ranks)
    }
}
