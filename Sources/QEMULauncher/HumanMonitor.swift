import Foundation
import Glibc

/// QEMU's human monitor (HMP) on the Unix socket a ``QEMUConfiguration/monitorSocket`` names: a
/// connection that sends one command at a time and returns what QEMU printed for it, up to the
/// next `(qemu) ` prompt. Every read is bounded by `timeout` seconds; a monitor that does not
/// answer in time, closes, or sends more than 1 MiB for one command is an error, never a hang.
public final class HumanMonitor {
    private let fd: Int32
    private let timeout: Double

    /// Connects and reads QEMU's banner.
    public init(socket path: String, timeout: Double = 5) throws(QEMUMonitorError) {
        let fd = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw QEMUMonitorError("socket(): errno \(errno)") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(fd)
            throw QEMUMonitorError("the monitor socket path is too long for a Unix socket: \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else {
            let e = errno
            close(fd)
            throw QEMUMonitorError("cannot connect to the monitor at \(path): errno \(e)")
        }
        self.fd = fd
        self.timeout = timeout
        _ = try readToPrompt()
    }

    deinit { close(fd) }

    /// Sends `line` and returns QEMU's output for it: without the echoed command (which ends at
    /// the first CRLF) and the prompt, lines joined by `\n`.
    public func command(_ line: String) throws(QEMUMonitorError) -> String {
        let bytes = Array((line + "\n").utf8)
        let sent = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        guard sent == bytes.count else { throw QEMUMonitorError("cannot write to the monitor: errno \(errno)") }
        let lines = try readToPrompt().components(separatedBy: "\r\n")
        return lines.dropFirst().dropLast().joined(separator: "\n")
    }

    /// One command on a connection of its own (connect, banner, command, close).
    public static func run(_ line: String, socket path: String, timeout: Double = 5) throws(QEMUMonitorError) -> String {
        try HumanMonitor(socket: path, timeout: timeout).command(line)
    }

    private func readToPrompt() throws(QEMUMonitorError) -> String {
        let deadline = Date().addingTimeInterval(timeout)
        var seen: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        let prompt = Array("(qemu) ".utf8)
        while !seen.suffix(prompt.count).elementsEqual(prompt) {
            guard Date() < deadline else {
                throw QEMUMonitorError("the monitor did not answer within \(timeout) s: \(String(decoding: seen.suffix(200), as: UTF8.self).debugDescription)")
            }
            guard seen.count < 1 << 20 else { throw QEMUMonitorError("the monitor's reply is over 1 MiB") }
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&pfd, 1, 100) <= 0 { continue }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { throw QEMUMonitorError("the monitor closed the connection") }
            seen += buffer[0..<n]
        }
        return String(decoding: seen, as: UTF8.self)
    }
}

/// Why a ``HumanMonitor`` exchange failed, in words a user can act on.
public struct QEMUMonitorError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
