/// Run control: resume, step, interrupt, wait for a stop, and breakpoints/watchpoints.
extension RemoteTarget {
    /// Lets the target run (`vCont;c` when the stub lists it, `c` otherwise) and returns at
    /// once. End the run with ``waitForStop(timeout:)`` or ``interrupt(timeout:)``.
    public func resume() throws {
        try requireStopped("resume")
        // If that step lands on another breakpoint, QEMU reports it again as soon as we continue.
        _ = try stepOverCodeBreakpoint()
        resumeRequest = vContActions.contains("c") ? "vCont;c" : "c"
        try connection.send(Array(resumeRequest.utf8))
        isRunning = true
    }

    /// Resumes the threads `request` names, each with its action (`vCont;c:p01.02;c:p01.04`),
    /// and returns at once. On QEMU the threads it does not name stay stopped, and the next
    /// stop (a breakpoint on any resumed thread, an interrupt) stops them all again. End the
    /// run with ``waitForStop(timeout:)`` or ``interrupt(timeout:)``.
    ///
    /// A named thread that continues from one of this target's code breakpoints first steps
    /// over it alone (`vCont;s:THREAD`, the breakpoint lifted for that instruction), as
    /// ``resume()`` does for the stopped thread: QEMU would report the breakpoint again at once.
    /// Looking at the threads' PCs selects them (`Hg`): select the thread you read next.
    ///
    /// - Throws: ``GDBRemoteError/unsupported(request:)`` when the stub's `vCont?` does not list
    ///   every action the request uses (nothing is sent then).
    public func resume(_ request: VContRequest) throws {
        try requireStopped("resume")
        guard request.letters.isSubset(of: vContActions) else { throw GDBRemoteError.unsupported(request: request.packet) }
        for a in request.actions {
            guard let thread = a.thread else { continue }
            switch a.action {
            case .continue, .continueWithSignal: _ = try stepOverCodeBreakpoint(thread: thread)
            case .step, .stepWithSignal: break
            }
        }
        resumeRequest = request.packet
        try connection.send(Array(request.packet.utf8))
        isRunning = true
    }

    /// When the PC is at a code breakpoint this target inserted, removes it, executes one
    /// instruction and inserts it again; returns that step's stop reply, or nil when there
    /// was nothing to step over. The PC is the register the description types `code_ptr`.
    /// `thread`: that thread's PC, stepped alone (it is selected with `Hg`); nil: the
    /// selected thread's, stepped as the last stop's thread.
    func stepOverCodeBreakpoint(thread: String? = nil) throws -> StopReply? {
        guard !codeBreakpoints.isEmpty,
              let pc = targetDescription.registers.first(where: { $0.type == "code_ptr" }) else { return nil }
        if let thread { try selectThread(thread) }
        let address = try register(pc.name)
        guard let here = codeBreakpoints[address] else { return nil }
        for b in here { try expectOK(Self.breakpointPacket("z", b.kind, address, b.length)) }
        let stop = try singleStep(timeout: requestTimeout, thread: thread)
        for b in here { try expectOK(Self.breakpointPacket("Z", b.kind, address, b.length)) }
        return stop
    }

    static func breakpointPacket(_ op: String, _ kind: BreakpointKind, _ address: UInt64, _ length: Int) -> String {
        "\(op)\(kind.rawValue),\(String(address, radix: 16)),\(String(length, radix: 16))"
    }

    /// Waits until the running target stops and returns why.
    ///
    /// - Throws: ``GDBRemoteError/timedOut(request:after:)`` if it is still running after
    ///   `timeout` (it keeps running: ``interrupt(timeout:)`` stops it), and
    ///   ``GDBRemoteError/targetExited(status:bySignal:)`` if the process ended.
    @discardableResult
    public func waitForStop(timeout: Duration) throws -> StopReply {
        guard isRunning else { throw GDBRemoteError.wrongState(operation: "wait for a stop", expected: "running") }
        let deadline = ContinuousClock.now + timeout
        while true {
            let left = ContinuousClock.now.duration(to: deadline)
            let packet: [UInt8]
            do {
                packet = try connection.receivePacket(timeout: max(left, .zero), waitingFor: "stop reply")
            } catch GDBRemoteError.timedOut {
                throw GDBRemoteError.timedOut(request: "stop reply", after: timeout)
            }
            if packet.first == UInt8(ascii: "O"), packet.count > 1, let text = Hex.decode(packet.dropFirst()) {
                consoleOutput.append(contentsOf: text)
                continue
            }
            if packet == Array("OK".utf8) { continue }
            // The stub refused the resume itself (QEMU: E22 for a vCont naming no thread it
            // has, an empty packet for an action it lacks): nothing runs.
            if packet.isEmpty || Self.errorCode(packet) != nil {
                isRunning = false
                if let code = Self.errorCode(packet) { throw GDBRemoteError.stubError(request: resumeRequest, code: code) }
                throw GDBRemoteError.unsupported(request: resumeRequest)
            }
            guard let stop = StopReply(packet) else {
                throw GDBRemoteError.malformedReply(request: "stop reply", reply: String(decoding: packet, as: UTF8.self))
            }
            isRunning = false
            lastStop = stop
            switch stop.kind {
            case .exited(let status): throw GDBRemoteError.targetExited(status: status, bySignal: false)
            case .terminated(let signal): throw GDBRemoteError.targetExited(status: signal, bySignal: true)
            case .signal: return stop
            }
        }
    }

    /// Resumes and waits for the next stop (a breakpoint, a watchpoint, an exit…).
    ///
    /// - Throws: ``GDBRemoteError/timedOut(request:after:)`` if nothing stops it within
    ///   `timeout`; the target is then still running.
    @discardableResult
    public func continueUntilStop(timeout: Duration) throws -> StopReply {
        try resume()
        return try waitForStop(timeout: timeout)
    }

    /// Resumes the threads `request` names (``resume(_:)``) and waits for the next stop.
    ///
    /// - Throws: ``GDBRemoteError/timedOut(request:after:)`` if nothing stops it within
    ///   `timeout`; the threads resumed are then still running.
    @discardableResult
    public func continueUntilStop(_ request: VContRequest, timeout: Duration) throws -> StopReply {
        try resume(request)
        return try waitForStop(timeout: timeout)
    }

    /// Executes one instruction (`vCont;s:THREAD` when available, `s` otherwise) and returns
    /// the stop reply.
    @discardableResult
    public func step(timeout: Duration = .seconds(5)) throws -> StopReply {
        try requireStopped("step")
        if let stop = try stepOverCodeBreakpoint() { return stop }
        return try singleStep(timeout: timeout)
    }

    func singleStep(timeout: Duration, thread: String? = nil) throws -> StopReply {
        let request: String
        if vContActions.contains("s") {
            request = (thread ?? lastStop?.thread).map { "vCont;s:\($0)" } ?? "vCont;s"
        } else if let thread {
            throw GDBRemoteError.unsupported(request: "vCont;s:\(thread)")   // `s` steps the stub's choice, not this thread
        } else {
            request = "s"
        }
        resumeRequest = request
        try connection.send(Array(request.utf8))
        isRunning = true
        return try waitForStop(timeout: timeout)
    }

    /// Stops a running target by sending the interrupt byte (0x03) and returns its stop reply
    /// (QEMU: `T02…`, SIGINT).
    ///
    /// Not interruptible by ``PacketConnection/shouldStop`` (it is what a caller does *because*
    /// it was asked to stop), only bounded by `timeout`. Exactly one stop reply ends it: if the
    /// target had stopped by itself meanwhile (a breakpoint) or an earlier interrupt's wait was
    /// abandoned, the stub ignores this 0x03 (it is not running) and the reply it already sent
    /// is the one read here.
    @discardableResult
    public func interrupt(timeout: Duration = .seconds(5)) throws -> StopReply {
        guard isRunning else { throw GDBRemoteError.wrongState(operation: "interrupt", expected: "running") }
        return try connection.uninterruptibly {
            try connection.sendRaw([0x03])
            return try waitForStop(timeout: timeout)
        }
    }

    /// Inserts a breakpoint or watchpoint (`Z0`…`Z4`) at `address`. `length` is the
    /// breakpoint kind for `Z0`/`Z1` (1 on x86) or the watched length for `Z2`–`Z4`.
    ///
    /// - Throws: ``GDBRemoteError/unsupported(request:)`` if the stub does not offer that kind,
    ///   ``GDBRemoteError/stubError(request:code:)`` if it refuses (e.g. out of debug registers).
    ///
    /// A wait abandoned with ``GDBRemoteError/interrupted(request:)`` still counts the
    /// breakpoint as inserted: the request was sent and the stub carries it out.
    public func setBreakpoint(at address: UInt64, kind: BreakpointKind = .software, length: Int = 1) throws {
        let code = kind.rawValue <= 1
        if code { codeBreakpoints[address, default: []].append((kind, length)) }
        do {
            try expectOK(Self.breakpointPacket("Z", kind, address, length))
        } catch GDBRemoteError.interrupted(let request) {
            throw GDBRemoteError.interrupted(request: request)
        } catch {
            if code { forgetCodeBreakpoint(at: address, kind: kind, length: length) }
            throw error
        }
    }

    /// Removes a breakpoint or watchpoint set with ``setBreakpoint(at:kind:length:)``. It is
    /// forgotten before the request goes out: once sent (even if the wait is abandoned) the
    /// stub removes it, and a refusal means the stub did not have it.
    public func removeBreakpoint(at address: UInt64, kind: BreakpointKind = .software, length: Int = 1) throws {
        forgetCodeBreakpoint(at: address, kind: kind, length: length)
        try expectOK(Self.breakpointPacket("z", kind, address, length))
    }

    private func forgetCodeBreakpoint(at address: UInt64, kind: BreakpointKind, length: Int) {
        guard let index = codeBreakpoints[address]?.firstIndex(where: { $0.kind == kind && $0.length == length }) else { return }
        codeBreakpoints[address]?.remove(at: index)
        if codeBreakpoints[address]?.isEmpty == true { codeBreakpoints[address] = nil }
    }

    /// Inserts a watchpoint on `length` bytes at `address` (`Z2` write, `Z3` read, `Z4` access).
    public func setWatchpoint(at address: UInt64, length: Int, kind: BreakpointKind = .writeWatchpoint) throws {
        precondition(kind.rawValue >= 2, "use setBreakpoint for breakpoints")
        try setBreakpoint(at: address, kind: kind, length: length)
    }

    /// Removes a watchpoint set with ``setWatchpoint(at:length:kind:)``.
    public func removeWatchpoint(at address: UInt64, length: Int, kind: BreakpointKind = .writeWatchpoint) throws {
        try removeBreakpoint(at: address, kind: kind, length: length)
    }
}
