/// Everything that can go wrong talking to a GDB stub. Every throwing API in this module
/// throws only this type; each case carries what a user needs to act on it (the address,
/// the request, how long we waited) and ``description`` says it in one sentence.
public enum GDBRemoteError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Nothing listens at `address` (ECONNREFUSED, or a Unix socket path with no server).
    case connectionRefused(address: String)
    /// The Unix socket `path` does not exist: nothing was started there, or QEMU has exited.
    case socketMissing(path: String)
    /// The stub accepted the connection but sent nothing at all (not even an ack) within
    /// `after`: another debugger holds it (QEMU's gdbstub serves one client and leaves the
    /// next waiting unanswered) or the stub is hung.
    case noAnswer(address: String, after: Duration)
    /// What answered at `address` is no GDB stub: its first bytes (`sent`, shown printable)
    /// are not the `+`/`$` of the remote serial protocol (an SSH or HTTP server, a serial
    /// console, random bytes).
    case notAStub(address: String, sent: String)
    /// The caller asked to stop waiting (``PacketConnection/shouldStop``) while `request` was
    /// outstanding; replies may still be in flight (see ``RemoteTarget/resynchronize(timeout:)``).
    case interrupted(request: String)
    /// Connecting to `address` failed for another reason (`errno` and its text).
    case connectFailed(address: String, errno: Int32, reason: String)
    /// The host name could not be resolved.
    case addressNotFound(address: String, reason: String)
    /// The connection to `address` was not established within `after`.
    case connectTimedOut(address: String, after: Duration)
    /// The stub closed the connection (or QEMU went away) while we waited for `request`.
    /// `midPacket` is true if it closed after sending part of a packet.
    case connectionClosed(request: String, midPacket: Bool)
    /// No complete reply to `request` arrived within `after`.
    case timedOut(request: String, after: Duration)
    /// The stub's reply to `request` is not what the protocol allows.
    case malformedReply(request: String, reply: String)
    /// The stub's reply to `request` failed its checksum `attempts` times in a row, or the
    /// stub rejected our packet (`-`) that many times.
    case checksumFailure(request: String, attempts: Int)
    /// A packet of `size` bytes is larger than `limit` (the stub's PacketSize when sending,
    /// the decoder's maximum when receiving).
    case packetTooLarge(request: String, size: Int, limit: Int)
    /// The stub answered `request` with an empty packet: it does not implement it.
    case unsupported(request: String)
    /// `request` was not sent: it is malformed (`reason` says how), so no stub should see it.
    case invalidRequest(request: String, reason: String)
    /// The stub answered `request` with `E NN` (`code` is NN read as hex: QEMU's E22, its
    /// decimal EINVAL, is 0x22).
    case stubError(request: String, code: UInt8)
    /// Memory at `address` could not be accessed. `code` is the stub's `E NN` read as hex, as
    /// the protocol says; QEMU prints errno in decimal digits, so its EFAULT for an unmapped
    /// address arrives as `E14` (code 0x14). `count` is the size of the access that failed.
    case memoryAccess(address: UInt64, count: Int, write: Bool, code: UInt8)
    /// `name` is not among the registers the target description lists.
    case unknownRegister(name: String)
    /// The operation needs the target stopped (or running) and it is not.
    case wrongState(operation: String, expected: String)
    /// The target process exited (`W`) or was killed by a signal (`X`).
    case targetExited(status: UInt8, bySignal: Bool)
    /// A system call on the connection failed.
    case io(operation: String, errno: Int32, reason: String)

    public var description: String {
        switch self {
        case .connectionRefused(let address):
            return "cannot connect to \(address): connection refused — is QEMU running with -gdb \(Self.qemuSpelling(address))?"
        case .socketMissing(let path):
            return "cannot connect to unix:\(path): no such file — is QEMU running with -chardev socket,path=\(path),server=on,wait=off -gdb chardev:…?"
        case .noAnswer(let address, let after):
            return "\(address) accepted the connection but did not answer within \(after): it is probably already in use by another debugger (QEMU's gdbstub serves one client at a time; detach the other one), or the stub is hung"
        case .notAStub(let address, let sent):
            return "\(address) is not a GDB stub: it sent '\(sent)' (is --target the port of QEMU's -gdb, not another service?)"
        case .interrupted(let request):
            return "interrupted while waiting for the reply to '\(request)'"
        case .connectFailed(let address, let errno, let reason):
            return "cannot connect to \(address): \(reason) (errno \(errno))"
        case .addressNotFound(let address, let reason):
            return "cannot resolve \(address): \(reason)"
        case .connectTimedOut(let address, let after):
            return "no connection to \(address) within \(after)"
        case .connectionClosed(let request, let midPacket):
            return "the stub closed the connection \(midPacket ? "in the middle of a packet" : "") "
                + "while waiting for the reply to '\(request)'"
        case .timedOut(let request, let after):
            return "no reply to '\(request)' within \(after): the stub is hung or the target is running"
        case .malformedReply(let request, let reply):
            return "malformed reply to '\(request)': '\(reply.prefix(120))'"
        case .checksumFailure(let request, let attempts):
            return "checksum failure on '\(request)' after \(attempts) attempts: the link corrupts data"
        case .packetTooLarge(let request, let size, let limit):
            return "packet for '\(request)' is \(size) bytes, more than the limit of \(limit)"
        case .unsupported(let request):
            return "the stub does not support '\(request)' (empty reply)"
        case .invalidRequest(let request, let reason):
            return "'\(request)' was not sent: \(reason)"
        case .stubError(let request, let code):
            return "the stub answered '\(request)' with error E\(hex2(code))"
        case .memoryAccess(let address, let count, let write, let code):
            return "cannot \(write ? "write" : "read") \(count) bytes at 0x\(String(address, radix: 16)): "
                + "E\(hex2(code))\(code == 0x14 ? " (address not mapped)" : "")"
        case .unknownRegister(let name):
            return "no register named '\(name)' in the target description"
        case .wrongState(let operation, let expected):
            return "\(operation) needs the target \(expected)"
        case .targetExited(let status, let bySignal):
            return bySignal ? "the target was killed by signal \(status)" : "the target exited with status \(status)"
        case .io(let operation, let errno, let reason):
            return "\(operation) failed: \(reason) (errno \(errno))"
        }
    }
}

extension GDBRemoteError {
    /// `bytes` as a short printable line for ``notAStub(address:sent:)``: its first line (a
    /// banner, a status line) without the line end, printable ASCII as it is, anything else
    /// as `\xNN`, at most `limit` bytes, `…` when more came.
    public static func printable(_ bytes: [UInt8], limit: Int = 40) -> String {
        var line = bytes
        if let end = bytes.firstIndex(of: UInt8(ascii: "\n")), end > 0 {
            line = Array(bytes[..<end])
            if line.last == UInt8(ascii: "\r") { line.removeLast() }
        }
        let more = line.count > limit || line.count < bytes.count && bytes.count > line.count + 2
        var text = ""
        for b in line.prefix(limit) {
            text += (0x20..<0x7f).contains(b) && b != UInt8(ascii: "\\") && b != UInt8(ascii: "'") ? String(UnicodeScalar(b)) : "\\x" + hex2(b)
        }
        return more ? text + "…" : text
    }

    /// How QEMU's `-gdb` option spells `address` (`tcp:HOST:PORT`, or the chardev for a socket path).
    static func qemuSpelling(_ address: String) -> String {
        if address.hasPrefix("unix:") {
            return "chardev:… (-chardev socket,path=\(address.dropFirst(5)),server=on,wait=off)"
        }
        return "tcp:" + address
    }
}

private func hex2(_ value: UInt8) -> String {
    let s = String(value, radix: 16)
    return s.count == 1 ? "0" + s : s
}
