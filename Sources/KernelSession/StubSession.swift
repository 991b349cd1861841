import GDBRemote
import KernelLayouts

/// An attachment to any guest through its stub, with no knowledge of the kernel inside:
/// connect, note whether the guest was running, read, and put it back as it was found. The
/// Linux profile uses it as it is; ``GuestSession`` is built on it (its ``GuestSession/connection``)
/// and adds the bundled kernel's descriptor, build-id check and settling: connecting, the held
/// read, the breakpoints left to remove and the restore are this class's, once.
public final class StubSession {
    public let address: RemoteAddress
    public let target: RemoteTarget
    /// Guest memory through the stub (kernel virtual addresses).
    public let stubMemory: StubMemory
    /// Guest memory as the session reads it: the stub, or a faster source ``use(_:probe:)`` chose.
    public internal(set) var memory: any GuestMemory
    /// The source ``memory`` reads from.
    public internal(set) var memorySource: MemorySource = .stub
    public let found: RunState
    public let policy: RestorePolicy
    public private(set) var isRestored = false
    /// Set when a request was abandoned, so replies may still be in flight.
    var needsResynchronizing = false
    /// Breakpoints inserted through this connection and not removed yet (the bundled kernel's
    /// settle and run control); removed when a held read fails and when the guest is put back.
    var breakpoints: Set<UInt64> = []
    /// When true, ``read(_:)`` keeps the guest attached (and stopped) afterwards instead of
    /// restoring it: an `attach` console runs many commands on one session and restores the
    /// guest once, when it quits. After a failed read the stub is resynchronised at once.
    public var keepsAttached = false

    init(address: RemoteAddress, target: RemoteTarget, found: RunState, policy: RestorePolicy) {
        self.address = address
        self.target = target
        stubMemory = StubMemory(target: target)
        memory = stubMemory
        self.found = found
        self.policy = policy
    }

    /// How long a stub may stay silent after accepting the connection before it is taken to
    /// be held by another debugger (QEMU answers within milliseconds).
    public static let greetingTimeout: Duration = .seconds(3)

    /// Connects to the stub at `address` (which stops the guest) and notes how it was found.
    /// - Throws: ``SessionError`` `.connect` or `.interrupted`.
    public static func attach(to address: RemoteAddress, timeout: Duration = .seconds(10),
                              policy: RestorePolicy = .asFound) throws(SessionError) -> StubSession {
        let (target, found) = try connect(to: address, timeout: timeout, policy: policy)
        return StubSession(address: address, target: target, found: found, policy: policy)
    }

    /// The connection every session starts with: signals held (so SIGINT/SIGTERM end waits
    /// instead of the process), the stub connected, requests bounded by `timeout` and
    /// abandoned on a pending signal, and whether the guest was running (QEMU's unsolicited
    /// stop reply). The caller puts the target back with ``putBack(_:resume:resynchronize:breakpoints:)``.
    /// When `policy` will resume the guest, ``GuestGuard`` is armed until then.
    static func connect(to address: RemoteAddress, timeout: Duration,
                        policy: RestorePolicy) throws(SessionError) -> (RemoteTarget, RunState) {
        InterruptSignals.setHolding(true)
        let target: RemoteTarget
        do {
            target = try RemoteTarget.connect(to: address, timeout: timeout, greeting: greetingTimeout)
        } catch {
            InterruptSignals.setHolding(false)
            if InterruptSignals.isPending { throw .interrupted(signal: InterruptSignals.pending) }
            throw .connect(address: address.description, error as? GDBRemoteError ?? .io(operation: "connect", errno: 0, reason: "\(error)"))
        }
        target.requestTimeout = timeout
        target.forgetMemoryMode()   // a client that died mid physical read may have left QEMU in that mode
        target.connection.shouldStop = { InterruptSignals.isPending }
        let found: RunState = target.unsolicitedStop != nil ? .running : .stopped
        if policy.resumes(found: found) { GuestGuard.arm(target) }
        return (target, found)
    }

    /// Runs `body` with the guest held, then restores it, on every path; errors become the
    /// ``SessionError`` that names them (others pass through as `.other`), and a signal that
    /// arrived meanwhile becomes `.interrupted` even if `body` finished.
    public func read<T>(_ body: (StubSession) throws -> T) throws(SessionError) -> T {
        defer { if !keepsAttached { restore() } }
        guard !isRestored else { throw .other("the session has already restored the guest: attach again to read it") }
        do {
            let value = try body(self)
            if InterruptSignals.isPending { throw GDBRemoteError.interrupted(request: "read") }
            return value
        } catch {
            needsResynchronizing = true
            if keepsAttached {
                // the next command starts from a stopped stub in step with us, with none of
                // this command's breakpoints left in the guest
                target.connection.uninterruptibly {
                    try? target.resynchronize()
                    for address in breakpoints {
                        breakpoints.remove(address)
                        try? target.removeBreakpoint(at: address)
                    }
                }
                needsResynchronizing = false
            }
            // a read that failed while a signal was pending failed because of it (a body that
            // swallows read errors, as the KASLR search does, would otherwise report a wrong cause)
            throw SessionError(wrapping: InterruptSignals.isPending ? GDBRemoteError.interrupted(request: "read") : error,
                               address: address.description)
        }
    }

    /// Puts the guest back: removes this session's breakpoints, then detaches (the guest runs)
    /// or just disconnects (QEMU leaves it stopped), as ``policy`` says for how it was
    /// ``found``. Safe to call more than once; never throws (the connection may be gone).
    public func restore() {
        guard !isRestored else { return }
        isRestored = true
        Self.putBack(target, resume: policy.resumes(found: found), resynchronize: needsResynchronizing, breakpoints: breakpoints)
        breakpoints = []
    }

    /// Puts the guest back stopped whatever the policy says (a stub that failed a request
    /// before any session was made of it: the guest's state is not known).
    func restoreStopped() {
        guard !isRestored else { return }
        isRestored = true
        Self.putBack(target, resume: false, resynchronize: true, breakpoints: breakpoints)
        breakpoints = []
    }

    /// Removes `breakpoints`, then detaches (`resume`) or disconnects leaving the guest stopped.
    static func putBack(_ target: RemoteTarget, resume: Bool, resynchronize: Bool, breakpoints: Set<UInt64>) {
        GuestGuard.disarm(target)
        target.connection.shouldStop = nil
        if resynchronize || target.connection.unansweredRequests > 0 || target.isRunning { try? target.resynchronize() }
        for address in breakpoints { try? target.removeBreakpoint(at: address) }
        if resume {
            do { try target.detach() } catch { target.close() }
        } else {
            if target.isRunning { _ = try? target.interrupt() }
            target.close()
        }
        InterruptSignals.setHolding(false)
    }

    deinit { restore() }
}
