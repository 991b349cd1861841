import GDBRemote
import KernelSession

/// The Linux `attach` console's one connection to the guest, shared by every line typed in it,
/// as ``ConsoleSession`` is for the bundled kernel: a line run in its ``CommandContext`` makes
/// ``LinuxAttach`` read through it instead of connecting. It keeps the guest's run state: a guest that runs
/// (found running, or after `continue`) is stopped for a command, read at a settled point and
/// runs again after it; `stop` leaves it stopped. `quit` puts it back as it was found on attach
/// (or as `--resume`/`--leave-stopped` say).
final class LinuxConsoleSession {
    /// The `--target` the console attached to (a line's options name the same one).
    let target: String
    private var session: StubSession?

    private init(target: String, session: StubSession) {
        self.target = target
        self.session = session
    }

    /// Attaches (the guest stops; how it was found is remembered).
    static func attach(_ stub: TargetOptions) throws(SessionError) -> LinuxConsoleSession {
        let address: RemoteAddress
        do { address = try RemoteAddress.parse(stub.target) } catch { throw SessionError.badAddress(error) }
        let session = try StubSession.attach(to: address, timeout: .seconds(stub.timeout), policy: stub.policy)
        session.keepsAttached = true
        return LinuxConsoleSession(target: stub.target, session: session)
    }

    /// The session, attached (else `.other`, one line).
    private func attached() throws(SessionError) -> StubSession {
        guard let session, !session.isRestored else {
            throw .other("not attached (the stub went away): `quit`, and attach again")
        }
        return session
    }

    /// Whether the guest was running when the console attached (attaching stopped it).
    var foundRunning: Bool { session?.found == .running }

    /// Whether the guest runs now.
    var isRunning: Bool { session.map { !$0.isRestored && $0.target.isRunning } ?? false }

    /// For a command: the session with the guest stopped, and whether it ran before (the
    /// command then lets it run again with ``runAgain()``).
    func heldGuest() throws(SessionError) -> (StubSession, wasRunning: Bool) {
        let ran = try stopGuest()
        return (try attached(), ran)
    }

    /// After a command that stopped a running guest: it runs again.
    func runAgain() {
        guard let session, !session.isRestored, !session.target.isRunning else { return }
        try? session.target.resume()
    }

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
        // QEMU stops a running guest at any byte it receives: stop it first, then decide
        if session.target.isRunning { _ = try? session.target.interrupt() }
        let runs = session.policy.resumes(found: session.found)
        session.restore()
        self.session = nil
        return session.policy.detachSentence(runs: runs)
    }
}
