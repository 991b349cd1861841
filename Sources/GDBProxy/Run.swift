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
    /// The proxy's read of a whole block for a client's small read (``ReadAhead``); the
    /// client's packet is kept to forward as it is if the block cannot be read.
    case readAhead(ProxyClient, ReadAhead.Request, blockKey: [UInt8], original: [UInt8])
    /// A client's `qSupported`: its reply offers `QStartNoAckMode+` (see ``Features``).
    case features(ProxyClient)
    /// The proxy's own request (a selection replay, a breakpoint cleanup): reply dropped.
    case discard
}

extension Waiter {
    /// Whether this reply goes to `c`.
    func isFor(_ c: ProxyClient) -> Bool {
        switch self {
        case .client(let x, _, _), .readAhead(let x, _, _, _), .features(let x): return x === c
        case .discard: return false
        }
    }
}
