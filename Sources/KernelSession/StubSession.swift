import GDBRemote
import KernelLayouts

/// An attachment to any guest through its stub, with no knowledge of the kernel inside:
/// connect, note whether the guest was running, read, and put it back as it was found. The
/// Linux profile uses it; ``GuestSession`` adds the bundled kernel's descriptor, build-id
/// check and settling on top of the same rules (the same ``GuestSession/putBack`` runs at the
/// end of both).
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
    var needsResynchronizing = false
    /// When true, ``read(_:)`` keeps the guest attached (and stopped) afterwards instead of
    /// restoring it: the Linux `attach` console runs many commands on one session and restores
    /// the guest once, when it quits. After a failed read the stub is resynchronised at once.
    public var keepsAttached = false

    init(address: RemoteAddress, target: RemoteTarget, found: RunState, policy: RestorePolicy) {
        self.address = address
        self.target = target
        stubMemory = StubMemory(target: target)
        memory = stubMemory
        self.found = found
        self.policy = policy
    }

    /// Connects to the stub at `address` (which stops the guest) and notes how it was found.
    /// - Throws: ``SessionError`` `.connect` or `.interrupted`.
    public static func attach(to address: RemoteAddress, timeout: Duration = .seconds(10),
                              policy: RestorePolicy = .asFound) throws(SessionError) -> StubSession {
        let (target, found) = try connect(to: address, timeout: timeout, policy: policy)
        return StubSession(address: address, target: target, found: found, policy: policy)
    }

    /// The connection both sessions start with: signals held (so SIGINT/SIGTERM end waits
    /// instead of the process), the stub connected, requests bounded by `timeout` and
    /// abandoned on a pending signal, and whether the guest was running (QEMU's unsolicited
    /// stop reply). The caller puts the target back with ``GuestSession/putBack``.
    /// When `policy` will resume the guest, ``GuestGuard`` is armed until ``GuestSession/putBack``.
    static func connect(to address: RemoteAddress, timeout: Duration,
                        policy: RestorePolicy) throws(SessionError) -> (RemoteTarget, RunState) {
        InterruptSignals.setHolding(true)
        let target: RemoteTarget
        do {
            target = try RemoteTarget.connect(to: address, timeout: timeout, greeting: GuestSession.greetingTimeout)
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
    /// ``SessionError`` that names them (others pass through as `.other`).
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
                // the next command starts from a stopped stub in step with us
                target.connection.uninterruptibly { try? target.resynchronize() }
                needsResynchronizing = false
            }
            // a read that failed while a signal was pending failed because of it (a body that
            // swallows read errors, as the KASLR search does, would otherwise report a wrong cause)
            throw SessionError(wrapping: InterruptSignals.isPending ? GDBRemoteError.interrupted(request: "read") : error,
                               address: address.description)
        }
    }

    /// Puts the guest back as ``policy`` says for how it was ``found``. Safe to call twice.
    public func restore() {
        guard !isRestored else { return }
        isRestored = true
        GuestSession.putBack(target, resume: policy.resumes(found: found), resynchronize: needsResynchronizing, breakpoints: [])
    }

    deinit { restore() }
}
