/// The guest runs: who resumed it (nil: the proxy, restoring the run state it found) and the
/// resume packet, kept to resume the same way after a borrow.
struct Run {
    var owner: ProxyClient?
    var frame: [UInt8]
    var step: Bool
}

/// Why the proxy interrupted the guest.
enum InterruptPurpose {
    /// A client needs the stopped guest (a borrow, or a client that found it running).
    case take(ProxyClient)
    /// A borrower left the guest running: stop it before giving it back.
    case restore
    /// The last client left a guest that the proxy found stopped.
    case idle
}

/// Who waits for the next reply from QEMU.
enum Waiter {
    /// A client's request; `cacheKey` when the reply is a cacheable read; `monitor` when
    /// `O` packets may come before the reply.
    case client(ProxyClient, cacheKey: [UInt8]?, monitor: Bool)
    /// The proxy's own request (a selection replay, a breakpoint cleanup): reply dropped.
    case discard
}
