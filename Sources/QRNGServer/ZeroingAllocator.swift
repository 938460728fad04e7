@_spi(CustomByteBufferAllocator) import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// A `ByteBufferAllocator` whose memory is zeroed when NIO frees or moves it: for response bodies that hold random
/// bytes, which must not linger in freed heap memory after they were sent.
///
/// A response body is handed to NIO, which frees it once the socket (or TLS) has taken the bytes, at a moment the
/// handler does not see; zeroing at the free is the one place that is both safe (nothing can read the bytes any
/// more) and certain. NIO's free passes only the pointer, so each block carries its size in a 16-byte header
/// (which keeps malloc's alignment). Copies outside these buffers (OpenSSL's record buffers under TLS, the
/// kernel's socket buffers) are beyond its reach.
enum ZeroingAllocator {
    static let allocator = ByteBufferAllocator(
        allocate: { size in ZeroingAllocator.allocate(size) },
        reallocate: { pointer, oldSize, newSize in
            // realloc may move the bytes and free the old block unzeroed, so the move is done by hand.
            guard let moved = ZeroingAllocator.allocate(newSize) else { return nil }
            if let pointer {
                memcpy(moved, pointer, min(oldSize, newSize))
                ZeroingAllocator.deallocate(pointer)
            }
            return moved
        },
        deallocate: { pointer in ZeroingAllocator.deallocate(pointer) },
        copy: { destination, source, count in memcpy(destination, source, count) }
    )

    static let headerBytes = 16

    static func allocate(_ size: Int) -> UnsafeMutableRawPointer? {
        guard let block = malloc(size + headerBytes) else { return nil }
        block.storeBytes(of: size, as: Int.self)
        return block + headerBytes
    }

    /// Zeroes a block from ``allocate(_:)`` and frees it.
    static func deallocate(_ pointer: UnsafeMutableRawPointer) {
        scrub(pointer)
        free(pointer - headerBytes)
    }

    /// Zeroes a block from ``allocate(_:)``, header and all.
    static func scrub(_ pointer: UnsafeMutableRawPointer) {
        let block = pointer - headerBytes
        explicit_bzero(block, block.load(as: Int.self) + headerBytes)
    }

    /// A buffer of `count` bytes from `fill`, in zeroed-on-free memory.
    static func buffer(count: Int, _ fill: (UnsafeMutableRawBufferPointer) -> Void) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: count)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { free in
            fill(UnsafeMutableRawBufferPointer(rebasing: free[0..<count]))
            return count
        }
        return buffer
    }
}
