import GDBRemote

extension GuestSession {
    /// Sets a breakpoint this session owns: `restore()` removes it on every exit path.
    /// Counted as set once the request is sent (an abandoned wait does not stop the stub from
    /// inserting it), so every exit path removes it.
    public func addBreakpoint(at address: UInt64) throws {
        let added = breakpoints.insert(address).inserted
        do {
            try target.setBreakpoint(at: address)
        } catch GDBRemoteError.interrupted(let request) {
            throw GDBRemoteError.interrupted(request: request)
        } catch {
            if added { breakpoints.remove(address) }
            throw error
        }
    }

    /// Removes a breakpoint set with ``addBreakpoint(at:)`` (the guest must be stopped).
    public func removeBreakpoint(at address: UInt64) throws {
        guard breakpoints.remove(address) != nil else { return }
        try target.removeBreakpoint(at: address)
    }

    /// The `request` of the ``GDBRemoteError/timedOut(request:after:)`` that
    /// ``runUntilStop(limit:)`` throws when `limit` passes with no stop (the guest ran the whole
    /// time: nothing is wrong with the stub), so callers can say what did not happen instead.
    public static let runTimeoutRequest = "a stop"

    /// Lets the guest run until it stops (a breakpoint), waiting in short slices so Ctrl-C,
    /// SIGTERM or SIGHUP stop the guest again and end the wait with `.interrupted`, and giving
    /// up after `limit` (the guest is stopped again: `GDBRemoteError.timedOut`).
    ///
    /// A kernel halted at its own BUG is not run: ``SessionError/haltedAtBug(_:)`` at once. A
    /// kernel that reaches one while running stops there (a breakpoint at `kmem_bug_halt`,
    /// when the kernel publishes `BUG_HALT`) and the same error follows, so no caller waits
    /// out `limit` for a stop that cannot come.
    @discardableResult
    public func runUntilStop(limit: Duration) throws -> StopReply {
        if let bug = try haltedAtBug() { throw SessionError.haltedAtBug(bug) }
        let halt = info["BUG_HALT"] != nil ? try? info.number("BUG_HALT") : nil
        if let halt { try addBreakpoint(at: halt) }
        let reply: StopReply
        do {
            reply = try target.runUntilStop(limit: limit)
        } catch {
            if let halt { try? removeBreakpoint(at: halt) }
            throw error
        }
        if let halt {
            try removeBreakpoint(at: halt)
            if let bug = try haltedAtBug() { throw SessionError.haltedAtBug(bug) }
        }
        return reply
    }
}

extension RemoteTarget {
    /// ``GuestSession/runUntilStop(limit:)`` on a bare target (also used before the kernel
    /// has booted, when there is no session yet).
    @discardableResult
    func runUntilStop(limit: Duration) throws -> StopReply {
        let target = self
        try target.resume()
        let deadline = ContinuousClock.now + limit
        while true {
            do {
                return try target.waitForStop(timeout: .milliseconds(200))
            } catch GDBRemoteError.interrupted {
                _ = try? target.interrupt()
                throw SessionError.interrupted(signal: InterruptSignals.pending)
            } catch GDBRemoteError.timedOut {
                if InterruptSignals.isPending {
                    _ = try? target.interrupt()
                    throw SessionError.interrupted(signal: InterruptSignals.pending)
                }
                if ContinuousClock.now >= deadline {
                    _ = try target.interrupt()
                    throw GDBRemoteError.timedOut(request: GuestSession.runTimeoutRequest, after: limit)
                }
            }
        }
    }
}
