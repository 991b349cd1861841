/// Requests and replies over a ``RemoteTransport``: acks, retransmission, timeouts, and
/// pipelining (many requests in flight, replies matched in order).
///
/// **Synchronous by design.** Everything here blocks the calling thread, bounded by a
/// timeout. Pipelining does not need concurrency: one thread writes a window of requests in a
/// single `send`, then reads replies as they stream back and tops the window up, so the stub is
/// never idle and there is no lock, task or actor hop per packet. The command-line tool that
/// uses this library is synchronous too, and a blocking call with a deadline is the easiest
/// thing to reason about when the other side may hang. A caller that wants async can wrap a
/// whole operation (one ``RemoteTarget/readMemory(at:count:)``) in a task. A connection is not
/// thread-safe: use it from one thread at a time.
///
/// Ack mode (the default, and the only mode QEMU 7.2 offers): every packet we receive intact
/// is answered `+`, a damaged one `-` (when it is the only one outstanding; see
/// ``pipeline(window:timeout:next:onReply:)``). A `-` from the stub makes us send the packet
/// again, at most ``maximumAttempts`` times.
public final class PacketConnection {
    /// The byte stream underneath.
    public let transport: RemoteTransport
    /// Whether `+`/`-` acknowledgements are exchanged (true until `QStartNoAckMode` succeeds).
    public var ackMode = true
    /// How many times one packet is sent (or a damaged reply asked for) before giving up.
    public var maximumAttempts = 4
    /// The largest packet (framed, `$…#cc`) the stub accepts; larger requests are refused
    /// with ``GDBRemoteError/packetTooLarge(request:size:limit:)`` before they are sent.
    public var maximumOutgoingPacket = 400
    /// When true, the first stop reply (`T…`/`S…`) that arrives while waiting for some other
    /// reply is taken as unsolicited (QEMU sends one when it halts a running guest on
    /// connect) and kept in ``unsolicitedStopReply`` instead of being matched to a request.
    public var expectUnsolicitedStop = false
    /// The unsolicited stop reply, if one arrived.
    public private(set) var unsolicitedStopReply: [UInt8]?
    /// Whether the stub waits for our `+` before sending its next packet: `nil` until seen
    /// otherwise, `false` once a packet arrived while our ack for the one before was unsent.
    public private(set) var stubWaitsForAcks: Bool?

    /// Checked at least every ``stopCheckInterval`` while waiting for the stub; when it returns
    /// true the wait ends with ``GDBRemoteError/interrupted(request:)``. A signal handler that
    /// sets a flag it reads lets a long read be abandoned promptly (Ctrl-C), without any
    /// thread or signal-safety concern here.
    public var shouldStop: (() -> Bool)?
    /// How often ``shouldStop`` is asked while a wait goes on.
    public var stopCheckInterval: Duration = .milliseconds(50)
    /// Bytes received from the stub so far (acks included): zero after a timeout means the
    /// stub never said anything at all.
    public private(set) var bytesReceived = 0
    /// The first bytes received on this connection (up to 64), as they came: what a peer that
    /// is no GDB stub said (``GDBRemoteError/notAStub(address:sent:)``).
    public private(set) var firstBytes: [UInt8] = []
    /// Bytes written once, right after the next request's packet (then cleared). The first
    /// request carries a line end: stubs ignore bytes between packets, while line-based
    /// servers (HTTP, SMTP) answer a complete line at once and so show what they are.
    public var afterNextRequest: [UInt8] = []

    /// Requests whose replies had not arrived when a pipeline ended with an error (a timeout,
    /// ``GDBRemoteError/interrupted(request:)``): their replies still come, in order, ahead of
    /// any later request's. The next request discards them first
    /// (``discardOwedReplies(timeout:)``), so an abandoned wait never shifts later replies.
    public internal(set) var unansweredRequests = 0

    private var codec: PacketCodec
    private let receiveBuffer: UnsafeMutableRawBufferPointer
    /// Bytes to send with the next write (acks, so that they ride with the next request).
    private var pendingOutput: [UInt8] = []

    /// Wraps `transport`. Replies whose payload is longer than `maximumReply` bytes are refused.
    public init(transport: RemoteTransport, maximumReply: Int = 1 << 20) {
        self.transport = transport
        self.codec = PacketCodec(maximumPayload: maximumReply)
        self.receiveBuffer = .allocate(byteCount: 1 << 18, alignment: 16)
    }

    deinit {
        receiveBuffer.deallocate()
        transport.close()
    }

    // MARK: Single requests

    /// Sends `payload` and returns the stub's reply payload.
    ///
    /// - Throws: ``GDBRemoteError/timedOut(request:after:)`` if no reply arrives within
    ///   `timeout`, ``GDBRemoteError/connectionClosed(request:midPacket:)``,
    ///   ``GDBRemoteError/checksumFailure(request:attempts:)``, ``GDBRemoteError/packetTooLarge(request:size:limit:)``.
    public func request(_ payload: String, timeout: Duration = .seconds(5)) throws -> [UInt8] {
        try request(Array(payload.utf8), timeout: timeout)
    }

    /// Sends `payload` (raw bytes; escaped as needed) and returns the reply payload.
    public func request(_ payload: [UInt8], timeout: Duration = .seconds(5)) throws -> [UInt8] {
        var reply: [UInt8] = []
        var sent = false
        try pipeline(window: 1, timeout: timeout, next: { () -> (payload: [UInt8], tag: Int)? in
            if sent { return nil }
            sent = true
            return (payload, 0)
        }, onReply: { _, r in reply = r })
        return reply
    }

    /// Sends `payload` without waiting for any reply (e.g. `c`, whose reply is a later stop).
    /// In ack mode this still consumes the stub's `+` later, when replies are read. Replies
    /// still owed to abandoned requests are discarded first.
    public func send(_ payload: [UInt8]) throws {
        try discardOwedReplies(timeout: .seconds(5))
        var out = pendingOutput
        pendingOutput = []
        let before = out.count
        PacketCodec.append(frameOf: payload, to: &out)
        let size = out.count - before
        guard size <= maximumOutgoingPacket else {
            pendingOutput = Array(out[..<before])
            throw GDBRemoteError.packetTooLarge(request: label(payload), size: size, limit: maximumOutgoingPacket)
        }
        try write(out, request: label(payload))
        lastUnrepliedSend = payload
    }

    /// The last packet sent with ``send(_:)``, so a `-` from the stub can be answered.
    private var lastUnrepliedSend: [UInt8]?

    /// Sends raw bytes with no framing (the 0x03 interrupt byte).
    public func sendRaw(_ bytes: [UInt8]) throws {
        let out = pendingOutput + bytes
        pendingOutput = []
        try write(out, request: "interrupt")
    }

    /// Waits for the next packet from the stub (acks are consumed, `-` answered by resending the
    /// last packet of ``send(_:)``), acknowledging it. Used to wait for stop replies and for the
    /// `O` output of `qRcmd`.
    public func receivePacket(timeout: Duration, waitingFor what: String) throws -> [UInt8] {
        let deadline = ContinuousClock.now + timeout
        var attempts = 1
        while true {
            let event = try nextEvent(deadline: deadline, timeout: timeout, request: what)
            switch event {
            case .ack, .notification:
                continue
            case .nak:
                guard let last = lastUnrepliedSend else { continue }
                attempts += 1
                if attempts > maximumAttempts {
                    throw GDBRemoteError.checksumFailure(request: label(last), attempts: attempts - 1)
                }
                try resend(PacketCodec.frame(last), request: label(last))
            case .packet(let p):
                lastUnrepliedSend = nil
                if ackMode { try write([UInt8(ascii: "+")], request: what) }
                return p
            case .corrupt:
                attempts += 1
                if attempts > maximumAttempts {
                    throw GDBRemoteError.checksumFailure(request: what, attempts: attempts - 1)
                }
                if ackMode { try write([UInt8(ascii: "-")], request: what) }
            case .oversize(let size):
                throw GDBRemoteError.packetTooLarge(request: what, size: size, limit: codec.maximumPayload)
            }
        }
    }

    /// Reads and drops the replies still owed to requests whose wait was abandoned
    /// (``unansweredRequests``), so that the next reply read is the next request's. Not
    /// interruptible (``shouldStop`` is not asked: the signal that abandoned those waits is
    /// usually still pending), but bounded: each owed reply must arrive within `timeout`.
    ///
    /// - Throws: ``GDBRemoteError/timedOut(request:after:)`` when an owed reply does not come
    ///   (the count is cleared then: a stub that silent is taken as lost, not waited for again).
    public func discardOwedReplies(timeout: Duration) throws {
        guard unansweredRequests > 0 else { return }
        try uninterruptibly {
            defer { unansweredRequests = 0 }
            while unansweredRequests > 0 {
                _ = try receivePacket(timeout: timeout, waitingFor: "a reply owed to an abandoned request")
                unansweredRequests -= 1
            }
        }
    }

    /// Runs `body` with ``shouldStop`` switched off: for the exchanges that bring the stub back
    /// to a known state after an interruption (stopping the target, discarding owed replies),
    /// which must finish even though the signal that ended the last wait is still pending.
    /// Each wait inside stays bounded by its own timeout.
    public func uninterruptibly<T>(_ body: () throws -> T) rethrows -> T {
        let saved = shouldStop
        shouldStop = nil
        defer { shouldStop = saved }
        return try body()
    }

    /// Flushes acks that are waiting to ride with the next request.
    public func flush() throws {
        if !pendingOutput.isEmpty {
            let out = pendingOutput
            pendingOutput = []
            try write(out, request: "ack")
        }
    }

    // MARK: Pipelining

    private struct Outstanding<Tag> {
        var framed: [UInt8]
        var tag: Tag
        var label: String
        var attempts: Int
    }

    /// Keeps up to `window` requests in flight and hands each reply to `onReply` with the tag
    /// of its request.
    ///
    /// `next` is asked for another request whenever there is room; it returns `nil` when it has
    /// none *for now* (it is asked again after each reply, so `onReply` may queue follow-ups,
    /// e.g. the rest of a short read). The call returns when `next` has nothing and every
    /// request has been answered.
    ///
    /// Matching: the stub answers in order, and in ack mode acknowledges each request (`+`)
    /// before its reply; a request it rejected (`-`) is sent again and its reply comes after
    /// the others', so replies are matched to requests in the order of their acks. A damaged
    /// reply with other requests in flight cannot be asked for again with `-` (the stub would
    /// resend its *latest* reply, not that one), so it is acknowledged and its request is sent
    /// again as a new request: `onReply` may therefore see tags out of order, and the requests
    /// must be idempotent (memory reads and writes are). With one request in flight (in ack
    /// mode) a damaged reply is answered `-` as the protocol says; in no-ack mode there is no
    /// `-`, so it is always sent again as a new request.
    public func pipeline<Tag>(window: Int, timeout: Duration,
                              next: () throws -> (payload: [UInt8], tag: Tag)?,
                              onReply: (Tag, [UInt8]) throws -> Void) throws {
        precondition(window >= 1)
        try discardOwedReplies(timeout: timeout)
        var sent: [Outstanding<Tag>] = []       // sent, not yet acked (ack mode)
        var accepted: [Outstanding<Tag>] = []   // acked (or no-ack mode), awaiting the reply
        var resend: [Outstanding<Tag>] = []     // to send again as new requests
        // An error from `onReply`: stop sending, drain what is in flight (so the next request
        // is not answered with a stale reply), then throw it.
        var failure: Error?

        func inFlight() -> Int { sent.count + accepted.count }

        func refill() throws {
            let room = window - inFlight()
            // Top up when half the window has drained, so writes carry many requests at once.
            guard room > 0, room >= (window + 1) / 2 || (inFlight() == 0) else { return }
            var out = pendingOutput
            pendingOutput = []
            var added = 0
            var firstLabel = ""
            while added < room {
                var item: Outstanding<Tag>
                if !resend.isEmpty {
                    item = resend.removeFirst()
                } else {
                    guard let (payload, tag) = try next() else { break }
                    let framed = PacketCodec.frame(payload)
                    item = Outstanding(framed: framed, tag: tag, label: label(payload), attempts: 1)
                    guard framed.count <= maximumOutgoingPacket else {
                        pendingOutput = out
                        throw GDBRemoteError.packetTooLarge(request: item.label, size: framed.count,
                                                            limit: maximumOutgoingPacket)
                    }
                }
                if firstLabel.isEmpty { firstLabel = item.label }
                out.append(contentsOf: item.framed)
                if ackMode { sent.append(item) } else { accepted.append(item) }
                added += 1
            }
            if !out.isEmpty {
                out += afterNextRequest
                afterNextRequest = []
                try write(out, request: firstLabel)
            }
        }

        do {
            try pipelineLoop()
        } catch {
            unansweredRequests += inFlight()
            throw error
        }
        if stubWaitsForAcks != false { try flush() }
        if let failure { throw failure }

        func pipelineLoop() throws {
        try refill()
        while inFlight() > 0 {
            let oldest = sent.first?.label ?? accepted.first?.label ?? ""
            let event = try nextEvent(deadline: ContinuousClock.now + timeout, timeout: timeout, request: oldest)
            switch event {
            case .ack:
                if !sent.isEmpty { accepted.append(sent.removeFirst()) }
            case .nak:
                guard !sent.isEmpty else {
                    // A `-` for a packet that was already acked (or for an ack): nothing to redo.
                    continue
                }
                var item = sent.removeFirst()
                item.attempts += 1
                if item.attempts > maximumAttempts {
                    throw GDBRemoteError.checksumFailure(request: item.label, attempts: item.attempts - 1)
                }
                try write(pendingOutput + item.framed, request: item.label)
                pendingOutput = []
                sent.append(item)
            case .notification:
                continue
            case .packet(let payload):
                let waitingFor = accepted.first ?? sent.first
                if expectUnsolicitedStop, StopReply.looksLikeStop(payload),
                   waitingFor?.label.hasPrefix("?") != true {
                    expectUnsolicitedStop = false
                    unsolicitedStopReply = payload
                    if ackMode { pendingOutput.append(UInt8(ascii: "+")) }
                    continue
                }
                // A stub that does not ack before replying: the reply is for the oldest request.
                let item = accepted.isEmpty ? sent.removeFirst() : accepted.removeFirst()
                if ackMode { pendingOutput.append(UInt8(ascii: "+")) }
                if failure == nil {
                    do { try onReply(item.tag, payload) } catch { failure = error }
                }
                if failure == nil { try refill() }
            case .corrupt:
                if inFlight() == 1 && ackMode {
                    var item = accepted.isEmpty ? sent[0] : accepted[0]
                    item.attempts += 1
                    if item.attempts > maximumAttempts {
                        throw GDBRemoteError.checksumFailure(request: item.label, attempts: item.attempts - 1)
                    }
                    if accepted.isEmpty { sent[0] = item } else { accepted[0] = item }
                    try write(pendingOutput + [UInt8(ascii: "-")], request: item.label)
                    pendingOutput = []
                } else {
                    var item = accepted.isEmpty ? sent.removeFirst() : accepted.removeFirst()
                    item.attempts += 1
                    if item.attempts > maximumAttempts {
                        throw GDBRemoteError.checksumFailure(request: item.label, attempts: item.attempts - 1)
                    }
                    if ackMode { pendingOutput.append(UInt8(ascii: "+")) }
                    resend.append(item)
                    if failure == nil { try refill() }
                }
            case .oversize(let size):
                // That was the oldest request's reply (discarded): it is owed no longer.
                if !accepted.isEmpty { accepted.removeFirst() } else if !sent.isEmpty { sent.removeFirst() }
                throw GDBRemoteError.packetTooLarge(request: oldest, size: size, limit: codec.maximumPayload)
            }
            if inFlight() == 0 && failure == nil { try refill() }
        }
        }
    }

    // MARK: Plumbing

    private func write(_ bytes: [UInt8], request: String) throws {
        do {
            try bytes.withUnsafeBytes { try transport.send($0, timeout: .seconds(5)) }
        } catch GDBRemoteError.timedOut(_, let after) {
            throw GDBRemoteError.timedOut(request: request, after: after)
        } catch GDBRemoteError.connectionClosed {
            throw GDBRemoteError.connectionClosed(request: request, midPacket: false)
        }
    }

    private func resend(_ framed: [UInt8], request: String) throws {
        let out = pendingOutput + framed
        pendingOutput = []
        try write(out, request: request)
    }

    /// The next event from the stub, reading from the transport as needed until `deadline`.
    private func nextEvent(deadline: ContinuousClock.Instant, timeout: Duration,
                           request: String) throws -> PacketEvent {
        while true {
            if let event = codec.next() {
                // A packet arriving while our ack for the previous one is still unsent shows
                // the stub does not wait for acks (QEMU never does): from then on acks ride
                // with the next requests instead of costing a write each.
                if case .packet = event, stubWaitsForAcks == nil, pendingOutput.last == UInt8(ascii: "+") {
                    stubWaitsForAcks = false
                }
                return event
            }
            // About to wait: acks must go out now if the stub may be waiting for them.
            if !pendingOutput.isEmpty && stubWaitsForAcks != false { try flush() }
            if let shouldStop, shouldStop() { throw GDBRemoteError.interrupted(request: request) }
            let left = ContinuousClock.now.duration(to: deadline)
            if left <= .zero { throw GDBRemoteError.timedOut(request: request, after: timeout) }
            let n: Int
            do {
                n = try transport.receive(into: receiveBuffer,
                                          timeout: shouldStop == nil ? left : min(left, stopCheckInterval))
            } catch GDBRemoteError.timedOut {
                if shouldStop != nil && ContinuousClock.now < deadline { continue }
                throw GDBRemoteError.timedOut(request: request, after: timeout)
            }
            bytesReceived += n
            if firstBytes.count < 64 {
                firstBytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: receiveBuffer[0..<min(n, 64 - firstBytes.count)]))
            }
            if n == 0 {
                throw GDBRemoteError.connectionClosed(request: request, midPacket: codec.isInsidePacket)
            }
            codec.append(UnsafeRawBufferPointer(rebasing: receiveBuffer[0..<n]))
        }
    }

    /// A short printable form of a request for error messages.
    func label(_ payload: [UInt8]) -> String {
        let text = String(decoding: payload.prefix(48), as: UTF8.self)
        return payload.count > 48 ? text + "…" : text
    }
}
