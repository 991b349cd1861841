import GDBRemote
import KernelSession

/// The `attach` console's one connection to the guest, shared by every command typed in it.
///
/// One-shot commands reach it through the ``CommandContext`` the console runs them in:
/// ``GuestSource/attach()`` returns this session (stopped) instead of connecting, so every
/// command runs the same code in the console and from the shell. A guest that was running (after
/// `continue`) is stopped for the command and runs again after it. The guest goes back as it
/// was found (or as `--resume`/`--leave-stopped` say) when the console quits.
final class ConsoleSession {
    let image: ImageOptions
    let stub: TargetOptions
    /// The attached session; nil after the stub went away until `reconnect`, and offline.
    private(set) var guest: GuestSession?
    /// Offline (`attach --snapshot FILE`): the snapshot every view reads; no run control.
    private(set) var snapshot: SnapshotSession?
    /// A guest started stopped (`boot --stopped`, QEMU -S) whose kernel has not booted yet: held
    /// until run control runs it into the kernel and ``adoptBooted()`` makes ``guest``.
    private(set) var unbooted: UnbootedGuest?
    /// Set when a command stopped a running guest: it runs again after the command.
    private var resumeAfterCommand = false

    init(image: ImageOptions, stub: TargetOptions) {
        self.image = image
        self.stub = stub
    }

    /// Attaches (again): reads and checks the descriptor; the guest stays stopped. Offline,
    /// opens and checks the snapshot instead.
    func connect() throws(SessionError) {
        if let path = stub.snapshot {
            snapshot = try SnapshotSession(path: path, kernel: try image.open())
            return
        }
        switch try stub.connectAllowingUnbooted(image) {
        case .booted(let session):
            session.keepsAttached = true
            guest = session
        case .unbooted(let waiting):
            unbooted = waiting
        }
    }

    /// What a command that reads the kernel is told before the kernel has booted.
    static let notBootedYet = "the kernel has not booted yet (the guest was started stopped, QEMU -S): `continue`, `until SEQ` or `next-checkpoint` runs it"

    /// Once the kernel has published its descriptor (the guest stopped): the session, which
    /// replaces the unbooted guest. Nil while it has not booted.
    func adoptBooted() throws(SessionError) -> GuestSession? {
        guard let waiting = unbooted else { return guest }
        if waiting.target.isRunning {
            do { try waiting.target.interrupt() } catch { throw SessionError(wrapping: error, address: waiting.address.description) }
        }
        let booted: GuestSession?
        do {
            booted = try waiting.booted()
        } catch {
            unbooted = nil   // put back by the failed adoption
            throw error
        }
        guard let booted else { return nil }
        unbooted = nil
        booted.keepsAttached = true
        try stub.prepare(booted)
        guest = booted
        return booted
    }

    /// The session for a command, with the guest stopped.
    ///
    /// - Throws: `.other` when the stub went away (say `reconnect`), a lost connection.
    func stoppedGuest(resumeAfter: Bool) throws(SessionError) -> GuestSession {
        if let snapshot {
            throw .other("this console reads the snapshot \(snapshot.file.path) offline: there is no guest to run, stop or read live (attach --target ADDRESS for one)")
        }
        if let waiting = unbooted {
            resumeAfterCommand = resumeAfterCommand || (resumeAfter && waiting.target.isRunning)
            if let booted = try adoptBooted() { return booted }
            throw .other(Self.notBootedYet)
        }
        guard let guest, !guest.isRestored else {
            throw .other("not attached (the stub went away): `reconnect` to attach again, or `quit`")
        }
        if guest.target.isRunning {
            do {
                try guest.target.interrupt()
            } catch {
                throw SessionError(wrapping: error, address: guest.address.description)
            }
            resumeAfterCommand = resumeAfterCommand || resumeAfter
        }
        return guest
    }

    /// After a command: lets a guest that ran before it run again.
    func commandEnded() {
        defer { resumeAfterCommand = false }
        if resumeAfterCommand, let waiting = unbooted, !waiting.isRestored, !waiting.target.isRunning {
            try? waiting.target.resume()
            return
        }
        guard resumeAfterCommand, let guest, !guest.isRestored, !guest.target.isRunning else { return }
        try? guest.target.resume()
    }

    /// Whether ``commandEnded()`` will let the guest run again (a command stopped a running guest).
    var resumesAfterCommand: Bool { resumeAfterCommand && isAttached }

    private var isAttached: Bool { guest.map { !$0.isRestored } ?? unbooted.map { !$0.isRestored } ?? false }

    /// Whether the guest is running now.
    var isRunning: Bool {
        if let waiting = unbooted { return !waiting.isRestored && waiting.target.isRunning }
        return guest.map { !$0.isRestored && $0.target.isRunning } ?? false
    }

    /// Whether `error` means the stub is gone (closed, reset, silent): then the session is
    /// dropped and the console offers to reconnect.
    static func isLost(_ error: any Error) -> Bool {
        let remote: GDBRemoteError
        switch error {
        case SessionError.stub(_, let e): remote = e
        case let e as GDBRemoteError: remote = e
        default: return false
        }
        switch remote {
        case .connectionClosed, .io, .timedOut, .noAnswer, .targetExited: return true
        default: return false
        }
    }

    /// Forgets a session whose stub went away (closing what is left of the connection).
    func drop() {
        guest?.restore()
        guest = nil
        unbooted?.restore()
        unbooted = nil
    }

    /// Detaches: the guest goes back as it was found (or as `--resume`/`--leave-stopped` say).
    /// Returns the sentence that says what happened to it.
    func detach() -> String {
        if let snapshot { return "closed the snapshot \(snapshot.file.path)" }
        if let waiting = unbooted, !waiting.isRestored {
            unbooted = nil
            return waiting.policy.detach(waiting.target, found: waiting.found, restore: waiting.restore)
        }
        guard let guest, !guest.isRestored else { return "not attached" }
        self.guest = nil
        return guest.policy.detach(guest.target, found: guest.found, restore: guest.restore)
    }
}
