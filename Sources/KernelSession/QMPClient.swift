import Foundation
import GDBRemote
import Glibc

/// QEMU's QMP socket (`-qmp unix:PATH,server=on,wait=off`): JSON commands, one reply each.
/// Control without the gdbstub, for a guest whose stub another debugger holds: `stop`, `cont`,
/// `query-status`, and the human monitor through `human-monitor-command`.
public final class QMPClient {
    private let transport: SocketTransport
    private var buffer: [UInt8] = []
    let path: String
    let timeout: Duration

    /// Connects, reads QEMU's greeting and enters command mode (`qmp_capabilities`).
    public init(path: String, timeout: Duration = .seconds(5)) throws(SessionError) {
        self.path = path
        self.timeout = timeout
        do {
            transport = try SocketTransport.connect(to: .unix(path), timeout: timeout)
            let greeting = try line()
            guard (greeting["QMP"]) != nil else { throw SessionError.other("\(path) is not a QMP socket: it sent \(greeting)") }
            _ = try execute("qmp_capabilities")
        } catch let e as SessionError {
            throw e
        } catch {
            throw .other("cannot use QMP at \(path): \(error) — is QEMU started with -qmp unix:\(path),server=on,wait=off?")
        }
    }

    /// Runs `command` and returns its `return` value.
    public func execute(_ command: String, arguments: [String: Any] = [:]) throws -> Any {
        var request: [String: Any] = ["execute": command]
        if !arguments.isEmpty { request["arguments"] = arguments }
        let data = try JSONSerialization.data(withJSONObject: request) + Data("\n".utf8)
        try data.withUnsafeBytes { try transport.send($0, timeout: timeout) }
        for _ in 0..<1000 {   // events (STOP, RESUME…) may come before the reply
            let reply = try line()
            if let error = reply["error"] as? [String: Any] {
                throw SessionError.other("QMP \(command) failed: \(error["desc"] ?? error)")
            }
            if let value = reply["return"] { return value }
        }
        throw SessionError.other("QMP \(command): no reply among 1000 events")
    }

    /// A human monitor command's text (`info registers`, `gpa2hva 0x…`).
    public func human(_ command: String) throws -> String {
        (try execute("human-monitor-command", arguments: ["command-line": command]) as? String) ?? ""
    }

    /// Whether the guest runs (`query-status`).
    public func isRunning() throws -> Bool {
        ((try execute("query-status") as? [String: Any])?["running"] as? Bool) ?? false
    }

    private func line() throws -> [String: Any] {
        let deadline = ContinuousClock.now + timeout
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            if let nl = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let text = Data(buffer[..<nl])
                buffer.removeSubrange(...nl)
                guard let object = try JSONSerialization.jsonObject(with: text) as? [String: Any] else {
                    throw SessionError.other("QMP at \(path) sent something that is not a JSON object")
                }
                return object
            }
            guard buffer.count < 1 << 24 else { throw SessionError.other("QMP at \(path) sent a line over 16 MiB") }
            let left = ContinuousClock.now.duration(to: deadline)
            guard left > .zero else { throw SessionError.other("QMP at \(path) did not answer within \(timeout)") }
            let n = try chunk.withUnsafeMutableBytes { try transport.receive(into: $0, timeout: left) }
            guard n > 0 else { throw SessionError.other("QMP at \(path) closed the connection (did QEMU exit?)") }
            buffer += chunk[0..<n]
        }
    }
}
