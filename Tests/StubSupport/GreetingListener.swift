import Foundation
import Glibc
import GDBRemote

/// A loopback listener that is no GDB stub: it accepts one connection, sends `greeting` at
/// once (an SSH banner, random bytes), and, once the client has sent a whole line, sends
/// `lineReply` (what a line-based server such as HTTP answers); then it closes the connection.
public final class GreetingListener: @unchecked Sendable {
    public let port: UInt16
    private let fd: Int32

    public init(greeting: [UInt8], lineReply: [UInt8] = []) throws {
        (fd, port) = try LoopbackSocket.listen()
        Thread.detachNewThread { [fd] in
            let c = accept(fd, nil, nil)
            guard c >= 0 else { return }
            defer { close(c) }
            if !greeting.isEmpty { _ = greeting.withUnsafeBytes { send(c, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } }
            var buffer = [UInt8](repeating: 0, count: 4096)
            var seen: [UInt8] = []
            // bounded: at most 50 reads (the client sends one packet and a line end)
            for _ in 0..<50 {
                let n = buffer.withUnsafeMutableBytes { recv(c, $0.baseAddress, $0.count, 0) }
                if n <= 0 { return }
                seen += buffer[0..<n]
                if seen.contains(UInt8(ascii: "\n")) {
                    if !lineReply.isEmpty { _ = lineReply.withUnsafeBytes { send(c, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } }
                    return
                }
            }
        }
    }

    deinit { close(fd) }
}
