import Glibc

/// The one way kmemscope commands write a file the user named (a saved snapshot, a report):
/// an existing file is never replaced unless the command was given `--force`. Without it the
/// file is created with `O_CREAT | O_EXCL`, so a file that appears between a check and the
/// write is not replaced either.
public enum OutputFile {
    /// Why a file was not written.
    public enum Failure: Error, Equatable, CustomStringConvertible {
        /// The file exists and `--force` was not given.
        case exists(path: String)
        /// The system refused (`errno`).
        case system(path: String, errno: Int32)

        public var description: String {
            switch self {
            case .exists(let path): return "\(path) exists: give --force to overwrite it"
            case .system(let path, let e): return "cannot write \(path): \(String(cString: strerror(e)))"
            }
        }
    }

    /// Checks, before a command touches the guest, that `path` can be written under the same
    /// rule: it does not exist (or `force` is given) and the system lets this process write it.
    /// The check opens the file as the write would (a new file is created and removed at once;
    /// an existing one is opened without truncating), so it holds for root and for file systems
    /// such as /proc where permission bits do not tell. The write itself still uses `O_EXCL`;
    /// this only spares the guest a stop that would end in "cannot write".
    public static func check(_ path: String, force: Bool) throws(Failure) {
        var info = stat()
        let exists = stat(path, &info) == 0
        if exists && !force { throw .exists(path: path) }
        if exists && info.st_mode & S_IFMT == S_IFDIR { throw .system(path: path, errno: EISDIR) }
        let fd = Glibc.open(path, O_WRONLY | O_CLOEXEC | (exists ? 0 : O_CREAT | O_EXCL), 0o644)
        guard fd >= 0 else {
            let e = errno
            throw e == EEXIST ? .exists(path: path) : .system(path: path, errno: e)
        }
        close(fd)
        if !exists { unlink(path) }
    }

    /// Opens `path` for writing, under the same rule; the caller closes the descriptor.
    public static func open(_ path: String, force: Bool) throws(Failure) -> Int32 {
        let flags = O_WRONLY | O_CREAT | O_CLOEXEC | (force ? O_TRUNC : O_EXCL)
        let fd = Glibc.open(path, flags, 0o644)
        guard fd >= 0 else {
            let e = errno
            throw e == EEXIST ? .exists(path: path) : .system(path: path, errno: e)
        }
        return fd
    }

    /// Writes `bytes` to `path`; replaces an existing file only when `force` is true.
    public static func write(_ bytes: [UInt8], to path: String, force: Bool) throws(Failure) {
        let fd = try open(path, force: force)
        defer { close(fd) }
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, bytes.count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .system(path: path, errno: errno)
            }
            done += n
        }
    }
}
