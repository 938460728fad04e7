import QRNG

/// The exact size of bzip2's output, computed without compressing: the compression statistic of SP 800-90B's
/// permutation tests (§5.1.11) without libbz2.
///
/// The size depends on everything bzip2 1.0.8 decides except the CRCs and the value of origPtr, so all of it is
/// reproduced: the initial run-length coding and how bzlib.c fills blocks (this file), the Burrows–Wheeler
/// transform (`Bzip2BlockSorter`, by a different and faster sort that yields the same last column), and the back end
/// (`Bzip2EntropyCoder`). Nothing is written: each field's bits are counted. For numbers below 1,000 written in
/// decimal (the permutation tests' text), `compressedLength(ofDecimal:workspace:)` gets the same size from the
/// numbers, without the text (Bzip2DecimalText.swift).
enum Bzip2Length {
    /// "BZh" and the block-size digit.
    static let streamHeaderBits = 32
    /// Per block: the 48-bit block magic, the block CRC, the randomised bit and the 24-bit origPtr.
    static let blockHeaderBits = 48 + 32 + 1 + 24
    /// The 48-bit end-of-stream magic and the combined CRC.
    static let streamTrailerBits = 48 + 32

    /// The size in bytes of `data` compressed by bzip2 with block size `blockSize100k` (1...9), as libbz2's
    /// `BZ2_bzBuffToBuffCompress(…, blockSize100k, 0, 0)` returns it.
    ///
    /// The `bzip2` program gives the same size except when the input ends exactly as a block fills while a run
    /// is pending: the program, which feeds libbz2 in pieces, then writes that run as a block of its own, where
    /// one call with all the input adds it to the full block.
    static func compressedLength(of data: UnsafeBufferPointer<UInt8>, blockSize100k: Int = 5) -> Int {
        compressedLength(of: data, workspace: Workspace(blockSize100k: blockSize100k))
    }

    /// Buffers for one block size, for calls one after another (the permutation tests make one per shuffle):
    /// fresh ones every call cost page faults on megabytes of new memory each time.
    final class Workspace {
        let blockSize100k: Int
        let blockLimit: Int
        let block: UnsafeMutablePointer<UInt8>
        let lastColumn: UnsafeMutablePointer<UInt8>
        let sorter: Bzip2BlockSorter
        let coder: Bzip2EntropyCoder
        /// Per number below `decimalLimit`: its count in a block of decimal text, and its word's rank there.
        let decimalCounts = UnsafeMutablePointer<Int32>.allocate(capacity: decimalLimit)
        let decimalRanks = UnsafeMutablePointer<UInt32>.allocate(capacity: decimalLimit)

        init(blockSize100k: Int) {
            precondition((1...9).contains(blockSize100k), "bzip2's block size runs from 1 to 9 (×100k)")
            self.blockSize100k = blockSize100k
            blockLimit = 100_000 * blockSize100k - 19
            // A full block can pass the limit by one run (5 bytes) and the final flush (5 more).
            let blockCapacity = blockLimit + 10
            block = .allocate(capacity: blockCapacity + Bzip2BlockSorter.readPadding)
            block.initialize(repeating: 0, count: blockCapacity + Bzip2BlockSorter.readPadding)
            lastColumn = .allocate(capacity: blockCapacity + 1)
            sorter = Bzip2BlockSorter(blockCapacity: blockCapacity)
            coder = Bzip2EntropyCoder(blockCapacity: blockCapacity)
        }

        deinit {
            block.deallocate()
            lastColumn.deallocate()
            coder.deallocate()
            decimalCounts.deallocate()
            decimalRanks.deallocate()
        }
    }

    /// `compressedLength(of:blockSize100k:)` at the workspace's block size, in its buffers.
    static func compressedLength(of data: UnsafeBufferPointer<UInt8>, workspace: Workspace) -> Int {
        var bits = streamHeaderBits
        forEachBlock(of: data, limit: workspace.blockLimit, into: workspace.block) { blockCount in
            bits += blockBits(count: blockCount, workspace: workspace)
        }
        bits += streamTrailerBits
        return (bits + 7) / 8
    }

    /// The bits of one block, the one of `count` bytes in the workspace's `block`, header included.
    static func blockBits(count: Int, workspace: Workspace) -> Int {
        let filled = UnsafeBufferPointer(start: workspace.block, count: count)
        let histogram = byteHistogram(filled)
        let inUse = histogram.map { $0 > 0 }
        histogram.withUnsafeBufferPointer { histogram in
            workspace.sorter.lastColumn(of: filled, histogram: histogram.baseAddress!, into: workspace.lastColumn)
        }
        return blockHeaderBits + lastColumnBits(count: count, inUse: inUse, workspace: workspace)
    }

    /// The back end's bits for the last column of `count` bytes in the workspace's `lastColumn`.
    static func lastColumnBits(count: Int, inUse: [Bool], workspace: Workspace) -> Int {
        inUse.withUnsafeBufferPointer { inUse in
            workspace.coder.bits(
                lastColumn: UnsafeBufferPointer(start: workspace.lastColumn, count: count), inUse: inUse.baseAddress!)
        }
    }

    /// How often each byte value occurs, counted in four interleaved tables so that a byte repeated nearby does
    /// not wait on its own previous count.
    static func byteHistogram(_ bytes: UnsafeBufferPointer<UInt8>) -> [Int] {
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: 4 * 256) { counts in
            counts.initialize(repeating: 0)
            let count = bytes.count
            var index = 0
            while index + 4 <= count {
                counts[Int(bytes[index])] &+= 1
                counts[256 + Int(bytes[index + 1])] &+= 1
                counts[512 + Int(bytes[index + 2])] &+= 1
                counts[768 + Int(bytes[index + 3])] &+= 1
                index += 4
            }
            while index < count {
                counts[Int(bytes[index])] &+= 1
                index += 1
            }
            return (0..<256).map { byte in
                var total = 0
                for table in 0..<4 { total += Int(counts[256 * table + byte]) }
                return total
            }
        }
    }

    /// Runs the initial run-length coding over `input` and cuts its output into blocks as bzlib.c does, calling
    /// `body` with the size of each block written to `block`; an empty input has no block.
    ///
    /// Runs of 4 to 255 equal bytes become the byte four times and a count byte (run − 4); longer runs are cut
    /// into runs of 255 and a remainder. A run is written only once a different byte (or the 256th equal one) ends
    /// it, so the run pending at a block's end carries over to the next block. A block is full once it holds
    /// `limit` bytes or more, checked before each input byte; when the input is exhausted the pending run is added
    /// to the block in hand, full or not.
    static func forEachBlock(
        of input: UnsafeBufferPointer<UInt8>, limit: Int, into block: UnsafeMutablePointer<UInt8>,
        _ body: (Int) -> Void
    ) {
        let inputCount = input.count
        guard inputCount > 0 else { return }
        var runByte = input[0]
        var runLength = 1
        var next = 1
        var filled = 0

        @inline(__always) func writeRun() {
            switch runLength {
            case 1:
                block[filled] = runByte
                filled += 1
            case 2, 3:
                for offset in 0..<runLength { block[filled + offset] = runByte }
                filled += runLength
            default:
                for offset in 0..<4 { block[filled + offset] = runByte }
                block[filled + 4] = UInt8(truncatingIfNeeded: runLength - 4)
                filled += 5
            }
        }

        let source = UnsafeRawPointer(input.baseAddress!)
        /// The top bit of each zero byte of `word`, exactly (no borrow from one byte to the next).
        @inline(__always) func zeroBytes(_ word: UInt64) -> UInt64 {
            let low7: UInt64 = 0x7f7f_7f7f_7f7f_7f7f
            return ~(((word & low7) &+ low7) | word | low7)
        }
        while true {
            while filled < limit && next < inputCount {
                // Where no four equal bytes meet, the coding changes nothing: the pending run (of at most 3) and
                // the next eight bytes go out as they are, except the run they end with, which stays pending.
                // Only four equal bytes in a row (or a block about to fill) take the byte-at-a-time path.
                // Sixteen bytes at a time first, when the room allows: two of the eight-byte steps below in one,
                // for half the checks and bookkeeping a byte.
                if runLength <= 3 && next >= 3 && next + 32 <= inputCount && filled + 32 <= limit {
                    @inline(__always) func fourEqual(endingAfter offset: Int) -> UInt64 {
                        let a = source.loadUnaligned(fromByteOffset: offset - 3, as: UInt64.self)
                        let b = source.loadUnaligned(fromByteOffset: offset - 2, as: UInt64.self)
                        let c = source.loadUnaligned(fromByteOffset: offset - 1, as: UInt64.self)
                        let d = source.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
                        return zeroBytes((a ^ b) | (b ^ c) | (c ^ d))
                    }
                    if fourEqual(endingAfter: next) | fourEqual(endingAfter: next &+ 8) == 0 {
                        let c = source.loadUnaligned(fromByteOffset: next + 7, as: UInt64.self)
                        let d = source.loadUnaligned(fromByteOffset: next + 8, as: UInt64.self)
                        let equalToPrevious = zeroBytes(c ^ d)
                        let lastEqual = Int(equalToPrevious >> 63)
                        let trailingRun = 1 + lastEqual + (lastEqual & Int(equalToPrevious >> 55 & 1))
                        let from = next - runLength
                        let destination = UnsafeMutableRawPointer(block + filled)
                        for word in 0..<3 {
                            destination.storeBytes(
                                of: source.loadUnaligned(fromByteOffset: from + 8 * word, as: UInt64.self),
                                toByteOffset: 8 * word, as: UInt64.self)
                        }
                        filled += runLength + 16 - trailingRun
                        next += 16
                        runByte = input[next - 1]
                        runLength = trailingRun
                        continue
                    }
                }
                if runLength <= 3 && next >= 3 && next + 16 <= inputCount && filled + 16 <= limit {
                    let a = source.loadUnaligned(fromByteOffset: next - 3, as: UInt64.self)
                    let b = source.loadUnaligned(fromByteOffset: next - 2, as: UInt64.self)
                    let c = source.loadUnaligned(fromByteOffset: next - 1, as: UInt64.self)
                    let d = source.loadUnaligned(fromByteOffset: next, as: UInt64.self)
                    // Byte i of c ^ d is zero when byte next + i equals the one before it; a zero byte i in all
                    // three differences is a run of four ending at next + i.
                    let fourEqual = zeroBytes((a ^ b) | (b ^ c) | (c ^ d))
                    if fourEqual == 0 {
                        let equalToPrevious = zeroBytes(c ^ d)
                        let lastEqual = Int(equalToPrevious >> 63)
                        let trailingRun = 1 + lastEqual + (lastEqual & Int(equalToPrevious >> 55 & 1))
                        let from = next - runLength
                        let destination = UnsafeMutableRawPointer(block + filled)
                        destination.storeBytes(
                            of: source.loadUnaligned(fromByteOffset: from, as: UInt64.self), as: UInt64.self)
                        destination.storeBytes(
                            of: source.loadUnaligned(fromByteOffset: from + 8, as: UInt64.self), toByteOffset: 8,
                            as: UInt64.self)
                        filled += runLength + 8 - trailingRun
                        next += 8
                        runByte = input[next - 1]
                        runLength = trailingRun
                        continue
                    }
                }
                let byte = input[next]
                next += 1
                if byte != runByte {
                    writeRun()
                    runByte = byte
                    runLength = 1
                } else if runLength == 255 {
                    writeRun()
                    runLength = 1
                } else {
                    runLength += 1
                }
            }
            if next == inputCount {
                writeRun()
                body(filled)
                return
            }
            body(filled)
            filled = 0
        }
    }
}

/// The two ways to the compressed length, for `qrng bench` to time side by side (package access: the CLI's
/// benchmarks see it, a user of the library does not).
package final class Bzip2LengthBenchmark {
    /// Kept from call to call, as the permutation tests keep theirs, so the benchmark times what they run.
    private let workspace = Bzip2Length.Workspace(blockSize100k: 5)

    package init() {}

    /// `Bzip2Length.compressedLength(of:workspace:)` at block size 5.
    package func length(of data: UnsafeBufferPointer<UInt8>) -> Int {
        Bzip2Length.compressedLength(of: data, workspace: workspace)
    }

    /// `Bzip2Length.compressedLength(ofDecimal:workspace:)` at block size 5: the size of `samples` written as
    /// decimal text, from the samples (all below 1,000).
    package func decimalLength(of samples: UnsafeBufferPointer<UInt16>) -> Int? {
        Bzip2Length.compressedLength(ofDecimal: samples, workspace: workspace)
    }

    /// libbz2's own result at block size 5, or nil when libbz2 cannot be loaded.
    package static func libbz2Length(of data: UnsafeMutableBufferPointer<UInt8>) -> Int? {
        Bzip2.compressedLength(data)
    }
}
