/// A debugging session with one GDB stub (QEMU's `-gdb`, gdbserver, a JTAG probe…).
///
/// ```swift
/// let target = try RemoteTarget.connect(to: .tcp("127.0.0.1", 1234))
/// let regs = try target.registers()
/// let page = try target.readMemory(at: regs["rsp"]!, count: 4096)
/// try target.setBreakpoint(at: 0xffff_ffff_8100_0000)
/// let stop = try target.continueUntilStop(timeout: .seconds(10))
/// ```
///
/// **Synchronous API.** Every call blocks until the stub has answered, bounded by
/// ``requestTimeout`` (or the `timeout:` argument), and throws ``GDBRemoteError``. This is what
/// the command-line tool needs (it does one thing after another), and it costs the fast path
/// nothing: a large ``readMemory(at:count:)`` keeps ``pipelineDepth`` requests in flight from
/// this one thread (see ``PacketConnection``), which is as fast as the stub can answer. An async
/// wrapper would add a task hop per call and no throughput. The object is not thread-safe: use
/// it from one thread (or one task) at a time.
///
/// Connecting negotiates with `qSupported` (the stub's PacketSize bounds every packet we send,
/// and half of it bounds each `m` read), turns on no-ack mode when the stub offers it, asks
/// `?` for the stop reason, `vCont?` for the resume actions, and reads `target.xml` so that
/// registers can be named.
public final class RemoteTarget {
    /// The packet layer, for requests this type has no method for.
    public let connection: PacketConnection
    /// What the stub said in reply to `qSupported`.
    public private(set) var features: StubFeatures
    /// The register set from `target.xml` (empty if the stub does not offer it).
    public private(set) var targetDescription: TargetDescription
    /// The most recent stop reply (from `?` on connect, or from the last resume).
    public internal(set) var lastStop: StopReply?
    /// The stop reply the stub sent unasked on connect, if it did. QEMU 7.2 sends `T02` when
    /// the connection halts a running guest, and nothing when the guest was already halted (`-S`).
    public var unsolicitedStop: StopReply? { connection.unsolicitedStopReply.flatMap { StopReply($0) } }
    /// True between a resume (``resume()``) and the stop reply that ends it.
    public internal(set) var isRunning = false
    /// The packet that last resumed the target (what a refusal of it is reported against).
    var resumeRequest = "c"
    /// Code breakpoints (`Z0`/`Z1`) inserted through this target, by address: resuming from
    /// one steps over it first, as gdb does, because QEMU reports a breakpoint again at the PC
    /// it resumes from.
    var codeBreakpoints: [UInt64: [(kind: BreakpointKind, length: Int)]] = [:]
    /// The actions `vCont?` listed (e.g. `c`, `C`, `s`, `S`), empty if `vCont` is unsupported.
    public private(set) var vContActions: Set<String> = []
    /// How long a request may wait for its reply. For a pipelined read or write it bounds
    /// each wait for the next reply (a stall), not the whole transfer, so a 1 GiB read does
    /// not need a larger value.
    public var requestTimeout: Duration = .seconds(5)
    /// How many `m`/`M` requests a large read or write keeps in flight (1 = one at a time).
    /// 128 measured about 10% faster than 64 against QEMU 7.2 (fewer idle moments for the
    /// stub); more gave no consistent gain.
    public var pipelineDepth = 128
    /// The largest `m` read, in bytes. Starts at half the negotiated PacketSize (a reply carries
    /// two hex digits per byte: QEMU 7.2's PacketSize=0x1000 gives 2048, exactly the largest
    /// read it accepts; 2049 gets `E22`). If the stub still answers `E22` (EINVAL) to a read of
    /// this size (QEMU prints errno in decimal, so its EINVAL is `E22`, code 0x22), the size is
    /// halved and the read retried, down to 64 bytes: so a stub that
    /// announces more than it serves is learned, not assumed.
    public internal(set) var maximumReadSize: Int
    /// Whether QEMU's physical-memory mode (`Qqemu.PhyMemMode:1`) is on.
    public internal(set) var physicalMemoryMode = false
    /// Whether the stub's memory mode may differ from ``physicalMemoryMode``: a switch was
    /// sent and its reply not read (a Ctrl-C, a timeout), so the stub may or may not have made
    /// it. QEMU keeps the mode for every client, so reads in that state would see kernel
    /// addresses as physical ones (zeros past the end of RAM) or the reverse; the next
    /// ``useMemoryMode(physical:)`` sends the mode again, and ``resynchronize(timeout:)``
    /// puts the stub back in virtual mode.
    public internal(set) var memoryModeUncertain = false
    /// Console output (`O` packets, decoded) the stub sent while the target ran.
    public internal(set) var consoleOutput: [UInt8] = []

    /// Connects to a stub at `address` and negotiates the session.
    ///
    /// - Parameters:
    ///   - timeout: bounds the connection and each set-up request.
    /// - Throws: ``GDBRemoteError/connectionRefused(address:)`` if nothing listens, and any
    ///   error of the set-up requests.
    public static func connect(to address: RemoteAddress,
                               timeout: Duration = .seconds(5)) throws -> RemoteTarget {
        let transport = try SocketTransport.connect(to: address, timeout: timeout)
        return try RemoteTarget(transport: transport, timeout: timeout)
    }

    /// Connects like ``connect(to:timeout:)``, but a stub that accepts the connection and then
    /// says nothing at all within `greeting` (not even the `+` every stub sends for a packet it
    /// received) is reported as ``GDBRemoteError/noAnswer(address:after:)`` instead of waiting
    /// for the full `timeout`.
    ///
    /// This is what a second client of QEMU's gdbstub sees: the connection sits in the
    /// listen queue unanswered until the first client leaves, and *then* QEMU accepts it,
    /// which stops the guest. So before giving up this queues `D;1` behind `qSupported`: if
    /// QEMU serves the abandoned connection later, it detaches at once and the guest runs on,
    /// instead of staying stopped with nobody attached (measured on QEMU 7.2).
    public static func connect(to address: RemoteAddress, timeout: Duration,
                               greeting: Duration) throws -> RemoteTarget {
        let transport = try SocketTransport.connect(to: address, timeout: timeout)
        return try RemoteTarget(transport: transport, timeout: timeout, greeting: min(greeting, timeout))
    }

    /// Starts a session over an already connected transport.
    ///
    /// - Parameter greeting: how long to wait for the first byte of the first reply; when
    ///   nothing at all arrives in that time this throws ``GDBRemoteError/noAnswer(address:after:)``.
    public init(transport: RemoteTransport, timeout: Duration = .seconds(5), greeting: Duration? = nil) throws {
        connection = PacketConnection(transport: transport)
        requestTimeout = timeout
        connection.expectUnsolicitedStop = true
        let supported = "qSupported:multiprocess+;swbreak+;hwbreak+;vContSupported+;xmlRegisters=i386"
        let reply: [UInt8]
        connection.afterNextRequest = Array("\r\n".utf8)
        do {
            reply = try connection.request(supported, timeout: greeting ?? timeout)
        } catch let error as GDBRemoteError where Self.isNotAStub(connection.firstBytes, error) {
            throw GDBRemoteError.notAStub(address: transport.peerDescription, sent: GDBRemoteError.printable(connection.firstBytes))
        } catch GDBRemoteError.timedOut(_, let after) where connection.bytesReceived == 0 {
            // Held by another debugger, most likely (QEMU queues a second client unanswered).
            // Queue a detach behind qSupported: if the stub serves this connection once the
            // other client leaves, it stops the guest and then, reading this, lets it run
            // again, instead of leaving it stopped for nobody (measured on QEMU 7.2).
            // (raw: `send` would first wait for qSupported's reply, which is owed now)
            try? connection.sendRaw(PacketCodec.frame(Array("D;1".utf8)))
            throw GDBRemoteError.noAnswer(address: transport.peerDescription, after: after)
        } catch GDBRemoteError.timedOut where greeting != nil {
            // It said something (an ack, a stop reply): a slow stub, not a silent one.
            throw GDBRemoteError.timedOut(request: supported, after: greeting!)
        }
        // A stub's first byte is an ack or a packet. A server that answered with anything else
        // may still have echoed our request inside its answer (Python's http.server quotes the
        // request line in its error page: a well-formed `$qSupported…#cc`), which parses as a
        // reply: what came first decides.
        if let first = connection.firstBytes.first, !"+-$%".utf8.contains(first) {
            throw GDBRemoteError.notAStub(address: transport.peerDescription, sent: GDBRemoteError.printable(connection.firstBytes))
        }
        connection.expectUnsolicitedStop = false
        features = StubFeatures(reply: reply)
        // gdb's default when the stub gives no PacketSize is 400 bytes.
        let packetSize = features.packetSize ?? 400
        connection.maximumOutgoingPacket = packetSize
        maximumReadSize = max(16, packetSize / 2)
        targetDescription = TargetDescription(architecture: nil, registers: [])

        if features.supports("QStartNoAckMode") {
            if try connection.request("QStartNoAckMode", timeout: timeout) == Array("OK".utf8) {
                try connection.flush()
                connection.ackMode = false
            }
        }
        let stop = try connection.request("?", timeout: timeout)
        lastStop = StopReply(stop)
        if let actions = try? connection.request("vCont?", timeout: timeout),
           actions.starts(with: Array("vCont".utf8)) {
            vContActions = Set(String(decoding: actions, as: UTF8.self).split(separator: ";").dropFirst().map(String.init))
        }
        if features.supports("qXfer:features:read") {
            let xml = try readFeatureFile("target.xml")
            targetDescription = try TargetDescription(xml: xml) { try self.readFeatureFile($0) }
        }
    }

    /// Whether the first exchange failed because the peer speaks something else: it sent
    /// bytes, and the first is none a stub starts with (`+` ack, `-` nak, `$` packet, `%`
    /// notification). An interruption or a refused packet size says nothing about the peer.
    static func isNotAStub(_ first: [UInt8], _ error: GDBRemoteError) -> Bool {
        guard let byte = first.first else { return false }
        switch error {
        case .interrupted, .packetTooLarge: return false
        default: return !"+-$%".utf8.contains(byte)
        }
    }

    /// Reads a whole `qXfer:features:read` object (e.g. `target.xml`), in pieces that fit.
    public func readFeatureFile(_ name: String) throws -> String {
        var data: [UInt8] = []
        let piece = max(64, connection.maximumOutgoingPacket - 5)
        while true {
            let request = "qXfer:features:read:\(name):\(String(data.count, radix: 16)),\(String(piece, radix: 16))"
            let reply = try checked(request)
            guard let kind = reply.first, kind == UInt8(ascii: "m") || kind == UInt8(ascii: "l") else {
                throw GDBRemoteError.malformedReply(request: request, reply: String(decoding: reply, as: UTF8.self))
            }
            data.append(contentsOf: reply.dropFirst())
            if kind == UInt8(ascii: "l") || reply.count == 1 { break }
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Sends `request` and returns its reply, turning `E NN` into
    /// ``GDBRemoteError/stubError(request:code:)`` and an empty reply into
    /// ``GDBRemoteError/unsupported(request:)``.
    @discardableResult
    public func checked(_ request: String, timeout: Duration? = nil) throws -> [UInt8] {
        try requireStopped(request)
        let reply = try connection.request(request, timeout: timeout ?? requestTimeout)
        if reply.isEmpty { throw GDBRemoteError.unsupported(request: request) }
        if let code = Self.errorCode(reply) { throw GDBRemoteError.stubError(request: request, code: code) }
        return reply
    }

    /// Like ``checked(_:timeout:)`` but the reply must be `OK`.
    public func expectOK(_ request: String) throws {
        let reply = try checked(request)
        guard reply == Array("OK".utf8) else {
            throw GDBRemoteError.malformedReply(request: request, reply: String(decoding: reply, as: UTF8.self))
        }
    }

    /// The `NN` of an `E NN` reply.
    static func errorCode(_ reply: [UInt8]) -> UInt8? {
        guard reply.count == 3, reply[0] == UInt8(ascii: "E"), let v = Hex.number(reply[1...2]) else { return nil }
        return UInt8(v)
    }

    func requireStopped(_ operation: String) throws {
        if isRunning { throw GDBRemoteError.wrongState(operation: operation, expected: "stopped (interrupt it first)") }
    }

    // MARK: Registers

    /// Every register, read with one `g` (plus `p` for registers the `g` reply leaves out;
    /// those the stub refuses are left out of the result).
    public func registers() throws -> RegisterValues {
        let reply = try checked("g")
        guard reply.count % 2 == 0, let bytes = Hex.decode(reply) else {
            throw GDBRemoteError.malformedReply(request: "g", reply: String(decoding: reply.prefix(64), as: UTF8.self))
        }
        var raw: [Int: [UInt8]] = [:]
        var offset = 0
        for reg in targetDescription.registers {
            if offset + reg.byteSize <= bytes.count {
                raw[reg.number] = Array(bytes[offset..<(offset + reg.byteSize)])
                offset += reg.byteSize
            } else if let value = try? readRegister(number: reg.number) {
                raw[reg.number] = value
            }
        }
        return RegisterValues(description: targetDescription, raw: raw)
    }

    /// The raw bytes (target order) of register `name`, read with `p`.
    public func readRegister(named name: String) throws -> [UInt8] {
        guard let reg = targetDescription.register(named: name) else { throw GDBRemoteError.unknownRegister(name: name) }
        return try readRegister(number: reg.number)
    }

    /// The value of register `name` as an integer (little-endian, low 8 bytes), read with `p`.
    public func register(_ name: String) throws -> UInt64 {
        RegisterValues.littleEndian(try readRegister(named: name))
    }

    /// The raw bytes of register number `number`, read with `p`.
    public func readRegister(number: Int) throws -> [UInt8] {
        let request = "p\(String(number, radix: 16))"
        let reply = try checked(request)
        guard let bytes = Hex.decode(reply) else {
            throw GDBRemoteError.malformedReply(request: request, reply: String(decoding: reply, as: UTF8.self))
        }
        return bytes
    }

    /// Writes register `name` with `P` (the value little-endian, sized to the register).
    public func writeRegister(_ name: String, _ value: UInt64) throws {
        guard let reg = targetDescription.register(named: name) else { throw GDBRemoteError.unknownRegister(name: name) }
        var bytes = [UInt8](repeating: 0, count: reg.byteSize)
        for i in 0..<min(8, bytes.count) { bytes[i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
        try writeRegister(number: reg.number, bytes: bytes)
    }

    /// Writes raw bytes (target order) into register number `number` with `P`.
    public func writeRegister(number: Int, bytes: [UInt8]) throws {
        try expectOK("P\(String(number, radix: 16))=\(Hex.string(bytes))")
    }

    /// Writes all registers the `g` packet covers with one `G`, taking values from `values`
    /// (registers it has no value for are written as read now).
    public func writeRegisters(_ values: RegisterValues) throws {
        let current = try checked("g")
        guard var bytes = Hex.decode(current) else {
            throw GDBRemoteError.malformedReply(request: "g", reply: String(decoding: current.prefix(64), as: UTF8.self))
        }
        var offset = 0
        for reg in targetDescription.registers where offset + reg.byteSize <= bytes.count {
            if let v = values.raw[reg.number], v.count == reg.byteSize {
                bytes.replaceSubrange(offset..<(offset + reg.byteSize), with: v)
            }
            offset += reg.byteSize
        }
        try expectOK("G" + Hex.string(bytes))
    }

    // MARK: Monitor commands, detach, kill

    /// Runs a monitor command with `qRcmd` (QEMU: `info registers`, `info mtree`, `xp /4gx 0`)
    /// and returns its output, decoded from the hex `O` packets the stub streams before `OK`.
    public func monitor(_ command: String, timeout: Duration? = nil) throws -> String {
        let request = "qRcmd," + Hex.string(Array(command.utf8))
        try requireStopped(request)
        let wait = timeout ?? requestTimeout
        try connection.send(Array(request.utf8))
        var output: [UInt8] = []
        // The stub streams `O` packets and then `OK`: an abandoned wait would leave an unknown
        // number of them in flight, so this is not interruptible (each packet bounded by `wait`).
        try connection.uninterruptibly {
        while true {
            let reply = try connection.receivePacket(timeout: wait, waitingFor: request)
            if reply == Array("OK".utf8) { break }
            if reply.isEmpty { throw GDBRemoteError.unsupported(request: request) }
            if let code = Self.errorCode(reply) { throw GDBRemoteError.stubError(request: request, code: code) }
            if reply.first == UInt8(ascii: "O"), reply.count > 1, let text = Hex.decode(reply.dropFirst()) {
                output.append(contentsOf: text)
            } else if let text = Hex.decode(reply) {
                // Some stubs answer with the hex output itself, no `O`.
                output.append(contentsOf: text)
                break
            } else {
                throw GDBRemoteError.malformedReply(request: request, reply: String(decoding: reply, as: UTF8.self))
            }
        }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Detaches (`D;1` in multiprocess mode, `D` otherwise): the stub removes our
    /// breakpoints and lets the target run. The connection is closed afterwards.
    public func detach() throws {
        if isRunning { _ = try interrupt() }
        let request = features.supports("multiprocess") ? "D;1" : "D"
        defer { connection.transport.close() }
        try expectOK(request)
    }

    /// Kills the target (`k`; QEMU exits) and closes the connection. The stub sends no reply;
    /// this waits up to `timeout` for it to close its end.
    public func kill(timeout: Duration = .seconds(2)) throws {
        defer { connection.transport.close() }
        try connection.send(Array("k".utf8))
        do {
            while true { _ = try connection.receivePacket(timeout: timeout, waitingFor: "k") }
        } catch GDBRemoteError.connectionClosed {
            return
        } catch GDBRemoteError.timedOut {
            return
        }
    }

    /// Brings the connection back to a known state after a wait was abandoned
    /// (``GDBRemoteError/interrupted(request:)``, a timeout): discards the replies still owed to
    /// abandoned requests (the connection counts them), and, if the target was left running
    /// (a resume whose stop was never read, an interrupt whose stop reply was abandoned), stops
    /// it and reads that one stop reply. No waiting for quiet: what is owed is known exactly.
    /// Not interruptible; each wait is bounded by `timeout`. Afterwards the target is stopped
    /// and requests are matched to their replies again.
    public func resynchronize(timeout: Duration = .seconds(3)) throws {
        try connection.uninterruptibly {
            try connection.discardOwedReplies(timeout: timeout)
            if isRunning { _ = try interrupt(timeout: timeout) }
            try useMemoryMode(physical: false)
        }
    }

    /// Closes the connection without detaching (QEMU leaves the guest as it is).
    public func close() {
        connection.transport.close()
    }
}
