import NIOCore
import Testing

@testable import QRNGServer

#if canImport(Glibc)
import Glibc
#endif

/// The allocator of response bodies: whatever NIO frees or moves is zeroed first.
@Suite struct ZeroingAllocatorTests {
    /// A block remembers its size, and scrubbing zeroes all of it, header included.
    @Test func scrubZeroesTheWholeBlock() throws {
        for size in [1, 15, 16, 4096, 100_001] {
            let pointer = try #require(ZeroingAllocator.allocate(size))
            memset(pointer, 0xa5, size)
            let block = pointer - ZeroingAllocator.headerBytes
            #expect(block.load(as: Int.self) == size)
            ZeroingAllocator.scrub(pointer)
            let whole = UnsafeRawBufferPointer(start: block, count: size + ZeroingAllocator.headerBytes)
            #expect(whole.allSatisfy { $0 == 0 }, "size \(size)")
            free(block)
        }
    }

    /// Buffers from the allocator keep their bytes through growth (its own move, not realloc) and copies.
    @Test func buffersKeepTheirBytesAsTheyGrow() {
        var buffer = ZeroingAllocator.buffer(count: 10) { bytes in
            for index in bytes.indices { bytes[index] = UInt8(index) }
        }
        #expect(Array(buffer.readableBytesView) == (0..<10).map { UInt8($0) })
        let pattern = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        buffer.writeBytes(pattern)
        #expect(buffer.readableBytes == 300_010)
        #expect(Array(buffer.readableBytesView.dropFirst(10)) == pattern)
        let copy = buffer
        buffer.clear()
        buffer.writeBytes([1, 2, 3])
        #expect(Array(copy.readableBytesView.prefix(10)) == (0..<10).map { UInt8($0) }, "a copy before a write keeps its bytes")
    }
}
