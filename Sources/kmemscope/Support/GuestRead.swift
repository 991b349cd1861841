import KernelLayouts
import KernelSession

extension TargetOptions {
    /// Reads the bundled kernel's state for a view or `verify`: from `--snapshot FILE`
    /// offline, else from the guest — settled at an operation boundary when `settling` is
    /// given, held where it stands otherwise (`info`, `vtop`) — and restored afterwards.
    /// Where the state comes from is said on standard error.
    func read<T>(_ image: ImageOptions, settling: SettleOptions?, _ body: (any GuestView) throws -> T) throws -> T {
        // --snapshot FILE, or the snapshot an offline console (`attach --snapshot`) reads
        var offline = ConsoleSession.active?.snapshot
        if let path = snapshot {
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
        if let qmp, let pid = qemuPid {
            let session = try QMPSession(qmp: qmp, pid: pid, kernel: try image.open())
            defer { session.restore() }
            StandardError.write("read through QMP \(qmp) and QEMU's memory (pid \(pid)), not settled\(session.wasRunning ? "; the guest runs again afterwards" : "")")
            do {
                return try body(session)
            } catch {
                throw SessionError(wrapping: error, address: qmp)
            }
        }
        let session = try attach(image)
        defer { ProgressLine.finish() }
        if let settling { return try session.settledRead(settling) { try body($0) } }
        return try session.read { s in
            // held where it stands (no settle): still say when it is a kernel halted at its BUG
            if let bug = try? s.haltedAtBug() { StandardError.write(bug.summary) }
            return try body(s)
        }
    }

    /// Where `read` takes the state from, for timing lines and reports.
    var origin: String? { (snapshot ?? ConsoleSession.active?.snapshot?.file.path).map { "the snapshot \($0)" } }
}
