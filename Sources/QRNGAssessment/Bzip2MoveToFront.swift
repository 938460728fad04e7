internal import CQRNGAssessmentKernels
import QRNG

/// Move-to-front positions of a last column.
///
/// A step of move-to-front depends on the list the previous step left, so done one byte after another it runs at
/// the latency of a step. The list at any point is determined by the bytes before it, though — the symbols by
/// most recent use, then those never used in their first order — so the column is cut into four segments whose
/// starting lists are read off backwards from each cut, and the four are advanced in step. With at most 16
/// symbols the list is sixteen 4-bit symbol numbers in one word, and a step is a nibble compare by bit tricks, a
/// trailing-zero count and two masks, with no branch; with AVX2 it is sixteen bytes of a vector instead, a step
/// takes half the instructions, and eight segments go in step (`qrng_mtf_positions_avx2`); with AVX-512 each
/// segment keeps its symbols' ranks in a quarter of a register, and sixteen go in step (`qrng_mtf_positions_avx512`).
enum MoveToFront {
    /// Writes the position of each byte of `column` in the list that starts as `symbols` (ascending, every
    /// byte of `column` among them) and moves each byte to the front as it is met.
    static func positions(
        of column: UnsafeBufferPointer<UInt8>, symbols: UnsafeBufferPointer<UInt8>,
        into positions: UnsafeMutablePointer<UInt8>
    ) {
        if symbols.count <= 16 && column.count >= 64 && CPUFeatures.hasAVX512VBMI {
            vectorPositions(of: column, symbols: symbols, into: positions, wide: true)
        } else if symbols.count <= 16 && column.count >= 64 && CPUFeatures.hasAVX2 {
            vectorPositions(of: column, symbols: symbols, into: positions)
        } else if symbols.count <= 16 {
            packedPositions(of: column, symbols: symbols, into: positions)
        } else {
            listPositions(of: column, symbols: symbols, into: positions)
        }
    }

    /// The lists before each of `starts` (ascending), front first. The list at a start is the bytes met since the
    /// start before it, most recent first, then the rest of the list there in its order: so each backward scan
    /// stops at the start before it, and a byte absent from a long stretch (the column of decimal text has no
    /// separator among the rotations that start with one) costs one stretch, not everything before it.
    static func initialLists(
        before starts: [Int], in column: UnsafeBufferPointer<UInt8>, symbols: UnsafeBufferPointer<UInt8>
    ) -> [[UInt8]] {
        var lists: [[UInt8]] = []
        var previousStart = 0
        var previous = Array(symbols)
        let source = UnsafeRawPointer(column.baseAddress!)
        let bytes = column.baseAddress!
        // The symbols not yet met, each repeated across a vector.
        var missing: [SIMD16<UInt8>] = []
        missing.reserveCapacity(symbols.count)
        withUnsafeTemporaryAllocation(of: Bool.self, capacity: 256) { seen in
            seen.initialize(repeating: false)
            for start in starts {
                var list: [UInt8] = []
                list.reserveCapacity(symbols.count)
                var index = start
                var found = 0
                // Sixteen bytes at a time, skipping those that hold no symbol still missing: every other byte there
                // was already met and changes nothing. Long stretches of a column lack some symbols (in decimal
                // text's column no separator precedes the rotations that start with one, and a stretch of rotations
                // that start alike is preceded by few digits), so most of a search is skips.
                var patternsStale = true
                while index > previousStart && found < symbols.count {
                    if index - 16 >= previousStart {
                        if patternsStale {
                            missing.removeAll(keepingCapacity: true)
                            for symbol in symbols where !seen[Int(symbol)] { missing.append(SIMD16(repeating: symbol)) }
                            patternsStale = false
                        }
                        let chunk = source.loadUnaligned(fromByteOffset: index - 16, as: SIMD16<UInt8>.self)
                        var hit = SIMDMask<SIMD16<Int8>>(repeating: false)
                        for pattern in missing { hit .|= chunk .== pattern }
                        // Two words' OR rather than `any`, which reduces lane by lane.
                        let words = unsafeBitCast(hit, to: SIMD2<UInt64>.self)
                        if words[0] | words[1] == 0 {
                            index -= 16
                            continue
                        }
                    }
                    // The chunk holds a missing symbol, or fewer than sixteen bytes are left: a byte at a time.
                    let chunkStart = max(index - 16, previousStart)
                    while index > chunkStart {
                        index -= 1
                        let byte = bytes[index]
                        if !seen[Int(byte)] {
                            seen[Int(byte)] = true
                            list.append(byte)
                            found += 1
                            patternsStale = true
                        }
                    }
                }
                for symbol in previous where !seen[Int(symbol)] { list.append(symbol) }
                for symbol in list { seen[Int(symbol)] = false }
                lists.append(list)
                previous = list
                previousStart = start
            }
        }
        return lists
    }


    /// The positions by a vector kernel (at most 16 symbols): the AVX2 one, which keeps each list as a vector of
    /// bytes and takes eight segments in step (call only when `CPUFeatures.hasAVX2`), or with `wide` the AVX-512 one,
    /// which keeps each symbol's rank instead, four segments to a register, and takes sixteen (call only when
    /// `CPUFeatures.hasAVX512VBMI`): its step's chain is shorter, but four chains still beat two.
    static func vectorPositions(
        of column: UnsafeBufferPointer<UInt8>, symbols: UnsafeBufferPointer<UInt8>,
        into positions: UnsafeMutablePointer<UInt8>, wide: Bool = false
    ) {
        let segments = wide ? 16 : 8
        let length = column.count / segments
        var lists = [UInt8](repeating: 0, count: 16 * segments)
        let initial = initialLists(before: (0..<segments).map { $0 * length }, in: column, symbols: symbols)
        for segment in 0..<segments {
            let list = initial[segment]
            // Entries past the alphabet repeat its first: never the first match.
            for index in 0..<16 { lists[16 * segment + index] = index < list.count ? list[index] : list[0] }
        }
        if wide {
            var numbers = [UInt8](repeating: 0, count: 256)
            for (index, symbol) in symbols.enumerated() { numbers[Int(symbol)] = UInt8(index) }
            qrng_mtf_positions_avx512(column.baseAddress!, column.count, lists, numbers, positions)
        } else {
            qrng_mtf_positions_avx2(column.baseAddress!, column.count, lists, positions)
        }
    }

    static func packedPositions(
        of column: UnsafeBufferPointer<UInt8>, symbols: UnsafeBufferPointer<UInt8>,
        into positions: UnsafeMutablePointer<UInt8>
    ) {
        let count = column.count
        var number = [UInt64](repeating: 0, count: 256)
        for (index, symbol) in symbols.enumerated() { number[Int(symbol)] = UInt64(index) }
        func packed(_ bytes: [UInt8]) -> UInt64 {
            var list: UInt64 = 0
            for (index, byte) in bytes.enumerated() { list |= number[Int(byte)] << (4 * UInt64(index)) }
            return list
        }
        // Nibble i of the list is position i. Matching nibbles show as zero nibbles of list ^ (symbol repeated);
        // the first is the position (nibbles past the symbols never match before it). Then nibbles 0 ... position
        // take the symbol and the ones before them.
        let low3: UInt64 = 0x7777_7777_7777_7777
        @inline(__always) func step(_ list: inout UInt64, _ symbol: UInt64) -> UInt8 {
            let difference = list ^ (symbol &* 0x1111_1111_1111_1111)
            let zeros = ~(((difference & low3) &+ low3) | difference | low3)
            let position = UInt64(truncatingIfNeeded: zeros.trailingZeroBitCount) &>> 2
            let through = UInt64.max &>> (60 &- 4 &* position)
            list = (list & ~through) | ((list &<< 4) & through) | symbol
            return UInt8(truncatingIfNeeded: position)
        }
        let quarter = count / 4
        let initial = initialLists(before: [0, quarter, 2 * quarter, 3 * quarter], in: column, symbols: symbols)
        var list0 = packed(initial[0])
        var list1 = packed(initial[1])
        var list2 = packed(initial[2])
        var list3 = packed(initial[3])
        let bytes = column.baseAddress!
        number.withUnsafeBufferPointer { number in
            for offset in 0..<quarter {
                positions[offset] = step(&list0, number[Int(bytes[offset])])
                positions[quarter + offset] = step(&list1, number[Int(bytes[quarter + offset])])
                positions[2 * quarter + offset] = step(&list2, number[Int(bytes[2 * quarter + offset])])
                positions[3 * quarter + offset] = step(&list3, number[Int(bytes[3 * quarter + offset])])
            }
            for index in (4 * quarter)..<count { positions[index] = step(&list3, number[Int(bytes[index])]) }
        }
    }

    /// The plain list walk, for alphabets of more than 16 symbols.
    static func listPositions(
        of column: UnsafeBufferPointer<UInt8>, symbols: UnsafeBufferPointer<UInt8>,
        into positions: UnsafeMutablePointer<UInt8>
    ) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 256) { list in
            for (index, symbol) in symbols.enumerated() { list[index] = symbol }
            for (index, byte) in column.enumerated() {
                var carried = list[0]
                var position = 0
                while carried != byte {
                    position += 1
                    swap(&carried, &list[position])
                }
                list[0] = byte
                positions[index] = UInt8(truncatingIfNeeded: position)
            }
        }
    }
}
