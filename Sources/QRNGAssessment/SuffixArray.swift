import QRNG

/// Suffix sorting for the t-tuple and LRS estimates: the LCP array of a sequence, that is the length of the longest
/// common prefix of each pair of neighbouring suffixes in sorted order.
///
/// Two methods give the same array. For data with some entropy every repeat is short, so each suffix is first
/// summarised by its first 64 bits (as many whole symbols as fit): sorting those keys with a radix sort puts the
/// suffixes in their true order unless two of them share a whole key, and the LCPs then follow from the keys alone.
/// When two keys are equal (long repeats, low-entropy data) the sequence is sorted exactly with SA-IS and the LCPs
/// come from Kasai's algorithm.
enum SuffixSorting {
    /// `lcp[r]` for r ≥ 1 is the LCP of the (r−1)-th and r-th suffixes in sorted order; `lcp[0]` is 0.
    static func lcpArray<Symbol: FixedWidthInteger & UnsignedInteger>(
        _ s: UnsafeBufferPointer<Symbol>, alphabetSize k: Int
    ) -> [Int32] {
        if let fast = lcpFromWindows(s, alphabetSize: k) { return fast }
        return lcpFromSuffixArray(s, alphabetSize: k)
    }

    /// The windowed keys method; `nil` when two suffixes agree on a whole key.
    static func lcpFromWindows<Symbol: FixedWidthInteger & UnsignedInteger>(
        _ s: UnsafeBufferPointer<Symbol>, alphabetSize k: Int
    ) -> [Int32]? {
        let n = s.count
        let width = max(1, Int.bitWidth - (k - 1).leadingZeroBitCount)
        let perKey = 64 / width
        guard n > perKey else { return nil }
        let used = perKey * width
        let fullCount = n - perKey + 1
        var keys = [UInt64](unsafeUninitializedCapacity: fullCount) { keys, initialized in
            var rolling: UInt64 = 0
            let mask: UInt64 = used == 64 ? .max : (1 << UInt64(used)) - 1
            for i in 0..<(perKey - 1) { rolling = (rolling << UInt64(width)) | UInt64(s[i]) }
            for i in (perKey - 1)..<n {
                rolling = ((rolling << UInt64(width)) | UInt64(s[i])) & mask
                keys[i - perKey + 1] = rolling << UInt64(64 - used)
            }
            initialized = fullCount
        }
        radixSort(&keys, significantBits: used)
        // The last perKey − 1 suffixes are shorter than a key: zero-padded, and placed before any equal key (a
        // suffix sorts before the longer suffixes it is a prefix of; shorter tails first among themselves).
        var tails: [(key: UInt64, length: Int)] = []
        for i in fullCount..<n {
            var key: UInt64 = 0
            for j in i..<n { key |= UInt64(s[j]) << UInt64(64 - width * (j - i + 1)) }
            tails.append((key, n - i))
        }
        tails.sort { $0.key != $1.key ? $0.key < $1.key : $0.length < $1.length }

        var lcp = [Int32](repeating: 0, count: n)
        var collided = false
        keys.withUnsafeBufferPointer { keys in
            lcp.withUnsafeMutableBufferPointer { lcp in
                var previousKey: UInt64 = 0
                var previousLength = -1
                var rank = 0
                var tailIndex = 0
                @inline(__always) func emit(_ key: UInt64, _ length: Int) {
                    if previousLength >= 0 {
                        let common = min((key ^ previousKey).leadingZeroBitCount / width, length, previousLength)
                        if common >= perKey { collided = true }
                        lcp[rank] = Int32(common)
                    }
                    previousKey = key
                    previousLength = length
                    rank += 1
                }
                for key in keys {
                    while tailIndex < tails.count && tails[tailIndex].key <= key {
                        emit(tails[tailIndex].key, tails[tailIndex].length)
                        tailIndex += 1
                    }
                    emit(key, perKey)
                    if collided { return }
                }
                while tailIndex < tails.count {
                    emit(tails[tailIndex].key, tails[tailIndex].length)
                    tailIndex += 1
                }
            }
        }
        return collided ? nil : lcp
    }

    /// Least-significant-digit radix sort of left-aligned keys whose low `64 − significantBits` bits are zero, 11 bits
    /// a pass. The histograms of every digit are taken in one read of the keys, and a digit that is the same in
    /// every key is skipped.
    static func radixSort(_ keys: inout [UInt64], significantBits: Int) {
        let digitBits = 11
        let buckets = 1 << digitBits
        let low = 64 - significantBits
        let digits = (significantBits + digitBits - 1) / digitBits
        var histograms = [Int](repeating: 0, count: digits * buckets)
        histograms.withUnsafeMutableBufferPointer { histograms in
            keys.withUnsafeBufferPointer { keys in
                for key in keys {
                    var shifted = key >> UInt64(low)
                    for digit in 0..<digits {
                        histograms[digit * buckets + Int(shifted & UInt64(buckets - 1))] += 1
                        shifted >>= UInt64(digitBits)
                    }
                }
            }
        }
        var scratch = [UInt64](repeating: 0, count: keys.count)
        for digit in 0..<digits {
            let shift = UInt64(low + digit * digitBits)
            let mask = UInt64(buckets - 1)
            let offset = digit * buckets
            if keys.isEmpty || histograms[offset + Int((keys[0] >> shift) & mask)] == keys.count { continue }
            var total = 0
            for b in 0..<buckets {
                let c = histograms[offset + b]
                histograms[offset + b] = total
                total += c
            }
            keys.withUnsafeBufferPointer { keys in
                scratch.withUnsafeMutableBufferPointer { scratch in
                    histograms.withUnsafeMutableBufferPointer { histograms in
                        for key in keys {
                            let slot = offset + Int((key >> shift) & mask)
                            scratch[histograms[slot]] = key
                            histograms[slot] += 1
                        }
                    }
                }
            }
            swap(&keys, &scratch)
        }
    }

    /// SA-IS, then Kasai's LCP.
    static func lcpFromSuffixArray<Symbol: FixedWidthInteger & UnsignedInteger>(
        _ s: UnsafeBufferPointer<Symbol>, alphabetSize k: Int
    ) -> [Int32] {
        let n = s.count
        // Symbols shifted up by one, with a unique smallest sentinel 0 at the end.
        var text = [Int32](repeating: 0, count: n + 1)
        for i in 0..<n { text[i] = Int32(s[i]) + 1 }
        let withSentinel = suffixArray(text, alphabetSize: k + 1)
        let order = Array(withSentinel[1...])
        var rank = [Int32](repeating: 0, count: n)
        for (r, position) in order.enumerated() { rank[Int(position)] = Int32(r) }
        var lcp = [Int32](repeating: 0, count: n)
        var h = 0
        for i in 0..<n {
            let r = Int(rank[i])
            if r > 0 {
                let j = Int(order[r - 1])
                while i + h < n && j + h < n && s[i + h] == s[j + h] { h += 1 }
                lcp[r] = Int32(h)
                if h > 0 { h -= 1 }
            } else {
                h = 0
            }
        }
        return lcp
    }

    /// The suffix array of `text`, whose last symbol is a unique smallest 0, by SA-IS (Nong, Zhang and Chan 2009).
    static func suffixArray(_ text: [Int32], alphabetSize k: Int) -> [Int32] {
        let n = text.count
        if n == 1 { return [0] }
        var isS = [Bool](repeating: false, count: n)
        isS[n - 1] = true
        for i in stride(from: n - 2, through: 0, by: -1) {
            isS[i] = text[i] < text[i + 1] || (text[i] == text[i + 1] && isS[i + 1])
        }
        func isLMS(_ i: Int) -> Bool { i > 0 && isS[i] && !isS[i - 1] }
        var bucketSizes = [Int](repeating: 0, count: k)
        for symbol in text { bucketSizes[Int(symbol)] += 1 }
        func heads() -> [Int] {
            var result = [Int](repeating: 0, count: k)
            var total = 0
            for c in 0..<k {
                result[c] = total
                total += bucketSizes[c]
            }
            return result
        }
        func tails() -> [Int] {
            var result = [Int](repeating: 0, count: k)
            var total = 0
            for c in 0..<k {
                total += bucketSizes[c]
                result[c] = total
            }
            return result
        }
        var sa = [Int32](repeating: -1, count: n)
        func induce() {
            var head = heads()
            for i in 0..<n {
                let j = Int(sa[i]) - 1
                if j >= 0 && !isS[j] {
                    let c = Int(text[j])
                    sa[head[c]] = Int32(j)
                    head[c] += 1
                }
            }
            var tail = tails()
            for i in stride(from: n - 1, through: 0, by: -1) {
                let j = Int(sa[i]) - 1
                if j >= 0 && isS[j] {
                    let c = Int(text[j])
                    tail[c] -= 1
                    sa[tail[c]] = Int32(j)
                }
            }
        }
        // Step 1: sort the LMS substrings.
        var tail = tails()
        for i in 1..<n where isLMS(i) {
            let c = Int(text[i])
            tail[c] -= 1
            sa[tail[c]] = Int32(i)
        }
        induce()
        // Step 2: name them.
        var sortedLMS: [Int] = []
        for i in 0..<n where isLMS(Int(sa[i])) { sortedLMS.append(Int(sa[i])) }
        var names = [Int32](repeating: -1, count: n)
        var name: Int32 = 0
        var previous = -1
        for position in sortedLMS {
            if previous >= 0 {
                var d = 0
                var same = true
                while true {
                    if text[position + d] != text[previous + d] || isS[position + d] != isS[previous + d] {
                        same = false
                        break
                    }
                    if d > 0 && (isLMS(position + d) || isLMS(previous + d)) {
                        same = isLMS(position + d) && isLMS(previous + d)
                        break
                    }
                    d += 1
                }
                if !same { name += 1 }
            }
            names[position] = name
            previous = position
        }
        var lmsPositions: [Int] = []
        var reduced: [Int32] = []
        for i in 1..<n where isLMS(i) {
            lmsPositions.append(i)
            reduced.append(names[i])
        }
        // Step 3: order the LMS suffixes, recursively when names repeat.
        let order: [Int32]
        if Int(name) + 1 < reduced.count {
            order = suffixArray(reduced, alphabetSize: Int(name) + 1)
        } else {
            var direct = [Int32](repeating: 0, count: reduced.count)
            for (index, value) in reduced.enumerated() { direct[Int(value)] = Int32(index) }
            order = direct
        }
        // Step 4: place them in order and induce the rest.
        for i in 0..<n { sa[i] = -1 }
        tail = tails()
        for index in stride(from: order.count - 1, through: 0, by: -1) {
            let position = lmsPositions[Int(order[index])]
            let c = Int(text[position])
            tail[c] -= 1
            sa[tail[c]] = Int32(position)
        }
        induce()
        return sa
    }
}
