internal import CQRNGBitKernels

/// A fixed-capacity ring of bits that zeroes every bit it hands out, built so that the bulk of every copy in or
/// out can happen outside the pool's lock.
///
/// The capacity is a power of two number of 64-bit words, so positions wrap with a mask. Positions count bits
/// from the ring's creation and never wrap themselves (2⁶⁴ bits is centuries at any real rate):
///
/// ```
/// reclaimed ≤ head ≤ tail ≤ writeEnd ≤ reclaimed + capacity
/// ```
///
/// - [head, tail) holds the bits not yet handed out (``count``).
/// - [reclaimed, head) has been handed out in *claims* whose words are still being copied out and zeroed.
/// - [tail, writeEnd) is being written by a producer.
/// - Everything else is free, and free storage is always zero.
///
/// A claim hands a consumer a range of bits: the bits of the partial words at either end are taken and zeroed
/// at once (those words are shared with neighbouring bits), and the words wholly inside belong to that consumer
/// alone until it releases the claim, so it may copy and zero them without the lock (``RingWords``). A write
/// works the same way from the producer's side. The ring itself is mutated only under the pool's lock.
struct BitRing: ~Copyable {
    let capacityBits: Int
    private let wordMask: Int
    /// The storage, for the copies done outside the lock.
    let words: RingWords
    private(set) var head: UInt64 = 0
    private(set) var tail: UInt64 = 0
    /// The end of the bits a producer is writing; `tail` when no write is in progress.
    private(set) var writeEnd: UInt64 = 0
    /// Every bit before this position is free: handed out and zeroed.
    private(set) var reclaimed: UInt64 = 0
    /// The claims whose whole words are still being copied out, oldest first.
    private var claims: [Range<UInt64>] = []

    /// Creates a ring holding at least `minimumCapacityBits` bits.
    init(minimumCapacityBits: Int) {
        var count = 1
        while count * 64 < minimumCapacityBits { count <<= 1 }
        self.capacityBits = count * 64
        self.wordMask = count - 1
        let storage = UnsafeMutablePointer<UInt64>.allocate(capacity: count)
        storage.initialize(repeating: 0, count: count)
        self.words = RingWords(base: storage, mask: count - 1)
    }

    deinit {
        secureZero(UnsafeMutableRawBufferPointer(start: words.base, count: 8 * capacityBits / 64))
        words.base.deallocate()
    }

    /// Bits ready to be handed out.
    var count: Int { Int(tail - head) }
    /// Bits a producer may write now.
    var freeBits: Int { capacityBits - Int(writeEnd - reclaimed) }
    /// Whether a producer is writing.
    var isWriting: Bool { writeEnd != tail }
    /// Whether claims are still being copied out.
    var hasOpenClaims: Bool { !claims.isEmpty }

    // MARK: Consumers

    /// Hands out the next `bitCount` bits: advances the head, takes the bits of the partial words at either end
    /// (zeroing them) and leaves the whole words in between to the claimant, who moves them with ``RingWords``
    /// and then calls ``release(_:)`` (unless the claim has no whole words).
    mutating func claim(_ bitCount: Int) -> RingClaim {
        precondition(bitCount >= 0 && bitCount <= count, "not enough bits in the ring")
        let start = head
        let end = head + UInt64(bitCount)
        let firstWhole = (start + 63) & ~63
        var claim = RingClaim(start: start, end: end)
        if end <= firstWhole {
            claim.leadingWidth = bitCount
            claim.leading = takeBits(at: start, width: bitCount)
        } else {
            let lastWhole = end & ~63
            claim.leadingWidth = Int(firstWhole - start)
            claim.leading = takeBits(at: start, width: claim.leadingWidth)
            claim.firstWord = Int(truncatingIfNeeded: firstWhole >> 6) & wordMask
            claim.wordCount = Int((lastWhole - firstWhole) >> 6)
            claim.trailingWidth = Int(end - lastWhole)
            claim.trailing = takeBits(at: lastWhole, width: claim.trailingWidth)
        }
        head = end
        if claim.wordCount > 0 { claims.append(start..<end) } else { reclaimed = claims.first?.lowerBound ?? head }
        return claim
    }

    /// Ends a claim whose whole words have been moved out: its storage becomes free for producers.
    mutating func release(_ claim: RingClaim) {
        guard claim.wordCount > 0 else { return }
        guard let index = claims.firstIndex(where: { $0.lowerBound == claim.start }) else {
            preconditionFailure("released a claim the ring does not know")
        }
        claims.remove(at: index)
        reclaimed = claims.first?.lowerBound ?? head
    }

    /// Up to 64 bits from one word at `position`, left-aligned, zeroed in the ring.
    private mutating func takeBits(at position: UInt64, width: Int) -> UInt64 {
        guard width > 0 else { return 0 }
        let index = Int(truncatingIfNeeded: position >> 6) & wordMask
        let shift = position & 63
        precondition(Int(shift) + width <= 64, "the bits must lie in one word")
        let mask = width == 64 ? UInt64.max : ~(UInt64.max >> UInt64(width))
        let value = (words.base[index] << shift) & mask
        words.base[index] &= ~(mask >> shift)
        return value
    }

    // MARK: Producers

    /// Starts writing the bits of `bits` in `range`, which must fit and no other write be in progress: writes the
    /// bits of the partial words at either end now and leaves the whole words in between to the writer, who
    /// writes them with ``RingWords/write(_:)`` and then calls ``commit()``.
    mutating func beginWrite(_ bits: BitBuffer, range: Range<Int>) -> RingWrite {
        precondition(!isWriting, "one write at a time")
        precondition(range.count <= freeBits, "the ring has no room for these bits")
        precondition(range.lowerBound >= 0 && range.upperBound <= bits.count, "range out of bounds")
        let start = tail
        let end = tail + UInt64(range.count)
        let firstWhole = (start + 63) & ~63
        var write = RingWrite(sourceOffset: 0)
        if end <= firstWhole {
            putBits(bits.word(atBit: range.lowerBound, width: range.count), width: range.count, at: start)
        } else {
            let lastWhole = end & ~63
            let leading = Int(firstWhole - start)
            putBits(bits.word(atBit: range.lowerBound, width: leading), width: leading, at: start)
            write.sourceOffset = range.lowerBound + leading
            write.firstWord = Int(truncatingIfNeeded: firstWhole >> 6) & wordMask
            write.wordCount = Int((lastWhole - firstWhole) >> 6)
            let trailing = Int(end - lastWhole)
            putBits(bits.word(atBit: range.upperBound - trailing, width: trailing), width: trailing, at: lastWhole)
        }
        writeEnd = end
        return write
    }

    /// Makes the write in progress part of the contents.
    mutating func commit() {
        tail = writeEnd
    }

    /// ORs up to 64 left-aligned bits into one word at `position`.
    private mutating func putBits(_ value: UInt64, width: Int, at position: UInt64) {
        guard width > 0 else { return }
        let index = Int(truncatingIfNeeded: position >> 6) & wordMask
        words.base[index] |= value >> (position & 63)
    }

    // MARK: Whole operations under the lock

    /// Appends the bits of `bits` in `range`; they must fit.
    mutating func write(_ bits: BitBuffer, range: Range<Int>) {
        let write = beginWrite(bits, range: range)
        words.write(write, from: bits)
        commit()
    }

    /// Removes `bitCount` bits from the front into `output`.
    mutating func take(_ bitCount: Int, into output: inout BitBuffer) {
        let claim = claim(bitCount)
        words.move(claim, into: &output)
        release(claim)
    }

    /// Removes `destination.count` bytes' worth of bits from the front, packing them MSB-first.
    mutating func take(into destination: UnsafeMutableRawBufferPointer) {
        let claim = claim(8 * destination.count)
        words.move(claim, into: destination)
        release(claim)
    }

    /// Zeroes and drops every bit not yet handed out. Claims and a write in progress keep their words: their
    /// owners are still copying them.
    mutating func removeAll() {
        let claim = claim(count)
        words.zero(claim)
        release(claim)
    }

    // MARK: For tests

    /// Whether every storage bit outside [reclaimed, writeEnd) is zero, as the ring promises.
    var isZeroOutsideContents: Bool {
        (0..<capacityBits).allSatisfy { bit in
            let position = UInt64(bit)
            let inside = (position &- reclaimed) % UInt64(capacityBits) < writeEnd - reclaimed
            return inside || (words.base[bit >> 6] >> UInt64(63 - bit & 63)) & 1 == 0
        }
    }

    /// The bits in the ring not yet handed out, in order, without taking them.
    var contents: [Bool] {
        (0..<count).map { offset in
            let position = Int(truncatingIfNeeded: (head + UInt64(offset)) % UInt64(capacityBits))
            return (words.base[position >> 6] >> UInt64(63 - position & 63)) & 1 == 1
        }
    }
}

/// Bits handed to one consumer: the partial words at either end already taken, and the whole words between,
/// which only this consumer touches until it releases the claim.
struct RingClaim: Sendable {
    let start: UInt64
    let end: UInt64
    /// For a journaled pool, the recording's sample offset the claimed bits reach into.
    var sourcePosition: UInt64?
    /// The bits before the first whole word, left-aligned.
    var leading: UInt64 = 0
    var leadingWidth = 0
    /// The storage index of the first whole word, and how many there are (they may wrap).
    var firstWord = 0
    var wordCount = 0
    /// The bits after the last whole word, left-aligned.
    var trailing: UInt64 = 0
    var trailingWidth = 0

    init(start: UInt64, end: UInt64) {
        self.start = start
        self.end = end
    }

    var bitCount: Int { Int(end - start) }
}

/// The whole words a producer writes outside the lock: `wordCount` words from storage index `firstWord`, taken
/// from the source buffer from bit `sourceOffset`.
struct RingWrite: Sendable {
    var sourceOffset: Int
    var firstWord = 0
    var wordCount = 0
}

/// The ring's storage, reached without the lock for the whole words of a claim or a write, which belong to one
/// thread at a time.
///
/// `@unchecked Sendable`: the ring hands each whole word to exactly one claimant or writer, and the pool's lock
/// orders the hand-over (the producer's commit and a consumer's claim, a consumer's release and the producer's
/// next write), so no word is accessed by two threads without that lock between them.
struct RingWords: @unchecked Sendable {
    let base: UnsafeMutablePointer<UInt64>
    let mask: Int

    /// Whether the byte-shuffling hand-out kernel can run.

    /// Calls `body` with runs of storage that do not wrap: (first index, count, words done before this run).
    @inline(__always)
    private func forEachRun(from first: Int, count: Int, _ body: (Int, Int, Int) -> Void) {
        var done = 0
        var index = first
        while done < count {
            let run = min(count - done, mask + 1 - index)
            body(index, run, done)
            done += run
            index = (index + run) & mask
        }
    }

    /// Copies a claim's bits into `destination`, packed MSB-first, zeroing its whole words in the ring. The claim
    /// must be `8 * destination.count` bits.
    func move(_ claim: RingClaim, into destination: UnsafeMutableRawBufferPointer) {
        precondition(claim.bitCount == 8 * destination.count, "the claim must fill the destination")
        guard let out = destination.baseAddress else { return }
        // `pending` holds `filled` (< 64) bits not yet stored; output word k goes to byte 8k.
        var pending = claim.leading
        let filled = claim.leadingWidth
        var stored = 0
        forEachRun(from: claim.firstWord, count: claim.wordCount) { index, run, done in
            let source = base + index
            let target = out + 8 * done
            if filled == 0 && BitKernelSupport.hasAVX2 {
                qrng_move_words_big_endian_avx2(target, source, run)
            } else if filled == 0 {
                for word in 0..<run {
                    target.storeBytes(of: source[word].bigEndian, toByteOffset: 8 * word, as: UInt64.self)
                    source[word] = 0
                }
            } else {
                let shift = UInt64(filled)
                for word in 0..<run {
                    let value = source[word]
                    target.storeBytes(of: (pending | value >> shift).bigEndian, toByteOffset: 8 * word, as: UInt64.self)
                    pending = value << (64 - shift)
                    source[word] = 0
                }
            }
            stored += run
        }
        // What is left: `filled` pending bits, then the trailing bits; a whole number of bytes, at most 16.
        var offset = 8 * stored
        func store(_ value: UInt64) {
            guard offset < destination.count else { return }
            let bytes = min(8, destination.count - offset)
            withUnsafeBytes(of: value.bigEndian) { raw in
                (out + offset).copyMemory(from: raw.baseAddress!, byteCount: bytes)
            }
            offset += bytes
        }
        let shift = UInt64(filled)
        store(pending | claim.trailing >> shift)
        store(filled == 0 ? 0 : claim.trailing << (64 - shift))
    }

    /// Appends a claim's bits to `output`, zeroing its whole words in the ring.
    func move(_ claim: RingClaim, into output: inout BitBuffer) {
        output.reserveCapacity(output.count + claim.bitCount)
        if claim.leadingWidth > 0 { output.appendLeftAligned(claim.leading, width: claim.leadingWidth) }
        forEachRun(from: claim.firstWord, count: claim.wordCount) { index, run, _ in
            let source = base + index
            for word in 0..<run {
                output.appendLeftAligned(source[word], width: 64)
                source[word] = 0
            }
        }
        if claim.trailingWidth > 0 { output.appendLeftAligned(claim.trailing, width: claim.trailingWidth) }
    }

    /// Zeroes a claim's whole words without reading them.
    func zero(_ claim: RingClaim) {
        forEachRun(from: claim.firstWord, count: claim.wordCount) { index, run, _ in
            secureZero(UnsafeMutableRawBufferPointer(start: base + index, count: 8 * run))
        }
    }

    /// Writes a write's whole words from `source`, where the free storage is zero.
    func write(_ write: RingWrite, from source: BitBuffer) {
        let shift = UInt64(write.sourceOffset & 63)
        source.words.withUnsafeBufferPointer { words in
            var next = write.sourceOffset >> 6
            forEachRun(from: write.firstWord, count: write.wordCount) { index, run, _ in
                let target = base + index
                let from = words.baseAddress! + next
                if shift == 0 {
                    target.update(from: from, count: run)
                } else {
                    for word in 0..<run { target[word] = from[word] << shift | from[word + 1] >> (64 - shift) }
                }
                next += run
            }
        }
    }
}
