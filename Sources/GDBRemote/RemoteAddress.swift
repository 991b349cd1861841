/// Where a GDB stub listens.
///
/// ```swift
/// .tcp("127.0.0.1", 1234)   // QEMU: -gdb tcp:127.0.0.1:1234
/// .tcp("::1", 1234)         // IPv6 loopback: -gdb tcp:[::1]:1234
/// .unix("/tmp/gdb.sock")    // -chardev socket,id=g,path=/tmp/gdb.sock,server=on,wait=off -gdb chardev:g
/// ```
public enum RemoteAddress: Sendable, Hashable, CustomStringConvertible {
    /// A TCP host (name, IPv4 or IPv6 literal without brackets) and port.
    case tcp(String, UInt16)
    /// A Unix-domain stream socket path.
    case unix(String)

    /// Parses `host:port`, `[v6]:port`, `:port` (meaning 127.0.0.1) or `unix:PATH`.
    public init?(parsing text: String) {
        if text.hasPrefix("unix:") {
            self = .unix(String(text.dropFirst(5)))
            return
        }
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...])
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        self = .tcp(host.isEmpty ? "127.0.0.1" : host, port)
    }

    public var description: String {
        switch self {
        case .tcp(let host, let port):
            return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        case .unix(let path):
            return "unix:\(path)"
        }
    }
}
