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

    /// The spellings ``parse(_:)`` accepts, for messages.
    public static let spellings = "HOST:PORT, tcp:HOST:PORT, [V6]:PORT, :PORT or unix:PATH"

    /// Parses `host:port`, `tcp:host:port` (QEMU's own `-gdb` spelling), `[v6]:port`, `:port`
    /// (meaning 127.0.0.1) or `unix:PATH`; `nil` for anything else (``parse(_:)`` says why).
    public init?(parsing text: String) {
        guard let address = try? Self.parse(text) else { return nil }
        self = address
    }

    /// Parses an address as ``init(parsing:)`` does, or throws saying what is wrong with it.
    public static func parse(_ text: String) throws(RemoteAddressError) -> RemoteAddress {
        if text.hasPrefix("unix:") {
            let path = String(text.dropFirst(5))
            guard !path.isEmpty else { throw RemoteAddressError(text, "unix: needs the socket's path (unix:/path/to/gdb.sock)") }
            return .unix(path)
        }
        var rest = Substring(text)
        if rest.hasPrefix("tcp:") { rest = rest.dropFirst(4) }
        if rest.contains("/") {
            throw RemoteAddressError(text, "a URL or path is not a stub address; a Unix socket is unix:PATH")
        }
        guard let colon = rest.lastIndex(of: ":") else { throw RemoteAddressError(text, "no :PORT") }
        let portText = rest[rest.index(after: colon)...]
        guard let port = UInt16(portText), port > 0 else {
            throw RemoteAddressError(text, "'\(portText)' is not a port (1…65535)")
        }
        var host = rest[..<colon]
        if host.hasPrefix("[") || host.hasSuffix("]") {
            guard host.hasPrefix("["), host.hasSuffix("]"), host.count > 2 else {
                throw RemoteAddressError(text, "an IPv6 address needs both brackets: [::1]:PORT")
            }
            host = host.dropFirst().dropLast()
        } else if host.contains(":") {
            throw RemoteAddressError(text, "an IPv6 address needs brackets: [\(host)]:PORT")
        }
        guard !host.contains(where: { $0 == "[" || $0 == "]" || $0.isWhitespace }) else {
            throw RemoteAddressError(text, "'\(host)' is not a host name or address")
        }
        return .tcp(host.isEmpty ? "127.0.0.1" : String(host), port)
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

/// Why a stub address could not be parsed.
public struct RemoteAddressError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The text given.
    public let text: String
    /// What is wrong with it.
    public let reason: String

    init(_ text: String, _ reason: String) {
        self.text = text
        self.reason = reason
    }

    public var description: String {
        "'\(text)' is not a stub address: \(reason) (use \(RemoteAddress.spellings))"
    }
}
