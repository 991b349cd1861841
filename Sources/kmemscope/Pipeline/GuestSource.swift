import KernelLayouts
import KernelSession

/// The pipeline's source for the bundled kernel: where a command reads the kernel's state
/// from — `--snapshot FILE` (or the snapshot an offline console reads), QEMU's memory through
/// `--qmp`, or the live guest (the console's session, or one attached for the command) — and
/// the layer that wraps the body: the session held, settled at an operation boundary when
/// asked, the progress line, the notes on standard error, and the guest put back.
struct GuestSource {
    let image: ImageOptions
    let stub: TargetOptions
    let context: CommandContext

    init(_ image: ImageOptions, _ stub: TargetOptions, in context: CommandContext) {
        self.image = image
        self.stub = stub
        self.context = context
    }

    /// Reads the bundled kernel's state for a view or `verify`: from `--snapshot FILE`
    /// offline, else from the guest — settled at an operation boundary when `settling` is
    /// given, held where it stands otherwise (`info`, `vtop`) — and restored afterwards.
    /// Where the state comes from is said on standard error.
    func read<T>(settling: SettleOptions?, _ body: (any GuestView) throws -> T) throws -> T {
        // --snapshot FILE, or the snapshot an offline console (`attach --snapshot`) reads
        var offline = context.console?.snapshot
        if let path = stub.snapshot {
            let opened = try SnapshotSession(path: path, kernel: try image.open())
            StandardError.write(opened.note)
            if let bug = (try? opened.haltedAtBug()) ?? nil {
                StandardError.write("the snapshot \(path) is a " + bug.summary.replacingOccurrences(of: " The guest cannot run on: it stays halted.", with: ""))
            }
            offline = opened
        }
        if let session = offline {
            let path = session.file.path
            do {
                return try body(session)
            } catch {
                throw SessionError(wrapping: error, address: path)
            }
        }
        if let qmp = stub.qmp, let pid = stub.qemuPid {
            let session = try QMPSession(qmp: qmp, pid: pid, kernel: try image.open())
            defer { session.restore() }
            StandardError.write("read through QMP \(qmp) and QEMU's memory (pid \(pid)), not settled\(session.wasRunning ? "; the guest runs again afterwards" : "")")
            do {
                return try body(session)
            } catch {
                throw SessionError(wrapping: error, address: qmp)
            }
        }
        let session = try attach()
        defer { ProgressLine.finish() }
        if let settling { return try settledRead(session, settling) { s, _ in try body(s) } }
        return try session.read { s in
            // held where it stands (no settle): still say when it is a kernel halted at its BUG
            if let bug = try? s.haltedAtBug() { StandardError.write(bug.summary) }
            return try body(s)
        }
    }

    /// Where ``read(settling:_:)`` takes the state from, for timing lines and reports: the
    /// snapshot's path, nil for a live guest.
    var origin: String? { (stub.snapshot ?? context.console?.snapshot?.file.path).map { "the snapshot \($0)" } }

    /// The live guest, stopped while the command looks: inside the `attach` console its
    /// session (the connection options of the console line are not used), else a session
    /// attached for the command with the memory source the options name.
    func attach() throws(SessionError) -> GuestSession {
        if let console = context.console { return try console.stoppedGuest(resumeAfter: true) }
        return try stub.connect(image)
    }

    /// Settles `session` to an operation boundary, runs `body`, restores the guest, and
    /// prints the warnings and where it stopped (`stopped at sequence N, between operations`)
    /// on standard error. In a console the user stopped the guest: finishing an operation is
    /// theirs to allow, so a stopped guest is run to the boundary as with `--settle`.
    func settledRead<T>(_ session: GuestSession, _ options: SettleOptions,
                        _ body: (GuestSession, SettlePoint) throws -> T) throws(SessionError) -> T {
        var point: SettlePoint?
        let value: T
        do {
            value = try session.read { s in
                let settled = try s.settle(runStoppedGuest: options.settle || context.console != nil)
                point = settled
                return try body(s, settled)
            }
        } catch {
            ProgressLine.finish()
            session.warnings.forEach(StandardError.write)
            throw error
        }
        ProgressLine.finish()
        session.warnings.forEach(StandardError.write)
        if let point { StandardError.write(point.text) }
        return value
    }
}
