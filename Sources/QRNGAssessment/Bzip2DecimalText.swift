import QRNG

/// bzip2's compressed size of numbers written in decimal and separated by single spaces — the text of the
/// permutation tests' compression statistic (§5.1.11) — computed from the numbers, without writing the text.
///
/// For numbers below 1,000 the text has a shape that makes most of `compressedLength(of:)`'s work unnecessary. No
/// four equal bytes ever meet (a word has at most three digits and spaces stand alone), so the initial run-length
/// coding changes nothing and each block is a stretch of the text, cut where `forEachBlock` would cut it. The words
/// of a block are the numbers themselves, so the byte histogram, the separators and the distinct words with their
/// ranks all follow from counting numbers rather than reading bytes; only the word split by each end of the
/// block (joined into one word round the block's end) needs looking at. From the words on, the transform and the
/// back end are `compressedLength(of:)`'s own, and a block whose most common byte is not the space (or that is
/// too short to be worth it) is written out and given to that path whole.
extension Bzip2Length {
    /// Numbers below this have at most three digits.
    static let decimalLimit = 1000

    /// The size `compressedLength(of:workspace:)` gives for `values` written in decimal, separated by single
    /// spaces (none after the last), or nil when there are none or a value is 1,000 or more: such text can hold
    /// runs of four equal digits, and is left to the byte-wise path.
    static func compressedLength(ofDecimal values: UnsafeBufferPointer<UInt16>, workspace: Workspace) -> Int? {
        let count = values.count
        guard count > 0 else { return nil }
        var largest: UInt16 = 0
        for value in values { largest = max(largest, value) }
        guard Int(largest) < decimalLimit else { return nil }
        var cutter = DecimalBlockCutter(values: values, limit: workspace.blockLimit, counts: workspace.decimalCounts)
        var bits = streamHeaderBits
        while let block = cutter.next() {
            bits += decimalBlockBits(block, values: values, workspace: workspace)
        }
        bits += streamTrailerBits
        return (bits + 7) / 8
    }

    /// One block's bits, header included.
    private static func decimalBlockBits(_ block: DecimalBlock, values: UnsafeBufferPointer<UInt16>, workspace: Workspace)
        -> Int
    {
        let table = DecimalWords.table
        let separatorCount = block.lastWord - block.firstWord
        // Short blocks (the last one can be a few bytes) take the byte-wise path: not worth a special case.
        guard separatorCount >= 64 else { return writtenBlockBits(block, values: values, workspace: workspace) }

        // The cutter counted the words between the block's first and last separator.
        let counts = workspace.decimalCounts

        // The word round the block's end: the start of the last word, then the rest of the first.
        let first = Int(values[block.firstWord])
        let last = Int(values[block.lastWord])
        var wrapDigits: [UInt8] = []
        for offset in 0..<block.lastWordOffset { wrapDigits.append(table.digit(last, at: offset)) }
        for offset in block.firstWordOffset..<Int(table.lengths[first]) { wrapDigits.append(table.digit(first, at: offset)) }
        // Written as a number writes itself (no leading zero, at least one digit), it is that number's word.
        var wrapValue: Int? = nil
        if (1...3).contains(wrapDigits.count) && (wrapDigits.count == 1 || wrapDigits[0] != UInt8(ascii: "0")) {
            wrapValue = wrapDigits.reduce(0) { 10 * $0 + Int($1 - UInt8(ascii: "0")) }
            counts[wrapValue!] &+= 1
        }

        // The byte histogram: the space once per separator, each number's digits as often as it occurs.
        var histogram = [Int](repeating: 0, count: 256)
        histogram[Int(DecimalWords.space)] = separatorCount
        for value in 0..<decimalLimit where counts[value] > 0 {
            for offset in 0..<Int(table.lengths[value]) {
                histogram[Int(table.digit(value, at: offset))] += Int(counts[value])
            }
        }
        if wrapValue == nil { for digit in wrapDigits { histogram[Int(digit)] += 1 } }
        // The byte-wise path takes the most common byte as the separator, the lowest on a tie: the space wins ties.
        guard histogram.allSatisfy({ $0 <= separatorCount }) else {
            return writtenBlockBits(block, values: values, workspace: workspace)
        }

        // The distinct words in order of their keys; each word's identifier is its rank.
        let wrapKey = DecimalWords.key(of: wrapDigits)
        let ranks = workspace.decimalRanks
        var keys: [UInt64] = []
        var lengths: [UInt8] = []
        var frequencies: [Int32] = []
        var wrapRank = UInt32.max
        func appendWrapWord() {
            wrapRank = UInt32(keys.count)
            keys.append(wrapKey)
            lengths.append(UInt8(wrapDigits.count))
            frequencies.append(1)
        }
        for value in table.valuesInKeyOrder where counts[Int(value)] > 0 {
            let key = table.keys[Int(value)]
            if wrapValue == nil && wrapRank == .max && wrapKey < key { appendWrapWord() }
            ranks[Int(value)] = UInt32(keys.count)
            keys.append(key)
            lengths.append(table.lengths[Int(value)])
            frequencies.append(counts[Int(value)])
        }
        if let wrapValue {
            wrapRank = ranks[wrapValue]
        } else if wrapRank == .max {
            appendWrapWord()
        }

        let sorter = workspace.sorter
        let identifiers = sorter.wordIdentifierBuffer
        let inner = separatorCount - 1
        let source = values.baseAddress! + block.firstWord + 1
        for word in 0..<inner { identifiers[word] = ranks[Int(source[word])] }
        identifiers[inner] = wrapRank
        keys.withUnsafeBufferPointer { keys in
            lengths.withUnsafeBufferPointer { lengths in
                frequencies.withUnsafeBufferPointer { frequencies in
                    sorter.transform(
                        words: Bzip2BlockSorter.Words(
                            keys: keys.baseAddress!, lengths: lengths.baseAddress!,
                            frequencies: frequencies.baseAddress!, count: keys.count),
                        separator: DecimalWords.space, separatorCount: separatorCount, blockCount: block.byteCount,
                        into: workspace.lastColumn)
                }
            }
        }
        return blockHeaderBits
            + lastColumnBits(count: block.byteCount, inUse: histogram.map { $0 > 0 }, workspace: workspace)
    }

    /// The block written out and measured by the byte-wise path.
    private static func writtenBlockBits(_ block: DecimalBlock, values: UnsafeBufferPointer<UInt16>, workspace: Workspace)
        -> Int
    {
        let table = DecimalWords.table
        let text = workspace.block
        var written = 0
        for word in block.firstWord...block.lastWord {
            let value = Int(values[word])
            let from = word == block.firstWord ? block.firstWordOffset : 0
            let to = word == block.lastWord ? block.lastWordOffset : Int(table.lengths[value]) + 1
            for offset in from..<to {
                text[written] = offset == Int(table.lengths[value]) ? DecimalWords.space : table.digit(value, at: offset)
                written += 1
            }
        }
        assert(written == block.byteCount)
        return blockBits(count: written, workspace: workspace)
    }
}

/// A block of decimal text: from offset `firstWordOffset` in word `firstWord` to offset `lastWordOffset` in word
/// `lastWord` (exclusive), offsets counting the space after a word as its last byte.
struct DecimalBlock {
    var firstWord: Int
    var firstWordOffset: Int
    var lastWord: Int
    var lastWordOffset: Int
    var byteCount: Int
}

/// Cuts decimal text into blocks where `Bzip2Length.forEachBlock` cuts it. With no run of four, every run (at most
/// three equal bytes) is written whole when the byte after it arrives, so the block in hand reaches `limit` bytes
/// on the first run start at or past `limit` bytes into it, and ends there; the next block begins with that run.
/// Should that run start be the text's last byte, or no run start come before the end, the block takes the rest.
struct DecimalBlockCutter {
    private let values: UnsafeBufferPointer<UInt16>
    private let limit: Int
    /// One count per number below 1,000: the words wholly inside the last block returned.
    private let counts: UnsafeMutablePointer<Int32>
    private var word = 0
    private var wordOffset = 0
    /// Where `word` starts in the text, and where the next block starts.
    private var wordStart = 0
    private var blockStart = 0
    private var finished = false

    init(values: UnsafeBufferPointer<UInt16>, limit: Int, counts: UnsafeMutablePointer<Int32>) {
        self.values = values
        self.limit = limit
        self.counts = counts
    }

    /// The next block, having counted in `counts` the words wholly inside it: those between its first and last
    /// word.
    mutating func next() -> DecimalBlock? {
        guard !finished else { return nil }
        return DecimalWords.table.lengths.withUnsafeBufferPointer { next(lengths: $0.baseAddress!) }
    }

    private mutating func next(lengths: UnsafePointer<UInt8>) -> DecimalBlock {
        counts.update(repeating: 0, count: Bzip2Length.decimalLimit)
        let source = values.baseAddress!
        let lastIndex = values.count - 1
        let target = blockStart + limit
        var end = word
        var endStart = wordStart
        // The word whose digits or following space hold the target, or the last word. Past the first word, each
        // word passed lies wholly inside the block.
        @inline(__always) func length(_ index: Int) -> Int { Int(lengths[Int(source[index])]) }
        if end < lastIndex && endStart &+ length(end) < target {
            endStart &+= length(end) &+ 1
            end &+= 1
            while end < lastIndex && endStart &+ length(end) < target {
                counts[Int(source[end])] &+= 1
                endStart &+= length(end) &+ 1
                end &+= 1
            }
        }
        let value = Int(source[end])
        let endLength = length(end)
        // The first run start from the target on: a digit different from the one before, the first digit of a
        // word, or a space.
        var offset = max(0, target - endStart)
        while offset > 0 && offset < endLength
            && DecimalWords.table.digit(value, at: offset) == DecimalWords.table.digit(value, at: offset - 1)
        {
            offset += 1
        }
        var cut = endStart + min(offset, endLength)
        // Only the last word can end the text: any other is followed by a space and at least one more digit, so
        // both the target and the cut lie at least two bytes before the end.
        if end == lastIndex {
            let textLength = endStart + endLength
            if target >= textLength - 1 || cut >= textLength - 1 {
                cut = textLength
                offset = endLength
                finished = true
            }
        }
        let block = DecimalBlock(
            firstWord: word, firstWordOffset: wordOffset, lastWord: end, lastWordOffset: offset,
            byteCount: cut - blockStart)
        word = end
        wordOffset = offset
        wordStart = endStart
        blockStart = cut
        return block
    }
}

/// Each number below 1,000 as a word: its digits, length and key (the digits and a space from the top byte down,
/// as `Bzip2BlockSorter` keys words), and the numbers in the order of their keys.
struct DecimalWords: Sendable {
    static let space = UInt8(ascii: " ")
    static let table = DecimalWords()

    let lengths: [UInt8]
    /// Three digits per number, most significant first, left-aligned (the unused ones zero).
    let digits: [UInt8]
    let keys: [UInt64]
    let valuesInKeyOrder: [UInt16]

    private init() {
        var lengths: [UInt8] = []
        var digits: [UInt8] = []
        var keys: [UInt64] = []
        for value in 0..<Bzip2Length.decimalLimit {
            let written = Array(String(value).utf8)
            lengths.append(UInt8(written.count))
            digits += written + [UInt8](repeating: 0, count: 3 - written.count)
            keys.append(Self.key(of: written))
        }
        self.lengths = lengths
        self.digits = digits
        self.keys = keys
        valuesInKeyOrder = (0..<UInt16(Bzip2Length.decimalLimit)).sorted { keys[Int($0)] < keys[Int($1)] }
    }

    @inline(__always)
    func digit(_ value: Int, at offset: Int) -> UInt8 { digits[3 * value + offset] }

    /// A word's key: its bytes and then the space, from the top byte down (at most seven bytes of word).
    static func key(of word: [UInt8]) -> UInt64 {
        var key: UInt64 = 0
        for (index, byte) in (word + [space]).enumerated() { key |= UInt64(byte) << (56 - 8 * UInt64(index)) }
        return key
    }
}
