#if canImport(Glibc)
import Glibc
#endif

/// A named pipe (FIFO) that qrng serves randomness through, created safely and removed when done.
///
/// Creation refuses anything already at the path that is not a FIFO — a regular file, a directory, a symbolic
/// link, a socket or a device — so a typo cannot overwrite a file or follow a link somewhere else. An existing
/// FIFO is reused only when it belongs to this process's user.
public final class NamedPipe {
    /// The path.
    public let path: String

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
        // mkfifo applies the umask, and a reused FIFO keeps its old mode: set both explicitly.
        do {
            try retryingSyscall("chmod", path: path) { chmod(path, mode) }
            if let groupID { try retryingSyscall("chown", path: path) { chown(path, uid_t.max, groupID) } }
        } catch {
            if created { unlink(path) }
            throw error
        }
        self.path = path
    }

    deinit {
        remove()
    }

    /// Removes the FIFO from the file system; readers and writers already attached keep their descriptors.
    public func remove() {
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
