/// One client of the proxy (gdb, a kmemscope command, `monitor kms`'s child): its socket and
/// the per-client protocol state the proxy keeps so that clients do not see each other.
final class ProxyClient {
    /// A packet that arrived while the client had to wait (another client holds the guest).
    enum Held {
        case packet([UInt8])   // the whole frame, `$…#cc`, as it arrived
        case interrupt
    }

    let id: Int
    let socket: ProxySocket
    /// Whether this client still exchanges `+`/`-` (until it asks `QStartNoAckMode`).
    var ackMode = true
    /// `+`s owed for requests received (a pipelining client sends many at once), sent in
    /// front of the next reply, so one write carries them.
    var acksOwed = 0
    /// Packets waiting for their turn, in arrival order.
    var held: [Held] = []
    /// The last `Hg`, `Hc`, `Qqemu.PhyMemMode` this client sent (nil: the stub's default).
    var selection: [[UInt8]?] = Array(repeating: nil, count: SelectionSlot.allCases.count)
    /// `z…` packets that undo the breakpoints this client inserted and has not removed:
    /// sent for it when it leaves without removing them (killed, or a kmemscope that died).
    var breakpoints: Set<[UInt8]> = []
    /// False while this client connected to a running guest and has not yet been told it
    /// stopped (QEMU sends a stop reply unasked to a client whose connect halted the guest).
    var greeted: Bool
    /// The last frame sent to this client, for a `-` from it.
    var lastReply: [UInt8] = []
    /// A `monitor kms …` this client asked for and is waiting on.
    var monitor: MonitorProcess?
    /// Set when the client left (detached, killed, closed); it is dropped at the next sweep.
    var gone = false
    /// After `D`, the connection stays open until the client closes it (gdb acks the `OK`
    /// and then closes; closing first would break its pipe), at most until this instant.
    var lingerUntil: ContinuousClock.Instant?
    /// The proxy's packet trace, if on.
    var trace: (@Sendable (String) -> Void)?

    init(id: Int, socket: ProxySocket, greeted: Bool) {
        self.id = id
        self.socket = socket
        self.greeted = greeted
    }

    /// Sends a frame (with the owed ack in front) and remembers it for a `-`.
    func reply(_ frame: UnsafeRawBufferPointer) {
        trace?("→ client \(id) \(String(decoding: frame.prefix(80), as: UTF8.self))")
        if acksOwed > 0 && ackMode {
            socket.send(acksOwed == 1 ? Self.plus : [UInt8](repeating: UInt8(ascii: "+"), count: acksOwed), frame)
        } else {
            socket.send(frame)
        }
        acksOwed = 0
        if ackMode { lastReply = Array(frame) }
    }

    func reply(payload: [UInt8]) {
        let frame = Self.frame(payload)
        frame.withUnsafeBytes { reply($0) }
    }

    /// Sends the owed `+`s now (the reply will come later or never).
    func acknowledge() {
        if acksOwed > 0 && ackMode { socket.send([UInt8](repeating: UInt8(ascii: "+"), count: acksOwed)) }
        acksOwed = 0
    }

    static let plus: [UInt8] = [UInt8(ascii: "+")]

    static func frame(_ payload: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "$")]
        var sum: UInt8 = 0
        for b in payload {
            if b == UInt8(ascii: "$") || b == UInt8(ascii: "#") || b == UInt8(ascii: "}") || b == UInt8(ascii: "*") {
                out.append(UInt8(ascii: "}")); out.append(b ^ 0x20); sum &+= UInt8(ascii: "}") &+ (b ^ 0x20)
            } else {
                out.append(b); sum &+= b
            }
        }
        let digits = Array("0123456789abcdef".utf8)
        out += [UInt8(ascii: "#"), digits[Int(sum >> 4)], digits[Int(sum & 15)]]
        return out
    }
}
