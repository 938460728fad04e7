/// The word-at-a-time test of one-bit samples.
///
/// Per step of up to 64 samples (never across an APT window's end, and realigned to whole words of the
/// window after a partial step), with `equal` the mask of samples equal to the one before:
/// - RCT: the leading ones of `equal` continue the carried run; a run of C inside the word is C − 1 consecutive
///   ones of `equal`, found by doubling; the trailing ones give the run carried on.
/// - APT: the count grows by the population count of the samples equal to the window's reference.
/// Both checks are exact: a step is accepted only if no sample in it fails, so the caller re-tests one sample at a
/// time only the step in which a failure really happens.
enum BinaryKernel {
    /// Whether some aligned byte of `bits` is all ones.
    @inline(__always)
    static func hasFullByte(_ bits: UInt64) -> Bool {
        let inverted = ~bits
        return (inverted &- 0x0101_0101_0101_0101) & ~inverted & 0x8080_8080_8080_8080 != 0
    }

    /// The RCT over one step of `width` samples, the first `width` bits of `word` (`valid` masks them): returns
    /// `false` when a sample in it fails, otherwise advances the run and the last sample.
    @inline(__always)
    static func rctStep(
        _ word: UInt64, width: Int, valid: UInt64, run: inout Int, previous: inout UInt64, cutoff: Int,
        insideLength: Int, checkInside: Bool, byteFilter: Bool
    ) -> Bool {
        let equal = ~(word ^ (word >> 1 | previous << 63)) & valid
        if equal == valid {
            run &+= width
            if run >= cutoff { return false }
        } else {
            let lead = (~equal).leadingZeroBitCount
            if run &+ lead >= cutoff { return false }
            // A run of 15 or more ones covers a whole aligned byte: a cheap filter before the doubling.
            if checkInside && (!byteFilter || hasFullByte(equal)) && RepetitionCountTest.hasRun(equal, insideLength) {
                return false
            }
            run = (~(equal >> UInt64(64 - width))).trailingZeroBitCount &+ 1
        }
        previous = (word >> UInt64(64 - width)) & 1
        return true
    }

    /// Tests samples [from, to) of the bit string in `words`; returns the index of the first step in which a test
    /// fails (`to` when none does), with both tests' states advanced to it.
    @inline(__always)
    static func run(
        _ words: UnsafeBufferPointer<UInt64>, from: Int, to end: Int, rct: inout RepetitionCountTest,
        apt: inout AdaptiveProportionTest
    ) -> Int {
        guard from < end else { return from }
        let base = words.baseAddress!
        let wordCount = words.count
        @inline(__always) func read(_ index: Int, _ width: Int) -> UInt64 {
            let word = index >> 6
            let shift = UInt64(index & 63)
            var value = base[word] << shift
            if shift != 0 && word + 1 < wordCount { value |= base[word + 1] >> (64 - shift) }
            return width == 64 ? value : value & ~(UInt64.max >> UInt64(width))
        }
        let rctCutoff = rct.cutoff
        let window = apt.window
        let aptCutoff = apt.cutoff
        // A run of C inside one word needs C − 1 equal neighbours, possible only when C − 1 < 64.
        let insideLength = rctCutoff - 1
        let checkInside = insideLength <= 63
        let byteFilter = insideLength >= 15
        var run = rct.run
        var previous = UInt64(rct.previous & 1)
        if run == 0 { previous = read(from, 1) >> 63 }  // the first sample then continues a run of none
        var reference = UInt64(apt.reference & 1)
        var count = apt.count
        var position = apt.position
        var index = from
        while index < end {
            // A whole APT window from a word boundary: one vectorised population count for the APT (its count
            // only grows, so checking it at the window's end is exact), then the RCT word by word. If either
            // may fail, the word-by-word steps below go through the window again and stop at the failing word.
            if position == 0 && index & 63 == 0 && end &- index >= window && window & 63 == 0 {
                let first = base + (index >> 6)
                let words = window >> 6
                var ones = 0
                for offset in 0..<words { ones &+= first[offset].nonzeroBitCount }
                let matches = first[0] >> 63 == 1 ? ones : window &- ones
                if matches < aptCutoff {
                    var windowRun = run
                    var windowPrevious = previous
                    var passed = true
                    for offset in 0..<words {
                        if !rctStep(
                            first[offset], width: 64, valid: .max, run: &windowRun, previous: &windowPrevious,
                            cutoff: rctCutoff, insideLength: insideLength, checkInside: checkInside,
                            byteFilter: byteFilter)
                        {
                            passed = false
                            break
                        }
                    }
                    if passed {
                        run = windowRun
                        previous = windowPrevious
                        index &+= window
                        continue
                    }
                }
            }
            var width = min(64, end - index)
            if position != 0 { width = min(width, window - position, 64 - (position & 63)) }
            let word = read(index, width)
            let valid = width == 64 ? UInt64.max : ~(UInt64.max >> UInt64(width))
            var newRun = run
            var newPrevious = previous
            if !rctStep(
                word, width: width, valid: valid, run: &newRun, previous: &newPrevious, cutoff: rctCutoff,
                insideLength: insideLength, checkInside: checkInside, byteFilter: byteFilter)
            {
                break
            }
            if position == 0 {
                reference = word >> 63
                count = 0
            }
            let ones = word.nonzeroBitCount
            let newCount = count &+ (reference == 1 ? ones : width &- ones)
            if newCount >= aptCutoff { break }
            run = newRun
            previous = newPrevious
            count = newCount
            position &+= width
            if position == window { position = 0 }
            index &+= width
        }
        rct.run = run
        rct.previous = UInt16(previous)
        apt.reference = UInt16(reference)
        apt.count = count
        apt.position = position
        return index
    }
}

/// The block-at-a-time test of samples of 2 to 16 bits.
///
/// Per block of up to 128 samples (never across an APT window's end): a loop the optimiser vectorises counts
/// the samples equal to their predecessor and those equal to the window's reference. The APT check is exact (the
/// count only grows within a window). For the RCT, a run of C needs C − 1 equal neighbours, so a block with fewer
/// (with the carried run) cannot fail; otherwise the block's runs are followed one by one, which is still exact.
enum WideKernel {
    static let block = 128

    /// Among samples 1..<`width` from `start`: how many equal their predecessor, and how many equal `reference`.
    ///
    /// Eight lanes at a time with SIMD compares (one SSE2 instruction each on x86-64), the rest one by one.
    @inline(__always)
    static func tally(_ start: UnsafePointer<UInt16>, _ width: Int, _ reference: UInt16) -> (Int, Int) {
        var equal = SIMD8<UInt16>()
        var matches = SIMD8<UInt16>()
        let references = SIMD8<UInt16>(repeating: reference)
        let zero = SIMD8<UInt16>()
        let one = SIMD8<UInt16>(repeating: 1)
        var offset = 1
        while offset &+ 8 <= width {
            let current = UnsafeRawPointer(start + offset).loadUnaligned(as: SIMD8<UInt16>.self)
            let before = UnsafeRawPointer(start + (offset &- 1)).loadUnaligned(as: SIMD8<UInt16>.self)
            equal &+= zero.replacing(with: one, where: current .== before)
            matches &+= zero.replacing(with: one, where: current .== references)
            offset &+= 8
        }
        var equalCount = Int(equal.wrappedSum())
        var matchCount = Int(matches.wrappedSum())
        while offset < width {
            equalCount &+= start[offset] == start[offset &- 1] ? 1 : 0
            matchCount &+= start[offset] == reference ? 1 : 0
            offset &+= 1
        }
        return (equalCount, matchCount)
    }

    /// Tests samples [from, to); returns the index of the first block in which a test fails and that block's end
    /// (both `to` when none fails), with both tests' states advanced to the first.
    @inline(__always)
    static func run(
        _ values: UnsafeBufferPointer<UInt16>, from: Int, to end: Int, rct: inout RepetitionCountTest,
        apt: inout AdaptiveProportionTest
    ) -> (reached: Int, blockEnd: Int) {
        guard from < end else { return (from, from) }
        let base = values.baseAddress!
        let rctCutoff = rct.cutoff
        let window = apt.window
        let aptCutoff = apt.cutoff
        var run = rct.run
        var previous = rct.previous
        var reference = apt.reference
        var count = apt.count
        var position = apt.position
        var index = from
        var blockEnd = end
        while index < end {
            let width = min(block, end - index, window - position)
            let firstSample = base[index]
            let startRun = run > 0 && firstSample == previous ? run + 1 : 1
            if position == 0 {
                reference = firstSample
                count = 0
            }
            let (equalNeighbours, laterMatches) = tally(base + index, width, reference)
            let matches = laterMatches + (firstSample == reference ? 1 : 0)
            let newCount = count + matches
            if newCount >= aptCutoff {
                blockEnd = index + width
                break
            }
            var newRun: Int
            if startRun + equalNeighbours < rctCutoff {
                if equalNeighbours == width - 1 {
                    newRun = startRun + width - 1
                } else {
                    newRun = 1
                    var last = index + width - 1
                    while base[last] == base[last - 1] {
                        newRun += 1
                        last -= 1
                    }
                }
            } else {
                // Enough equal neighbours for a failing run: follow the runs exactly.
                newRun = startRun
                var failed = startRun >= rctCutoff
                var offset = index + 1
                while !failed && offset < index + width {
                    newRun = base[offset] == base[offset - 1] ? newRun + 1 : 1
                    failed = newRun >= rctCutoff
                    offset += 1
                }
                if failed {
                    blockEnd = index + width
                    break
                }
            }
            run = newRun
            previous = base[index + width - 1]
            count = newCount
            position += width
            if position == window { position = 0 }
            index += width
        }
        rct.run = run
        rct.previous = previous
        apt.reference = reference
        apt.count = count
        apt.position = position
        return (index, index == end ? end : blockEnd)
    }
}
