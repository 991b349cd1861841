import GDBRemote

/// What ``GDBProxy`` listens on, where QEMU's gdbstub is, and its limits.
public struct ProxyConfiguration: Sendable {
    /// Where clients (gdb, kmemscope) connect.
    public var listen: RemoteAddress
    /// QEMU's gdbstub.
    public var upstream: RemoteAddress
    /// Connections beyond this many are refused (closed at once, with a line on the log).
    public var maximumClients = 8
    /// The largest packet payload accepted from a client or from QEMU, in bytes.
    public var maximumPacket = 1 << 17
    /// How long QEMU may take to answer one request before the proxy gives up on it.
    public var requestTimeout: Duration = .seconds(10)
    /// Answer repeated memory reads from a cache while the guest stays stopped.
    public var cacheReads = false
    /// Runs `monitor kms …`; nil passes every `monitor` command to QEMU.
    public var monitor: MonitorCommand?
    /// Where the proxy says what happens (a client came or went, a borrow, an error).
    public var log: @Sendable (String) -> Void = { _ in }
    /// Every packet in and out, for debugging the proxy itself (`--trace`); nil: none.
    public var trace: (@Sendable (String) -> Void)?

    public init(listen: RemoteAddress, upstream: RemoteAddress) {
        self.listen = listen
        self.upstream = upstream
    }
}
