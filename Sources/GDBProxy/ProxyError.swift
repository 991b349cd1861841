import GDBRemote

/// Why the proxy could not start or had to stop. Each message says what to do.
public enum ProxyError: Error, Equatable, CustomStringConvertible {
    /// The listening address could not be bound.
    case cannotListen(address: String, reason: String)
    /// QEMU's gdbstub could not be reached or did not negotiate (wraps the client's message).
    case upstream(address: String, message: String)
    /// QEMU's gdbstub closed the connection (QEMU exited or was killed).
    case upstreamClosed(address: String)
    /// QEMU's gdbstub did not answer a request in time.
    case upstreamTimedOut(address: String, request: String, seconds: Double)
    /// QEMU's gdbstub sent a packet larger than the proxy's limit.
    case upstreamOversize(address: String, size: Int, limit: Int)

    public var description: String {
        switch self {
        case .cannotListen(let address, let reason):
            return "cannot listen on \(address): \(reason) — pick another --listen address (HOST:PORT or unix:PATH)"
        case .upstream(let address, let message):
            return "cannot attach to QEMU's gdbstub at \(address): \(message)"
        case .upstreamClosed(let address):
            return "QEMU's gdbstub at \(address) closed the connection (did QEMU exit?); the clients were disconnected"
        case .upstreamTimedOut(let address, let request, let seconds):
            return "QEMU's gdbstub at \(address) did not answer '\(request)' within \(seconds) s; the clients were disconnected — is QEMU hung?"
        case .upstreamOversize(let address, let size, let limit):
            return "QEMU's gdbstub at \(address) sent a \(size)-byte packet, more than the proxy's limit of \(limit) (--max-packet)"
        }
    }
}
