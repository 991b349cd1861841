import Glibc
import GDBRemote

/// A TCP socket listening on 127.0.0.1 at a port the kernel picks: the one set-up every
/// test listener (a greeting, an unanswered connect, a full accept queue) starts from.
public enum LoopbackSocket {
    /// Opens, binds and listens with `backlog`; the descriptor and the port. The caller closes it.
    public static func listen(backlog: Int32 = 4) throws -> (fd: Int32, port: UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw GDBRemoteError.io(operation: "socket", errno: errno, reason: "") }
        var sa = sockaddr_in()
        sa.sin_family = sa_family_t(AF_INET)
        sa.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &sa) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { s in
                bind(fd, s, len) == 0 && Glibc.listen(fd, backlog) == 0 && getsockname(fd, s, &len) == 0
            }
        }
        guard ok else {
            let e = errno
            close(fd)
            throw GDBRemoteError.io(operation: "listen", errno: e, reason: "")
        }
        return (fd, UInt16(bigEndian: sa.sin_port))
    }
}
