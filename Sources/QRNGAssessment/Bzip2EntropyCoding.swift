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

}
