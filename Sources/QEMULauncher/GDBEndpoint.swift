/// Where QEMU's gdbstub listens: a Unix socket, or a loopback TCP port. Nothing else is
/// accepted: a gdbstub can read and write all of guest memory, so it is never exposed on
/// another interface (no `0.0.0.0`).
public enum GDBEndpoint: Sendable, Equatable, CustomStringConvertible {
    /// A Unix socket at this path (no port races; QEMU creates the file).
    case unix(String)
    /// `127.0.0.1:PORT` or `[::1]:PORT`.
    case tcp(host: String, port: UInt16)

    /// The loopback hosts QEMU may listen on.
    public static let loopbackHosts = ["127.0.0.1", "::1"]

    /// Parses `unix:PATH`, `tcp:127.0.0.1:PORT`, `127.0.0.1:PORT`, `:PORT` (127.0.0.1) or
    /// `tcp:[::1]:PORT`.
    ///
    /// - Throws: ``QEMULaunchError/badEndpoint(_:reason:)`` for anything else, naming why.
    public static func parse(_ text: String) throws(QEMULaunchError) -> GDBEndpoint {
        if text.hasPrefix("unix:") {
            let path = String(text.dropFirst(5))
            guard !path.isEmpty else { throw .badEndpoint(text, reason: "unix: needs a path") }
            guard path.utf8.count < 108 else { throw .badEndpoint(text, reason: "a Unix socket path must be shorter than 108 bytes") }
            return .unix(path)
        }
        var rest = Substring(text)
        if rest.hasPrefix("tcp:") { rest = rest.dropFirst(4) }
        guard let colon = rest.lastIndex(of: ":") else {
            throw .badEndpoint(text, reason: "expected unix:PATH or tcp:127.0.0.1:PORT")
        }
        var host = String(rest[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host.isEmpty { host = "127.0.0.1" }
        if host == "localhost" { host = "127.0.0.1" }
        guard loopbackHosts.contains(host) else {
            throw .badEndpoint(text, reason: "the gdbstub listens on 127.0.0.1, ::1 or a Unix socket only (it can rewrite guest memory)")
        }
        guard let port = UInt16(rest[rest.index(after: colon)...]), port > 0 else {
            throw .badEndpoint(text, reason: "the port must be 1…65535")
        }
        return .tcp(host: host, port: port)
    }

    /// The form `kmemscope --target` takes: `unix:PATH`, `127.0.0.1:PORT` or `[::1]:PORT`.
    public var targetString: String {
        switch self {
        case .unix(let path): return "unix:" + path
        case .tcp(let host, let port): return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        }
    }

    public var description: String { targetString }

    /// QEMU's arguments for this endpoint: always an explicit `-chardev` (QEMU 7.2's
    /// `-gdb tcp:[::1]:PORT` does not resolve, and a path with a comma must be escaped).
    var qemuArguments: [String] {
        switch self {
        case .unix(let path):
            return ["-chardev", "socket,id=gdb0,path=\(QEMUOption.escape(path)),server=on,wait=off", "-gdb", "chardev:gdb0"]
        case .tcp(let host, let port):
            let v6 = host.contains(":") ? ",ipv6=on" : ",ipv4=on"
            return ["-chardev", "socket,id=gdb0,host=\(host),port=\(port),server=on,wait=off\(v6)", "-gdb", "chardev:gdb0"]
        }
    }
}

/// QEMU's option syntax (`key=value,key=value`): a comma inside a value is written twice.
enum QEMUOption {
    static func escape(_ value: String) -> String { value.replacingOccurrences(of: ",", with: ",,") }
}
