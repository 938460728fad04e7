#if canImport(Glibc)
import Glibc
#endif

/// A named pipe (FIFO) that qrng serves randomness through, created safely and removed when done.
///
/// Creation refuses anything already at the path that is not a FIFO — a regular file, a directory, a symbolic
/// link, a socket or a device — so a typo cannot overwrite a file or follow a link somewhere else. An existing
/// FIFO is reused only when it belongs to this process's user.
///
/// The FIFO is opened once, read-write (`O_RDWR | O_NOFOLLOW`), and served through that one descriptor for the
/// server's whole life; the path is never opened again. So whatever replaces the path later (a regular file, a
/// link to one) is never written to. Holding both ends also means the pipe exists while no reader is attached:
/// the kernel's pipe buffer is the queue readers draw from, and a reader that leaves strands nothing. The
/// descriptor carries an exclusive `flock`, so a second server on the same FIFO is refused. ``remove()`` unlinks
/// the path only while it is still this FIFO.
public final class NamedPipe {
    /// The path.
    public let path: String
    /// The FIFO, open for reading and writing, non-blocking.
    public let descriptor: Int32
    private let device: UInt64
    private let inode: UInt64

    /// Creates (or reuses) the FIFO at `path` with permission bits `mode` and, when given, group `group`.
    ///
    /// - Throws: ``QRNGError/Code/invalidArgument`` when the path holds something else, the FIFO is not ours,
    ///   the mode is not a permission mode or the group does not exist; ``QRNGError/Code/systemCall`` when the
    ///   directory is missing or not writable. On any error no FIFO is left behind.
    public init(path: String, mode: mode_t = 0o600, group: String? = nil) throws(QRNGError) {
        guard mode & ~0o777 == 0 else {
            throw .invalidArgument("mode", "a FIFO mode is permission bits 000 to 777, got \(String(mode, radix: 8))")
        }
        var groupID: gid_t?
        if let group {
            guard let entry = getgrnam(group) else {
                throw .invalidArgument("group", "no group named '\(group)'")
            }
            groupID = entry.pointee.gr_gid
        }
        // `path` is stored only once everything succeeded: a throwing initialiser that had stored it would run
        // `deinit`, which removes the path — and that path may hold someone's file.
        var created = false
        var status = stat()
        if lstat(path, &status) == 0 {
            let kind = status.st_mode & S_IFMT
            guard kind == S_IFIFO else {
                throw QRNGError(
                    .invalidArgument, "refusing to use it: it is \(Self.describe(kind)), not a FIFO",
                    context: .init(file: path))
            }
            guard status.st_uid == geteuid() else {
                throw QRNGError(
                    .invalidArgument, "refusing to reuse a FIFO owned by another user (uid \(status.st_uid))",
                    context: .init(file: path))
            }
        } else {
            let number = errno
            guard number == ENOENT else {
                throw QRNGError(.systemCall, "cannot inspect the path", context: .init(file: path, errno: number))
            }
            guard mkfifo(path, mode) == 0 else {
                throw QRNGError(.systemCall, "cannot create the FIFO", context: .init(file: path, errno: errno))
            }
            created = true
        }
        // Opened once, never by name again; O_NOFOLLOW and the checks on the descriptor make sure it is the FIFO
        // just inspected or created, not something swapped in between.
        let opened = open(path, O_RDWR | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC)
        guard opened >= 0 else {
            let number = errno
            if created { unlink(path) }
            throw QRNGError(.systemCall, "cannot open the FIFO", context: .init(file: path, errno: number))
        }
        var opens = stat()
        guard fstat(opened, &opens) == 0, opens.st_mode & S_IFMT == S_IFIFO, opens.st_uid == geteuid() else {
            close(opened)
            if created { unlink(path) }
            throw QRNGError(
                .invalidArgument, "refusing to serve it: what was opened is not a FIFO of this user",
                context: .init(file: path))
        }
        guard flock(opened, LOCK_EX | LOCK_NB) == 0 else {
            let number = errno
            close(opened)
            throw QRNGError(
                number == EWOULDBLOCK ? .invalidArgument : .systemCall,
                "another qrng serve is already serving this FIFO", context: .init(file: path, errno: number))
        }
        // mkfifo applies the umask, and a reused FIFO keeps its old mode: set both explicitly, on the descriptor.
        do {
            try retryingSyscall("fchmod", path: path) { fchmod(opened, mode) }
            if let groupID { try retryingSyscall("fchown", path: path) { fchown(opened, uid_t.max, groupID) } }
        } catch {
            close(opened)
            if created { unlink(path) }
            throw error
        }
        self.descriptor = opened
        self.device = UInt64(opens.st_dev)
        self.inode = UInt64(opens.st_ino)
        self.path = path
    }

    deinit {
        remove()
        close(descriptor)
    }

    /// Removes the FIFO from the file system, if the path still names it: a file or link that replaced it is
    /// left alone. Readers already attached keep their descriptors and the bytes in the pipe.
    public func remove() {
        var status = stat()
        guard lstat(path, &status) == 0, status.st_mode & S_IFMT == S_IFIFO, UInt64(status.st_dev) == device,
            UInt64(status.st_ino) == inode
        else { return }
        _ = unlink(path)
    }

    private static func describe(_ kind: mode_t) -> String {
        switch kind {
        case S_IFREG: "a regular file"
        case S_IFDIR: "a directory"
        case S_IFLNK: "a symbolic link"
        case S_IFSOCK: "a socket"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        default: "not a FIFO"
        }
    }
}

/// Parses an octal permission mode such as `600` or `0640`.
public func parsePermissionMode(_ text: String) throws(QRNGError) -> mode_t {
    guard let value = UInt32(text, radix: 8), value <= 0o777 else {
        throw .invalidArgument("mode", "expected octal permission bits 000 to 777, such as 0600, got '\(text)'")
    }
    return mode_t(value)
}
