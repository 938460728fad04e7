internal import CQRNGAssessmentKernels
import QRNG

/// bzip2's back end for one block (compress.c's `generateMTFValues` and `sendMTFValues`, huffman.c's
/// `BZ2_hbMakeCodeLengths`), counted rather than written: the number of bits from the symbol map to the last code.
///
/// Every choice that moves a bit is bzip2 1.0.8's: the zero-run code RUNA/RUNB and EOB = symbols in use + 1; the
/// number of tables from the number of MTF values; the first tables cut from cumulative frequencies; four rounds
/// that pick the cheapest table for each group of 50 values (the lowest-numbered on a tie) and rebuild every table
/// from the values it was picked for; Huffman lengths from bzip2's own heap, ties included, capped at 17 bits by
/// halving the counts; then selectors coded move-to-front in unary and code lengths as deltas.
struct Bzip2EntropyCoder {
    static let groupSize = 50
    static let maximumTables = 6
    static let maximumCodeLength = 17
    static let refinementRounds = 4
    /// Bits a field of the packed group costs may use: at most 50 values of at most 17 bits each, 850 < 1024.
    private static let costFieldBits: UInt64 = 10

    /// Each last-column byte's position in the move-to-front list, and 64 bytes more that the zero-run coders may
    /// read past the column.
    private var positions: UnsafeMutablePointer<UInt8>
    /// Move-to-front values after zero-run coding, 8 bits wide when the alphabet allows and 16 otherwise (it
    /// reaches 258), with room for the 64 bytes the run coders may store past the last value.
    private var values: UnsafeMutableRawPointer
    /// Per-group histograms of MTF values, for small alphabets, where summing a histogram against the code lengths
    /// is cheaper than adding up 50 lengths: a row of 16 counts per group (32 for alphabets of 17 to 32 values).
    private var groupHistograms: UnsafeMutablePointer<UInt8>

    /// Alphabets up to this size use the per-group histograms.
    private static let histogramAlphabetLimit = 32

    init(blockCapacity: Int) {
        positions = .allocate(capacity: blockCapacity + 64)
        values = .allocate(byteCount: 2 * (blockCapacity + 64), alignment: 8)
        groupHistograms = .allocate(capacity: (blockCapacity / Self.groupSize + 2) * Self.histogramAlphabetLimit)
    }

    func deallocate() {
        positions.deallocate()
        values.deallocate()
        groupHistograms.deallocate()
    }

    /// The bits `sendMTFValues` writes for a block whose Burrows–Wheeler last column is `lastColumn` and whose bytes
    /// are those marked in `inUse` (the mapping table, selectors, code lengths and the coded data).
    func bits(lastColumn: UnsafeBufferPointer<UInt8>, inUse: UnsafePointer<Bool>) -> Int {
        var mapBits = 16
        var inUseBytes: [UInt8] = []
        for range in 0..<16 {
            var rangeUsed = false
            for byte in (range * 16)..<(range * 16 + 16) where inUse[byte] {
                inUseBytes.append(UInt8(byte))
                rangeUsed = true
            }
            if rangeUsed { mapBits += 16 }
        }
        let symbolCount = inUseBytes.count
        let alphabetSize = symbolCount + 2
        inUseBytes.withUnsafeBufferPointer { inUseBytes in
            MoveToFront.positions(of: lastColumn, symbols: inUseBytes, into: positions)
        }
        if alphabetSize <= 256 {
            let values = values.bindMemory(to: UInt8.self, capacity: 2 * (lastColumn.count + 64))
            let valueCount = Self.codeZeroRuns(
                of: positions, count: lastColumn.count, symbolCount: symbolCount, into: values)
            return mapBits + tableAndDataBits(values: values, valueCount: valueCount, alphabetSize: alphabetSize)
        } else {
            let values = values.bindMemory(to: UInt16.self, capacity: lastColumn.count + 64)
            let valueCount = Self.codeZeroRuns(
                of: positions, count: lastColumn.count, symbolCount: symbolCount, into: values)
            return mapBits + tableAndDataBits(values: values, valueCount: valueCount, alphabetSize: alphabetSize)
        }
    }

    /// Turns MTF positions into MTF values: each run of r zeros becomes the digits of r in bijective base 2, least
    /// significant first, RUNA (0) for digit 1 and RUNB (1) for digit 2 — equivalently the bits of r + 1 below its
    /// top bit — and each other position p becomes p + 1; EOB (symbols + 1) closes the block. Returns the number
    /// of values. `positions` needs 64 readable bytes past `count`, and `values` 64 writable bytes past the last.
    ///
    /// With AVX-512VBMI2 by `qrng_bzip2_code_zero_runs_avx512`, which puts each run's digits where its zeros were
    /// and compresses out the rest, 64 positions at a time; otherwise `codeZeroRunsByStretches`.
    static func codeZeroRuns(
        of positions: UnsafePointer<UInt8>, count: Int, symbolCount: Int, into values: UnsafeMutablePointer<UInt8>
    ) -> Int {
        precondition(symbolCount <= 254, "MTF values must fit a byte")
        if count >= 64 && CPUFeatures.hasAVX512VBMI2 {
            let written = qrng_bzip2_code_zero_runs_avx512(positions, count, values)
            values[written] = UInt8(truncatingIfNeeded: symbolCount + 1)
            return written + 1
        }
        return codeZeroRunsByStretches(of: positions, count: count, symbolCount: symbolCount, into: values)
    }


    /// The group histograms (rows of 16) and their sum by `qrng_bzip2_group_histograms_avx512`. Call only when
    /// `CPUFeatures.hasAVX512BW`.
    static func groupHistogramsAVX512(
        values: UnsafePointer<UInt8>, valueCount: Int, alphabetSize: Int, into histograms: UnsafeMutablePointer<UInt8>,
        frequencies: UnsafeMutablePointer<Int32>
    ) {
        frequencies.withMemoryRebound(to: UInt32.self, capacity: 16) { frequencies in
            qrng_bzip2_group_histograms_avx512(values, valueCount, alphabetSize, histograms, frequencies)
        }
    }

    /// `codeZeroRuns` without AVX-512 (`values` needs 16 writable bytes past the last).
    ///
    /// The column alternates between stretches of zeros and of nonzero positions, so it is coded a stretch at a
    /// time rather than a position at a time: a 64-bit mask of the zero positions of 64 positions gives each
    /// stretch's end by a trailing-zero count; a zero stretch adds to the pending run, and a nonzero one stores the
    /// run's digits (one table word, the digits one to a byte) and then its positions plus one, sixteen at a time.
    /// Bytes stored past a stretch's end are overwritten by what follows or lie past the last value.
    static func codeZeroRunsByStretches(
        of positions: UnsafePointer<UInt8>, count: Int, symbolCount: Int, into values: UnsafeMutablePointer<UInt8>
    ) -> Int {
        var written = 0
        var run = 0
        // digits[c]: the bits of c below its top bit, one to a byte, lowest bit in the lowest byte (c < 256).
        var digitTable = [UInt64](repeating: 0, count: 256)
        for code in 2..<256 {
            for bit in 0..<(63 - UInt64(code).leadingZeroBitCount) where code >> bit & 1 == 1 {
                digitTable[code] |= 1 << (8 * UInt64(bit))
            }
        }
        let source = UnsafeRawPointer(positions)
        let target = UnsafeMutableRawPointer(values)
        digitTable.withUnsafeBufferPointer { digitTable in
            @inline(__always) func writeDigits() {
                let code = run &+ 1
                if code < 256 {
                    target.storeBytes(of: digitTable[code], toByteOffset: written, as: UInt64.self)
                    written &+= 63 &- UInt64(truncatingIfNeeded: code).leadingZeroBitCount
                } else {
                    var remaining = code
                    while remaining > 1 {
                        values[written] = UInt8(truncatingIfNeeded: remaining & 1)
                        written &+= 1
                        remaining &>>= 1
                    }
                }
            }
            let low7: UInt64 = 0x7f7f_7f7f_7f7f_7f7f
            var base = 0
            while base &+ 64 <= count {
                var zeros: UInt64 = 0
                for word in 0..<8 {
                    let chunk = source.loadUnaligned(fromByteOffset: base &+ 8 &* word, as: UInt64.self)
                    // The top bit of each zero byte, exactly; the multiply gathers the eight into the top byte.
                    let zeroBytes = ~(((chunk & low7) &+ low7) | chunk | low7) &>> 7
                    zeros |= ((zeroBytes &* 0x0102_0408_1020_4080) &>> 56) &<< UInt64(8 &* word)
                }
                var nonzeros = ~zeros
                var stretchStart = 0
                while true {
                    let start = nonzeros.trailingZeroBitCount
                    run &+= start &- stretchStart
                    if start == 64 { break }
                    // At the chunk's first position the pending run may be empty: its code 1 has no digits.
                    writeDigits()
                    run = 0
                    zeros &= UInt64.max &<< UInt64(start)
                    let end = zeros.trailingZeroBitCount
                    var offset = start
                    repeat {
                        let chunk = source.loadUnaligned(fromByteOffset: base &+ offset, as: SIMD16<UInt8>.self)
                        target.storeBytes(
                            of: chunk &+ SIMD16(repeating: 1), toByteOffset: written &+ offset &- start,
                            as: SIMD16<UInt8>.self)
                        offset &+= 16
                    } while offset < end
                    written &+= end &- start
                    if end == 64 { break }
                    nonzeros &= UInt64.max &<< UInt64(end)
                    stretchStart = end
                }
                base &+= 64
            }
            for index in base..<count {
                let position = Int(positions[index])
                if position == 0 {
                    run &+= 1
                } else {
                    if run > 0 { writeDigits() }
                    run = 0
                    values[written] = UInt8(truncatingIfNeeded: position &+ 1)
                    written &+= 1
                }
            }
            if run > 0 { writeDigits() }
        }
        values[written] = UInt8(truncatingIfNeeded: symbolCount + 1)
        return written + 1
    }

    /// `codeZeroRuns` for alphabets of more than 256 values, whose values take 16 bits: each position in turn.
    static func codeZeroRuns(
        of positions: UnsafePointer<UInt8>, count: Int, symbolCount: Int, into values: UnsafeMutablePointer<UInt16>
    ) -> Int {
        var written = 0
        var run = 0
        @inline(__always) func writeDigits() {
            var code = run + 1
            while code > 1 {
                values[written] = UInt16(truncatingIfNeeded: code & 1)
                written += 1
                code >>= 1
            }
        }
        for index in 0..<count {
            let position = Int(positions[index])
            if position == 0 {
                run += 1
            } else {
                writeDigits()
                run = 0
                values[written] = UInt16(truncatingIfNeeded: position + 1)
                written += 1
            }
        }
        writeDigits()
        values[written] = UInt16(truncatingIfNeeded: symbolCount + 1)
        return written + 1
    }

    /// `sendMTFValues` from the number of tables on: table choice and refinement, then the bits of the table count,
    /// selectors, code lengths and data.
    private func tableAndDataBits<Value: FixedWidthInteger & UnsignedInteger>(
        values: UnsafeMutablePointer<Value>, valueCount: Int, alphabetSize: Int
    ) -> Int {
        let useHistograms = alphabetSize <= Self.histogramAlphabetLimit
        // Histogram rows, tables' lengths and tables' frequencies are rows of this many entries (zero past the
        // alphabet), so that with histograms a row is one vector.
        let rowWidth = alphabetSize <= 16 ? 16 : useHistograms ? 32 : alphabetSize
        let groupCount = (valueCount + Self.groupSize - 1) / Self.groupSize
        // Room for a row of 16 from the histogram kernel; only the first alphabetSize are read.
        var frequencies = [Int32](repeating: 0, count: max(alphabetSize, 16))
        frequencies.withUnsafeMutableBufferPointer { frequencies in
            if rowWidth == 16 && Value.self == UInt8.self && CPUFeatures.hasAVX512BW {
                Self.groupHistogramsAVX512(
                    values: UnsafeRawPointer(values).assumingMemoryBound(to: UInt8.self), valueCount: valueCount,
                    alphabetSize: alphabetSize, into: groupHistograms, frequencies: frequencies.baseAddress!)
            } else if useHistograms {
                if rowWidth == 16 {
                    Self.fillGroupHistograms(
                        values: values, valueCount: valueCount, rowType: SIMD16<UInt8>.self, into: groupHistograms)
                } else {
                    Self.fillGroupHistograms(
                        values: values, valueCount: valueCount, rowType: SIMD32<UInt8>.self, into: groupHistograms)
                }
                var row = UnsafePointer(groupHistograms)
                for _ in 0..<groupCount {
                    for value in 0..<alphabetSize { frequencies[value] &+= Int32(row[value]) }
                    row += rowWidth
                }
            } else {
                for index in 0..<valueCount { frequencies[Int(values[index])] &+= 1 }
            }
        }
        let tableCount =
            switch valueCount {
            case ..<200: 2
            case ..<600: 3
            case ..<1200: 4
            case ..<2400: 5
            default: 6
            }
        // lengths[t * rowWidth + v]: table t's code length for value v.
        var lengths = [UInt8](repeating: 0, count: Self.maximumTables * rowWidth)
        var selectors = [UInt8](repeating: 0, count: groupCount)
        // The first tables: each takes a run of values holding about an equal share of what is left.
        var remainingTables = tableCount
        var remainingFrequency = valueCount
        var groupStart = 0
        while remainingTables > 0 {
            let target = remainingFrequency / remainingTables
            var groupEnd = groupStart - 1
            var accumulated = 0
            while accumulated < target && groupEnd < alphabetSize - 1 {
                groupEnd += 1
                accumulated += Int(frequencies[groupEnd])
            }
            if groupEnd > groupStart && remainingTables != tableCount && remainingTables != 1
                && (tableCount - remainingTables) % 2 == 1
            {
                accumulated -= Int(frequencies[groupEnd])
                groupEnd -= 1
            }
            let table = remainingTables - 1
            for value in 0..<alphabetSize {
                lengths[table * rowWidth + value] = value >= groupStart && value <= groupEnd ? 0 : 15
            }
            remainingTables -= 1
            groupStart = groupEnd + 1
            remainingFrequency -= accumulated
        }

        // tableFrequencies[t * rowWidth + v]: how often value v occurs in the groups that picked table t.
        var tableFrequencies = [Int32](repeating: 0, count: Self.maximumTables * rowWidth)
        let useKernel = rowWidth == 16 && CPUFeatures.hasAVX2
        for _ in 0..<Self.refinementRounds {
            for index in tableFrequencies.indices { tableFrequencies[index] = 0 }
            tableFrequencies.withUnsafeMutableBufferPointer { tableFrequencies in
                selectors.withUnsafeMutableBufferPointer { selectors in
                    if useKernel {
                        lengths.withUnsafeBufferPointer { lengths in
                            Self.chooseTablesByKernel(
                                histograms: groupHistograms, groupCount: groupCount, tableCount: tableCount,
                                lengths: lengths.baseAddress!, tableFrequencies: tableFrequencies.baseAddress!,
                                selectors: selectors.baseAddress!, avx512: CPUFeatures.hasAVX512VNNI)
                        }
                        return
                    }
                    var packedLengths = [UInt64](repeating: 0, count: alphabetSize)
                    for value in 0..<alphabetSize {
                        var packed: UInt64 = 0
                        for table in 0..<tableCount {
                            packed |= UInt64(lengths[table * rowWidth + value]) << (Self.costFieldBits * UInt64(table))
                        }
                        packedLengths[value] = packed
                    }
                    packedLengths.withUnsafeBufferPointer { packedLengths in
                        if useHistograms {
                            Self.chooseTablesFromHistograms(
                                histograms: groupHistograms, groupCount: groupCount, rowWidth: rowWidth,
                                alphabetSize: alphabetSize, tableCount: tableCount, packedLengths: packedLengths,
                                tableFrequencies: tableFrequencies.baseAddress!, selectors: selectors.baseAddress!)
                        } else {
                            Self.chooseTablesFromValues(
                                values: values, valueCount: valueCount, rowWidth: rowWidth, tableCount: tableCount,
                                packedLengths: packedLengths, tableFrequencies: tableFrequencies.baseAddress!,
                                selectors: selectors.baseAddress!)
                        }
                    }
                }
            }
            lengths.withUnsafeMutableBufferPointer { lengths in
                tableFrequencies.withUnsafeBufferPointer { tableFrequencies in
                    for table in 0..<tableCount {
                        Self.makeCodeLengths(
                            lengths.baseAddress! + table * rowWidth,
                            frequencies: tableFrequencies.baseAddress! + table * rowWidth,
                            alphabetSize: alphabetSize, maximumLength: Self.maximumCodeLength)
                    }
                }
            }
        }

        var bits = 3 + 15  // the number of tables and of selectors
        // Selectors: move-to-front over the tables, each position in unary. The list is one byte a table in a word
        // (at most six), front in the low byte: a step is a byte compare by bit tricks and two masks.
        var tableOrder: UInt64 = 0
        for table in 0..<tableCount { tableOrder |= UInt64(table) << (8 * UInt64(table)) }
        let low7: UInt64 = 0x7f7f_7f7f_7f7f_7f7f
        for selector in selectors {
            let difference = tableOrder ^ (UInt64(selector) &* 0x0101_0101_0101_0101)
            // The top bit of each zero byte, exactly; the first is the selector's position.
            let zeros = ~(((difference & low7) &+ low7) | difference | low7)
            let position = zeros.trailingZeroBitCount &>> 3
            // Bytes 0 ... position take the selector and the ones before them.
            let through = UInt64.max &>> UInt64(56 &- 8 &* position)
            tableOrder = (tableOrder & ~through) | ((tableOrder &<< 8) & through) | UInt64(selector)
            bits &+= position &+ 1
        }
        // Code lengths: 5 bits for the first, then per value one bit plus two per unit step from the previous.
        for table in 0..<tableCount {
            var current = Int(lengths[table * rowWidth])
            bits += 5
            for value in 0..<alphabetSize {
                let length = Int(lengths[table * rowWidth + value])
                bits += 2 * abs(length - current) + 1
                current = length
            }
        }
        // The data: each group is coded with the table the last round picked for it, and that round rebuilt each
        // table from the frequencies of exactly the values of its groups; so the data's bits are those
        // frequencies times the final lengths, with no further pass over the groups.
        for table in 0..<tableCount {
            for value in 0..<alphabetSize {
                bits &+= Int(tableFrequencies[table * rowWidth + value]) &* Int(lengths[table * rowWidth + value])
            }
        }
        return bits
    }

    /// One histogram row of `Row.scalarCount` counts per group of 50 values. A value adds its one-hot row to a
    /// vector: no count is stored and reloaded, as a run of equal values would have each increment wait on the
    /// one before.
    ///
    /// Where AVX-512BW is available and rows are 16 wide, `tableAndDataBits` calls
    /// `qrng_bzip2_group_histograms_avx512` instead, which counts each value of a group by one compare of the whole
    /// group and a population count (see `groupHistogramsAVX512`).
    static func fillGroupHistograms<Value: FixedWidthInteger & UnsignedInteger, Row: SIMD>(
        values: UnsafePointer<Value>, valueCount: Int, rowType: Row.Type, into histograms: UnsafeMutablePointer<UInt8>
    ) where Row.Scalar == UInt8 {
        var oneHot = [Row](repeating: .zero, count: Row.scalarCount)
        for value in 0..<Row.scalarCount { oneHot[value][value] = 1 }
        let rows = UnsafeMutableRawPointer(histograms)
        oneHot.withUnsafeBufferPointer { oneHot in
            var groupStart = 0
            var rowOffset = 0
            while groupStart < valueCount {
                let groupEnd = min(groupStart + Self.groupSize, valueCount)
                // Two sums, so that consecutive adds do not wait on each other.
                var even = Row.zero
                var odd = Row.zero
                var index = groupStart
                while index &+ 2 <= groupEnd {
                    even &+= oneHot[Int(values[index])]
                    odd &+= oneHot[Int(values[index &+ 1])]
                    index &+= 2
                }
                if index < groupEnd { even &+= oneHot[Int(values[index])] }
                rows.storeBytes(of: even &+ odd, toByteOffset: rowOffset, as: Row.self)
                groupStart = groupEnd
                rowOffset &+= Row.scalarCount
            }
        }
    }

    /// The table with the lowest cost in the packed costs, the first on a tie.
    @inline(__always)
    private static func cheapestTable(_ packedCost: UInt64, tableCount: Int) -> Int {
        let fieldMask: UInt64 = (1 << costFieldBits) - 1
        var best = 0
        var bestCost = packedCost & fieldMask
        var shifted = packedCost
        for table in 1..<tableCount {
            shifted >>= costFieldBits
            let cost = shifted & fieldMask
            if cost < bestCost {
                best = table
                bestCost = cost
            }
        }
        return best
    }

    /// One round's table choice from the group histograms (rows of `rowWidth` counts): each group's selector is
    /// its cheapest table, whose frequencies its counts are added to. `packedLengths[v]` holds each table's length
    /// for value v in a field of `costFieldBits`, so one multiply per value prices the group under every table.
    static func chooseTablesFromHistograms(
        histograms: UnsafePointer<UInt8>, groupCount: Int, rowWidth: Int, alphabetSize: Int, tableCount: Int,
        packedLengths: UnsafeBufferPointer<UInt64>, tableFrequencies: UnsafeMutablePointer<Int32>,
        selectors: UnsafeMutablePointer<UInt8>
    ) {
        var row = histograms
        for group in 0..<groupCount {
            var packedCost: UInt64 = 0
            for value in 0..<alphabetSize { packedCost &+= UInt64(row[value]) &* packedLengths[value] }
            let best = cheapestTable(packedCost, tableCount: tableCount)
            selectors[group] = UInt8(truncatingIfNeeded: best)
            let frequencies = tableFrequencies + best &* rowWidth
            for value in 0..<alphabetSize { frequencies[value] &+= Int32(row[value]) }
            row += rowWidth
        }
    }

    /// `chooseTablesFromHistograms` for rows of 16 counts by `qrng_bzip2_choose_tables_avx2`, or with `avx512` by
    /// `qrng_bzip2_choose_tables_avx512` (two groups at a time): `lengths` holds six rows of 16 (those of tables
    /// past `tableCount` are ignored). Call only when `CPUFeatures.hasAVX2`, and with `avx512` only when
    /// `CPUFeatures.hasAVX512VNNI`.
    static func chooseTablesByKernel(
        histograms: UnsafePointer<UInt8>, groupCount: Int, tableCount: Int, lengths: UnsafePointer<UInt8>,
        tableFrequencies: UnsafeMutablePointer<Int32>, selectors: UnsafeMutablePointer<UInt8>, avx512: Bool
    ) {
        tableFrequencies.withMemoryRebound(to: UInt32.self, capacity: Self.maximumTables * 16) { frequencies in
            if avx512 {
                qrng_bzip2_choose_tables_avx512(histograms, groupCount, lengths, tableCount, frequencies, selectors)
            } else {
                qrng_bzip2_choose_tables_avx2(histograms, groupCount, lengths, tableCount, frequencies, selectors)
            }
        }
    }


    private static func chooseTablesFromValues<Value: FixedWidthInteger & UnsignedInteger>(
        values: UnsafeMutablePointer<Value>, valueCount: Int, rowWidth: Int, tableCount: Int,
        packedLengths: UnsafeBufferPointer<UInt64>, tableFrequencies: UnsafeMutablePointer<Int32>,
        selectors: UnsafeMutablePointer<UInt8>
    ) {
        var groupStart = 0
        var group = 0
        while groupStart < valueCount {
            let groupEnd = min(groupStart + Self.groupSize, valueCount)
            var packedCost: UInt64 = 0
            for index in groupStart..<groupEnd { packedCost &+= packedLengths[Int(values[index])] }
            let best = cheapestTable(packedCost, tableCount: tableCount)
            selectors[group] = UInt8(truncatingIfNeeded: best)
            let frequencies = tableFrequencies + best &* rowWidth
            for index in groupStart..<groupEnd { frequencies[Int(values[index])] &+= 1 }
            groupStart = groupEnd
            group += 1
        }
    }

    /// Huffman code lengths as `BZ2_hbMakeCodeLengths` builds them. The tree comes from bzip2's binary heap, whose
    /// tie-breaking decides between equally good trees, so the heap is reproduced operation for operation: a node's
    /// weight carries its frequency (at least 1) above 8 bits and its depth below, so equal frequencies favour the
    /// shallower node. When a length exceeds `maximumLength` every count is halved (c → 1 + c/2) and the tree rebuilt.
    static func makeCodeLengths(
        _ lengths: UnsafeMutablePointer<UInt8>, frequencies: UnsafePointer<Int32>, alphabetSize: Int,
        maximumLength: Int
    ) {
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: 2 * 260 + 2 * 520) { storage in
            let heap = storage.baseAddress!
            let weight = heap + 260
            let parent = weight + 520
            for symbol in 0..<alphabetSize {
                weight[symbol + 1] = max(frequencies[symbol], 1) << 8
            }
            while true {
                var nodeCount = alphabetSize
                var heapCount = 0
                heap[0] = 0
                weight[0] = 0
                parent[0] = -2

                @inline(__always) func siftUp(_ start: Int) {
                    var slot = start
                    let node = heap[slot]
                    while weight[Int(node)] < weight[Int(heap[slot >> 1])] {
                        heap[slot] = heap[slot >> 1]
                        slot >>= 1
                    }
                    heap[slot] = node
                }
                @inline(__always) func siftDown(_ start: Int) {
                    var slot = start
                    let node = heap[slot]
                    while true {
                        var child = slot << 1
                        if child > heapCount { break }
                        if child < heapCount && weight[Int(heap[child + 1])] < weight[Int(heap[child])] { child += 1 }
                        if weight[Int(node)] < weight[Int(heap[child])] { break }
                        heap[slot] = heap[child]
                        slot = child
                    }
                    heap[slot] = node
                }

                for symbol in 1...alphabetSize {
                    parent[symbol] = -1
                    heapCount += 1
                    heap[heapCount] = Int32(symbol)
                    siftUp(heapCount)
                }
                while heapCount > 1 {
                    let first = Int(heap[1])
                    heap[1] = heap[heapCount]
                    heapCount -= 1
                    siftDown(1)
                    let second = Int(heap[1])
                    heap[1] = heap[heapCount]
                    heapCount -= 1
                    siftDown(1)
                    nodeCount += 1
                    parent[first] = Int32(nodeCount)
                    parent[second] = Int32(nodeCount)
                    let depth = 1 + max(weight[first] & 0xff, weight[second] & 0xff)
                    weight[nodeCount] = ((weight[first] & ~0xff) + (weight[second] & ~0xff)) | depth
                    parent[nodeCount] = -1
                    heapCount += 1
                    heap[heapCount] = Int32(nodeCount)
                    siftUp(heapCount)
                }

                var tooLong = false
                for symbol in 1...alphabetSize {
                    var depth = 0
                    var node = symbol
                    while parent[node] >= 0 {
                        node = Int(parent[node])
                        depth += 1
                    }
                    lengths[symbol - 1] = UInt8(truncatingIfNeeded: depth)
                    if depth > maximumLength { tooLong = true }
                }
                if !tooLong { return }
                for symbol in 1...alphabetSize {
                    weight[symbol] = (1 + (weight[symbol] >> 8) / 2) << 8
                }
            }
        }
    }
}

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
