import Foundation
import Glibc
import GDBRemote

/// A listener that never accepts: a client's connect succeeds (the kernel queues it) and
/// nothing answers — what a second client of QEMU's gdbstub sees while another debugger holds it.
public final class UnansweredListener {
    public let fd: Int32
    public let port: UInt16
    public init() throws {
        (fd, port) = try LoopbackSocket.listen()
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

