import Foundation
import Glibc
import GDBRemote

/// A listener that never accepts: a client's connect succeeds (the kernel queues it) and
/// nothing answers — what a second client of QEMU's gdbstub sees while another debugger holds it.
public final class UnansweredListener {
    public let fd: Int32
    public let port: UInt16
    public init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var sa = sockaddr_in()
        sa.sin_family = sa_family_t(AF_INET)
        sa.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &sa) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { s in
                bind(fd, s, len) == 0 && listen(fd, 4) == 0 && getsockname(fd, s, &len) == 0
            }
        }
        guard ok else {
            close(fd)
            throw GDBRemoteError.io(operation: "listen", errno: errno, reason: "")
        }
        port = UInt16(bigEndian: sa.sin_port)
    }
    deinit { close(fd) }

    /// Accepts the queued connection and returns what the client had sent.
    public func acceptAndRead() -> String {
        let c = accept(fd, nil, nil)
        guard c >= 0 else { return "" }
        defer { close(c) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        var text = ""
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(c, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if n <= 0 { break }
            text += String(decoding: buffer[0..<n], as: UTF8.self)
        }
        return text
    }
}

