import GDBRemote
import KernelSession

/// The Linux `attach` console's one connection to the guest, shared by every line typed in it,
/// as ``ConsoleSession`` is for the bundled kernel: a line run in its ``CommandContext`` makes
/// ``LinuxAttach`` read through it instead of connecting. It keeps the guest's run state: a guest that runs
/// (found running, or after `continue`) is stopped for a command, read at a settled point and
/// runs again after it; `stop` leaves it stopped. `quit` puts it back as it was found on attach
/// (or as `--resume`/`--leave-stopped` say). When the stub goes away the session is dropped and
/// `reconnect` attaches again, to the same `--target`, checking the kernel again.
final class LinuxConsoleSession {
    let profile: KernelProfileOptions
    let stub: TargetOptions
    /// The `--target` the console attaches to (a line's options name the same one).
    var target: String { stub.target }
    /// The attached session; nil after the stub went away until `reconnect`.
    private var session: StubSession?
    /// The kernel the last attach found: its banner's first words (`Linux version 6.1.0-…`).
    private(set) var kernel = ""
    /// Set when a command stopped a running guest: it runs again after the command.
    private var resumeAfterCommand = false

    init(profile: KernelProfileOptions, stub: TargetOptions) {
        self.profile = profile
        self.stub = stub
    }

    /// Attaches (again): the guest stops (how it was found is remembered) and the kernel is
    /// checked as every view checks it (``LinuxAttach/identify(_:_:_:)``: the banner where the
    /// symbol map says, BTF, the layouts). If the check fails the guest is put back and the
    /// console stays unattached.
    func connect() throws {
        let address: RemoteAddress
        do { address = try RemoteAddress.parse(stub.target) } catch { throw SessionError.badAddress(error) }
        let fresh = try StubSession.attach(to: address, timeout: .seconds(stub.timeout), policy: stub.policy)
        fresh.keepsAttached = true
        do {
            kernel = try LinuxAttach.identify(fresh, profile, stub)
        } catch {
            fresh.restore()
            throw error
        }
        session = fresh
    }

    /// Forgets the session (closing what is left of the connection; a live guest is put back
    /// first, as at `quit`). `reconnect` runs this, then ``connect()``.
    func drop() {
        session?.restore()
        session = nil
        resumeAfterCommand = false
    }

    /// The session, attached (else `.other`, one line).
    private func attached() throws(SessionError) -> StubSession {
        guard let session, !session.isRestored else {
            throw .other("not attached (the stub went away): `reconnect` to attach again, or `quit`")
        }
        return session
    }

    /// Whether the guest was running when the console last attached (attaching stopped it).
    var foundRunning: Bool { session?.found == .running }

    /// Whether the guest runs now.
    var isRunning: Bool { session.map { !$0.isRestored && $0.target.isRunning } ?? false }

    /// For a command: the session with the guest stopped, and whether the guest may be run on
    /// to settle it (it ran before this command, which then lets it run again in ``commandEnded()``).
    func heldGuest() throws(SessionError) -> (session: StubSession, mayRun: Bool) {
        if try stopGuest() { resumeAfterCommand = true }
        return (try attached(), resumeAfterCommand)
    }

    /// After a command: lets a guest that ran before it run again.
    func commandEnded() {
        defer { resumeAfterCommand = false }
        guard resumeAfterCommand, let session, !session.isRestored, !session.target.isRunning else { return }
        try? session.target.resume()
    }

    /// Whether ``commandEnded()`` will let the guest run again.
    var resumesAfterCommand: Bool { resumeAfterCommand && session.map { !$0.isRestored } ?? false }

    /// `continue`: the guest runs until `stop`, a view (which stops it while it reads) or `quit`.
    func resume() throws(SessionError) -> String {
        let s = try attached()
        if s.target.isRunning { return "the guest is already running (`stop` stops it)" }
        do { try s.target.resume() } catch { throw SessionError(wrapping: error, address: s.address.description) }
        return "the guest runs (`stop` stops it; views stop it while they read)"
    }

    /// `stop`'s first half: stops a running guest (the settle is the caller's); whether it ran.
    func stopGuest() throws(SessionError) -> Bool {
        let s = try attached()
        guard s.target.isRunning else { return false }
        do { try s.target.interrupt() } catch { throw SessionError(wrapping: error, address: s.address.description) }
        return true
    }

    /// Detaches: the guest goes back as it was found (or as `--resume`/`--leave-stopped` say).
    /// Returns the sentence that says what happened to it.
    func detach() -> String {
        guard let session, !session.isRestored else { return "not attached" }
        self.session = nil
        return session.policy.detach(session.target, found: session.found, restore: session.restore)
    }
}
