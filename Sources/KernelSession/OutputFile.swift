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
