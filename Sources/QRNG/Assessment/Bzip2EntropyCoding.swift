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

    /// Move-to-front values, one per group of 50 (UInt16: the alphabet reaches 258).
    private var values: UnsafeMutableBufferPointer<UInt16>
    /// Per-group histograms of MTF values, for small alphabets, where summing a histogram against the code lengths
    /// is cheaper than adding up 50 lengths.
    private var groupHistograms: UnsafeMutableBufferPointer<UInt8>

    init(blockCapacity: Int) {
        values = .allocate(capacity: blockCapacity + 1)
        groupHistograms = .allocate(capacity: (blockCapacity / Self.groupSize + 2) * Self.histogramAlphabetLimit)
    }

    /// Alphabets up to this size use the per-group histograms.
    private static let histogramAlphabetLimit = 32

    func deallocate() {
        values.deallocate()
        groupHistograms.deallocate()
    }

    /// The bits `sendMTFValues` writes for a block whose Burrows–Wheeler last column is `lastColumn` and whose bytes
    /// are those marked in `inUse` (the mapping table, selectors, code lengths and the coded data).
    func bits(lastColumn: UnsafeBufferPointer<UInt8>, inUse: UnsafePointer<Bool>) -> Int {
        var mapBits = 16
        var symbolIndex = [UInt8](repeating: 0, count: 256)
        var symbolCount = 0
        for range in 0..<16 {
            var rangeUsed = false
            for byte in (range * 16)..<(range * 16 + 16) where inUse[byte] {
                symbolIndex[byte] = UInt8(truncatingIfNeeded: symbolCount)
                symbolCount += 1
                rangeUsed = true
            }
            if rangeUsed { mapBits += 16 }
        }
        let alphabetSize = symbolCount + 2
        var frequencies = [Int32](repeating: 0, count: alphabetSize)
        let valueCount = symbolIndex.withUnsafeBufferPointer { symbolIndex in
            frequencies.withUnsafeMutableBufferPointer { frequencies in
                moveToFront(lastColumn, symbolIndex: symbolIndex, symbolCount: symbolCount, frequencies: frequencies)
            }
        }
        return mapBits + frequencies.withUnsafeBufferPointer { frequencies in
            tableAndDataBits(valueCount: valueCount, frequencies: frequencies, alphabetSize: alphabetSize)
        }
    }

    /// Writes the MTF values of the last column to `values`, zero runs coded in bijective base 2 as RUNA (0) and
    /// RUNB (1), other values as MTF position + 1, then EOB; returns how many there are.
    private func moveToFront(
        _ lastColumn: UnsafeBufferPointer<UInt8>, symbolIndex: UnsafeBufferPointer<UInt8>, symbolCount: Int,
        frequencies: UnsafeMutableBufferPointer<Int32>
    ) -> Int {
        let values = values.baseAddress!
        var written = 0
        @inline(__always) func emitZeroRun(_ length: Int) {
            var remaining = length - 1
            while true {
                let digit = UInt16(truncatingIfNeeded: remaining & 1)
                values[written] = digit
                written += 1
                frequencies[Int(digit)] += 1
                if remaining < 2 { break }
                remaining = (remaining - 2) >> 1
            }
        }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 256) { list in
            for index in 0..<symbolCount { list[index] = UInt8(truncatingIfNeeded: index) }
            var zeroRun = 0
            for byte in lastColumn {
                let symbol = symbolIndex[Int(byte)]
                if list[0] == symbol {
                    zeroRun += 1
                    continue
                }
                if zeroRun > 0 {
                    emitZeroRun(zeroRun)
                    zeroRun = 0
                }
                var carried = list[0]
                var position = 0
                repeat {
                    position += 1
                    swap(&carried, &list[position])
                } while carried != symbol
                list[0] = symbol
                values[written] = UInt16(truncatingIfNeeded: position + 1)
                written += 1
                frequencies[position + 1] += 1
            }
            if zeroRun > 0 { emitZeroRun(zeroRun) }
        }
        let endOfBlock = symbolCount + 1
        values[written] = UInt16(truncatingIfNeeded: endOfBlock)
        frequencies[endOfBlock] += 1
        return written + 1
    }

    /// `sendMTFValues` from the number of tables on: table choice and refinement, then the bits of the table count,
    /// selectors, code lengths and data.
    private func tableAndDataBits(valueCount: Int, frequencies: UnsafeBufferPointer<Int32>, alphabetSize: Int) -> Int {
        let tableCount =
            switch valueCount {
            case ..<200: 2
            case ..<600: 3
            case ..<1200: 4
            case ..<2400: 5
            default: 6
            }
        let groupCount = (valueCount + Self.groupSize - 1) / Self.groupSize
        // lengths[t * alphabetSize + v]: table t's code length for value v.
        var lengths = [UInt8](repeating: 15, count: Self.maximumTables * alphabetSize)
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
                lengths[table * alphabetSize + value] = value >= groupStart && value <= groupEnd ? 0 : 15
            }
            remainingTables -= 1
            groupStart = groupEnd + 1
            remainingFrequency -= accumulated
        }

        let useHistograms = alphabetSize <= Self.histogramAlphabetLimit
        if useHistograms { fillGroupHistograms(valueCount: valueCount, alphabetSize: alphabetSize) }
        var tableFrequencies = [Int32](repeating: 0, count: Self.maximumTables * alphabetSize)
        var packedLengths = [UInt64](repeating: 0, count: alphabetSize)
        for _ in 0..<Self.refinementRounds {
            for index in tableFrequencies.indices { tableFrequencies[index] = 0 }
            for value in 0..<alphabetSize {
                var packed: UInt64 = 0
                for table in 0..<tableCount {
                    packed |= UInt64(lengths[table * alphabetSize + value]) << (Self.costFieldBits * UInt64(table))
                }
                packedLengths[value] = packed
            }
            packedLengths.withUnsafeBufferPointer { packedLengths in
                tableFrequencies.withUnsafeMutableBufferPointer { tableFrequencies in
                    selectors.withUnsafeMutableBufferPointer { selectors in
                        if useHistograms {
                            chooseTablesFromHistograms(
                                groupCount: groupCount, alphabetSize: alphabetSize, tableCount: tableCount,
                                packedLengths: packedLengths, tableFrequencies: tableFrequencies, selectors: selectors)
                        } else {
                            chooseTablesFromValues(
                                valueCount: valueCount, alphabetSize: alphabetSize, tableCount: tableCount,
                                packedLengths: packedLengths, tableFrequencies: tableFrequencies, selectors: selectors)
                        }
                    }
                }
            }
            lengths.withUnsafeMutableBufferPointer { lengths in
                tableFrequencies.withUnsafeBufferPointer { tableFrequencies in
                    for table in 0..<tableCount {
                        Self.makeCodeLengths(
                            lengths.baseAddress! + table * alphabetSize,
                            frequencies: tableFrequencies.baseAddress! + table * alphabetSize,
                            alphabetSize: alphabetSize, maximumLength: Self.maximumCodeLength)
                    }
                }
            }
        }

        var bits = 3 + 15  // the number of tables and of selectors
        // Selectors: move-to-front over the tables, each position in unary.
        var tableOrder = (0..<tableCount).map { UInt8($0) }
        for selector in selectors {
            var position = 0
            while tableOrder[position] != selector { position += 1 }
            tableOrder.remove(at: position)
            tableOrder.insert(selector, at: 0)
            bits += position + 1
        }
        // Code lengths: 5 bits for the first, then per value one bit plus two per unit step from the previous.
        for table in 0..<tableCount {
            var current = Int(lengths[table * alphabetSize])
            bits += 5
            for value in 0..<alphabetSize {
                let length = Int(lengths[table * alphabetSize + value])
                bits += 2 * abs(length - current) + 1
                current = length
            }
        }
        bits += lengths.withUnsafeBufferPointer { lengths in
            selectors.withUnsafeBufferPointer { selectors in
                useHistograms
                    ? dataBitsFromHistograms(
                        groupCount: groupCount, alphabetSize: alphabetSize, lengths: lengths, selectors: selectors)
                    : dataBitsFromValues(
                        valueCount: valueCount, alphabetSize: alphabetSize, lengths: lengths, selectors: selectors)
            }
        }
        return bits
    }

    private func fillGroupHistograms(valueCount: Int, alphabetSize: Int) {
        let histograms = groupHistograms.baseAddress!
        let groupCount = (valueCount + Self.groupSize - 1) / Self.groupSize
        histograms.update(repeating: 0, count: groupCount * alphabetSize)
        var groupStart = 0
        var row = histograms
        while groupStart < valueCount {
            let groupEnd = min(groupStart + Self.groupSize, valueCount)
            for index in groupStart..<groupEnd { row[Int(values[index])] &+= 1 }
            groupStart = groupEnd
            row += alphabetSize
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

    private func chooseTablesFromHistograms(
        groupCount: Int, alphabetSize: Int, tableCount: Int, packedLengths: UnsafeBufferPointer<UInt64>,
        tableFrequencies: UnsafeMutableBufferPointer<Int32>, selectors: UnsafeMutableBufferPointer<UInt8>
    ) {
        var row = UnsafePointer(groupHistograms.baseAddress!)
        for group in 0..<groupCount {
            var packedCost: UInt64 = 0
            for value in 0..<alphabetSize { packedCost &+= UInt64(row[value]) &* packedLengths[value] }
            let best = Self.cheapestTable(packedCost, tableCount: tableCount)
            selectors[group] = UInt8(truncatingIfNeeded: best)
            let frequencies = tableFrequencies.baseAddress! + best * alphabetSize
            for value in 0..<alphabetSize { frequencies[value] &+= Int32(row[value]) }
            row += alphabetSize
        }
    }

    private func chooseTablesFromValues(
        valueCount: Int, alphabetSize: Int, tableCount: Int, packedLengths: UnsafeBufferPointer<UInt64>,
        tableFrequencies: UnsafeMutableBufferPointer<Int32>, selectors: UnsafeMutableBufferPointer<UInt8>
    ) {
        var groupStart = 0
        var group = 0
        while groupStart < valueCount {
            let groupEnd = min(groupStart + Self.groupSize, valueCount)
            var packedCost: UInt64 = 0
            for index in groupStart..<groupEnd { packedCost &+= packedLengths[Int(values[index])] }
            let best = Self.cheapestTable(packedCost, tableCount: tableCount)
            selectors[group] = UInt8(truncatingIfNeeded: best)
            let frequencies = tableFrequencies.baseAddress! + best * alphabetSize
            for index in groupStart..<groupEnd { frequencies[Int(values[index])] &+= 1 }
            groupStart = groupEnd
            group += 1
        }
    }

    private func dataBitsFromHistograms(
        groupCount: Int, alphabetSize: Int, lengths: UnsafeBufferPointer<UInt8>, selectors: UnsafeBufferPointer<UInt8>
    ) -> Int {
        var bits = 0
        var row = UnsafePointer(groupHistograms.baseAddress!)
        for group in 0..<groupCount {
            let table = lengths.baseAddress! + Int(selectors[group]) * alphabetSize
            for value in 0..<alphabetSize { bits &+= Int(row[value]) &* Int(table[value]) }
            row += alphabetSize
        }
        return bits
    }

    private func dataBitsFromValues(
        valueCount: Int, alphabetSize: Int, lengths: UnsafeBufferPointer<UInt8>, selectors: UnsafeBufferPointer<UInt8>
    ) -> Int {
        var bits = 0
        var groupStart = 0
        var group = 0
        while groupStart < valueCount {
            let groupEnd = min(groupStart + Self.groupSize, valueCount)
            let table = lengths.baseAddress! + Int(selectors[group]) * alphabetSize
            for index in groupStart..<groupEnd { bits &+= Int(table[Int(values[index])]) }
            groupStart = groupEnd
            group += 1
        }
        return bits
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
