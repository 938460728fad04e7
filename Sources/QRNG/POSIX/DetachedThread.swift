#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Starts `body` on a new detached POSIX thread.
///
/// The library keeps to POSIX threads rather than Foundation's `Thread` so that linking qrng does not pull in
/// Foundation. A producer runs for the lifetime of its pool and blocks in waits of its own, so a dedicated
/// thread suits it better than a Dispatch queue, whose worker pool is shared with the rest of the process.
func detachThread(_ body: @escaping @Sendable () -> Void) {
    final class Box: Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    let context = Unmanaged.passRetained(Box(body)).toOpaque()
    #if canImport(Glibc)
    var thread = pthread_t()
    #else
    var thread: pthread_t?
    #endif
    let status = pthread_create(&thread, nil, { context in
        #if canImport(Glibc)
        let box = Unmanaged<Box>.fromOpaque(context!).takeRetainedValue()
        #else
        let box = Unmanaged<Box>.fromOpaque(context).takeRetainedValue()
        #endif
        box.body()
        return nil
    }, context)
    // Only resource exhaustion makes pthread_create fail; a producer that cannot start has no way to report it.
    precondition(status == 0, "pthread_create failed: \(String(cString: strerror(status)))")
    pthread_detach(thread)
}
