import GDBRemote
import Glibc

/// A multiplexing proxy in front of QEMU's gdbstub: gdb and kmemscope commands connect to it
/// as to QEMU, one QEMU serves them all (docs/proxy.md gives the rules).
///
/// ```swift
/// var configuration = ProxyConfiguration(listen: .tcp("127.0.0.1", 1235), upstream: .unix("/tmp/gdb.sock"))
/// let proxy = try GDBProxy(configuration)
/// try proxy.run { interrupted }   // until QEMU goes away or `shouldStop` says so
/// ```
///
/// The proxy is one thread and one `poll(2)` loop: no locks, and every wait is bounded. It holds
/// one connection to QEMU for its whole life and ends the acks of each side itself, so a
/// client's packet is forwarded byte for byte, and QEMU's reply likewise.
public final class GDBProxy {
    let configuration: ProxyConfiguration
    let listener: ProxyListener
    let upstream: ProxySocket
    /// Whether QEMU still exchanges acks with the proxy.
    let upstreamAckMode: Bool
    /// QEMU's answer to `?` at attach (what the proxy answers every client's `?` with).
    let haltReason: [UInt8]
    /// Whether the guest ran when the proxy attached (it is left that way when the last client goes).
    public let foundRunning: Bool

    var clients: [ProxyClient] = []
    var nextClientID = 1
    /// The client that owns run control (the oldest); others borrow the guest from it.
    var controller: ProxyClient?
    /// The client that holds the guest stopped for itself while the controller waits.
    var borrower: ProxyClient?
    /// Set while the guest runs.
    var run: Run?
    /// The controller's run that a borrow interrupted (resumed when the borrow ends).
    var suspendedRun: Run?
    /// A stop that was the controller's own (a breakpoint hit) and arrived instead of the
    /// proxy's interrupt: delivered to the controller when the borrow ends.
    var heldStop: [UInt8]?
    /// The stop the proxy's interrupt produced, for a controller that asked to stop meanwhile.
    var interruptStop: [UInt8]?
    var controllerWantsStop = false
    var interrupting: InterruptPurpose?
    /// Replies owed by QEMU, oldest first (`waiterHead` indexes the oldest).
    var waiters: [(Waiter, ContinuousClock.Instant)] = []
    var waiterHead = 0
    /// The stub-global selections as QEMU has them now (nil: its default).
    var upstreamSelection: [[UInt8]?] = Array(repeating: nil, count: SelectionSlot.allCases.count)
    /// `+`s owed to QEMU, sent in front of the next packet to it.
    var upstreamAckOwed = false
    var readCache = ReadCache()
    /// `z…` packets for breakpoints of clients that left while the guest ran.
    var orphanBreakpoints: Set<[UInt8]> = []
    /// Set when the loop must end, with the reason (nil: a clean stop).
    var failure: ProxyError?

    /// Attaches to QEMU's gdbstub and starts listening.
    ///
    /// - Throws: ``ProxyError/cannotListen(address:reason:)``, ``ProxyError/upstream(address:message:)``.
    public init(_ configuration: ProxyConfiguration) throws(ProxyError) {
        self.configuration = configuration
        let target: RemoteTarget
        do {
            target = try RemoteTarget.connect(to: configuration.upstream, timeout: configuration.requestTimeout, greeting: .seconds(3))
        } catch {
            throw .upstream(address: configuration.upstream.description, message: "\(error)")
        }
        guard let transport = target.connection.transport as? SocketTransport else {
            throw .upstream(address: configuration.upstream.description, message: "not a socket")
        }
        foundRunning = target.unsolicitedStop != nil
        haltReason = Array((target.lastStop?.raw ?? "T05").utf8)
        upstreamAckMode = target.connection.ackMode
        let fd = dup(transport.fileDescriptor)
        upstream = ProxySocket(fd: fd, maximumPayload: configuration.maximumPacket)
        target.close()
        listener = try ProxyListener(configuration.listen)
        if foundRunning {
            let frame = ProxyClient.frame(Array("c".utf8))
            sendUpstream(frame)
            run = Run(owner: nil, frame: frame, step: false)
        }
    }

    /// The address clients connect to (the port filled in when `--listen` gave port 0).
    public var address: RemoteAddress { listener.connectAddress }

    /// Serves clients until QEMU goes away, a fatal protocol error, or `shouldStop()` is true
    /// (asked at least every 100 ms). On the way out the guest is left as the proxy found it.
    ///
    /// - Throws: ``ProxyError/upstreamClosed(address:)`` when QEMU exits,
    ///   ``ProxyError/upstreamTimedOut(address:request:seconds:)``.
    public func run(until shouldStop: () -> Bool) throws(ProxyError) {
        var fds: [pollfd] = []
        var polled: [ProxyClient] = []
        while failure == nil && !shouldStop() {
            fds.removeAll(keepingCapacity: true)
            fds.append(pollfd(fd: listener.fd, events: Int16(POLLIN), revents: 0))
            fds.append(pollfd(fd: upstream.fd, events: Int16(POLLIN) | (upstream.wantsWrite ? Int16(POLLOUT) : 0), revents: 0))
            polled.removeAll(keepingCapacity: true)
            for c in clients where !c.gone || c.lingerUntil != nil {
                polled.append(c)
                fds.append(pollfd(fd: c.socket.fd, events: Int16(POLLIN) | (c.socket.wantsWrite ? Int16(POLLOUT) : 0), revents: 0))
            }
            for c in clients { if let m = c.monitor, m.fd >= 0 { fds.append(pollfd(fd: m.fd, events: Int16(POLLIN), revents: 0)) } }
            let n = poll(&fds, nfds_t(fds.count), 100)
            if n < 0 && errno != EINTR { break }
            // Idle: the ack QEMU is owed goes now (it never waits for it; never while the
            // guest runs, when any byte would stop it).
            if n == 0 && upstreamAckOwed && run == nil { flushUpstreamAck() }
            if n > 0 {
                if fds[1].revents != 0 { serviceUpstream() }
                if fds[0].revents != 0 { acceptClients() }
                for (i, c) in polled.enumerated() where fds[i + 2].revents != 0 {
                    if c.gone {
                        // A detached client's last acks: read and dropped until it closes.
                        if c.lingerUntil != nil { if !c.socket.receive() { c.lingerUntil = nil } else { while c.socket.input.next() != nil {} } }
                        continue
                    }
                    if !c.socket.receive() { leave(c, why: c.socket.input.isInsidePacket ? "closed the connection mid-packet" : "disconnected") }
                    else { handleClientInput(c) }
                }
                for c in clients where c.socket.wantsWrite { c.socket.flush() }
                upstream.flush()
            }
            serviceMonitors()
            checkDeadlines()
            sweep()
        }
        shutdown()
        if let failure { throw failure }
    }

    /// Leaves the guest as found and closes every connection.
    func shutdown() {
        for c in clients { c.monitor?.terminate(); c.monitor = nil; c.socket.flush(); c.socket.close() }
        clients.removeAll()
        guard failure == nil else { return }
        if foundRunning {
            if run == nil { sendUpstream(ProxyClient.frame(Array("D".utf8))) }
            // Running already (the proxy's own `c`): closing leaves it running.
        } else if run != nil {
            upstream.send([0x03])
        }
        upstream.flush()
        upstream.close()
    }

    func log(_ text: String) { configuration.log(text) }

    // MARK: Upstream

    /// Sends a frame to QEMU with any owed ack in front.
    func sendUpstream(_ frame: UnsafeRawBufferPointer) {
        if let trace = configuration.trace { trace("→ qemu \(String(decoding: frame.prefix(80), as: UTF8.self)) [waiters \(waiters.count - waiterHead)]") }
        if upstreamAckOwed {
            upstreamAckOwed = false
            upstream.send(ProxyClient.plus, frame)
        } else {
            upstream.send(frame)
        }
    }

    func sendUpstream(_ frame: [UInt8]) { frame.withUnsafeBytes { sendUpstream($0) } }

    func flushUpstreamAck() {
        if upstreamAckOwed { upstreamAckOwed = false; upstream.send(ProxyClient.plus) }
    }

    /// Sends one of the proxy's own requests (its reply dropped).
    func requestUpstream(_ payload: [UInt8]) {
        sendUpstream(ProxyClient.frame(payload))
        waiters.append((.discard, .now))
    }

    func checkDeadlines() {
        guard waiterHead < waiters.count else { return }
        let (waiter, sent) = waiters[waiterHead]
        if case .client(_, _, monitor: true) = waiter { return }   // QEMU's monitor may take long
        if ContinuousClock.now - sent > configuration.requestTimeout {
            let (seconds, atto) = configuration.requestTimeout.components
            failure = .upstreamTimedOut(address: configuration.upstream.description, request: "a request",
                                        seconds: Double(seconds) + Double(atto) / 1e18)
        }
    }

    /// Drops clients that left.
    func sweep() {
        let now = ContinuousClock.now
        func done(_ c: ProxyClient) -> Bool { c.gone && (c.lingerUntil.map { now > $0 } ?? true) }
        if clients.contains(where: done) {
            for c in clients where done(c) { c.socket.flush(); c.socket.close() }
            clients.removeAll(where: done)
        }
        if waiterHead > 64 && waiterHead * 2 > waiters.count {
            waiters.removeFirst(waiterHead)
            waiterHead = 0
        }
    }
}
