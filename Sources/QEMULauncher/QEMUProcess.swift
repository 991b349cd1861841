import Foundation
import Glibc

/// One QEMU process started from a ``QEMUConfiguration``: its pid, run directory (pidfile,
/// serial file, QEMU's own stderr in `qemu.log`), and the means to wait for it and to end it.
///
/// QEMU is started with `posix_spawn` (the argv as it is, no shell), in its own session (a
/// Ctrl-C at the terminal does not reach it), with standard input from `/dev/null`, standard
/// output and error into `qemu.log`, and no other descriptor inherited: a caller that reads a
/// pipe to its end is never held open by QEMU. Foundation's `Process` is not used: it learns of
/// a child's exit through a descriptor the child inherits, so its `waitUntilExit` hangs when
/// the child (or a daemon it forks) keeps that descriptor.
///
/// ``stop()`` sends SIGTERM, waits up to 3 s, then SIGKILL, and reaps; `deinit` calls it, so
/// an owner that fails cannot leak QEMU. ``release()`` hands QEMU over to outlive this process
/// (`kmemscope boot`).
public final class QEMUProcess: @unchecked Sendable {
    /// QEMU's process id.
    public let pid: pid_t
    /// The directory holding `qemu.pid`, `qemu.log` and (by default) `serial.txt`.
    public let runDirectory: String
    /// What was started.
    public let configuration: QEMUConfiguration
    /// The serial port's file.
    public let serialPath: String
    /// When it was started.
    public let started: ContinuousClock.Instant
    /// Whether ``stop()`` removes ``runDirectory`` (true when the launcher created it).
    public var removesDirectoryOnStop: Bool

    private let lock = NSLock()
    private var exitStatus: QEMUExitStatus?
    private var released = false

    /// QEMU's own standard output and error.
    public var logPath: String { runDirectory + "/qemu.log" }
    /// The pidfile QEMU writes.
    public var pidFile: String { runDirectory + "/qemu.pid" }

    private init(pid: pid_t, runDirectory: String, configuration: QEMUConfiguration, removesDirectory: Bool) {
        self.pid = pid
        self.runDirectory = runDirectory
        self.configuration = configuration
        serialPath = configuration.serialPath(runDirectory: runDirectory)
        removesDirectoryOnStop = removesDirectory
        started = .now
    }

    deinit {
        if !released { stop() }
    }

    /// Starts QEMU.
    ///
    /// - Parameter runDirectory: where the pidfile, log and serial file go; nil creates a fresh
    ///   `/tmp/kmemscope-qemu-XXXXXX` that ``stop()`` removes.
    /// - Throws: ``QEMULaunchError``: no kernel file, no QEMU on `PATH`, the directory or the
    ///   spawn failed. QEMU failing after it started shows up in the waits (`.exited` with its stderr).
    public static func launch(_ configuration: QEMUConfiguration, runDirectory: String? = nil) throws(QEMULaunchError) -> QEMUProcess {
        if let kernel = configuration.kernel, !FileManager.default.fileExists(atPath: kernel) { throw .noKernel(kernel) }
        guard let executable = findExecutable(configuration.executable) else { throw .noQEMU(configuration.executable) }
        let directory: String
        let created: Bool
        if let runDirectory {
            do {
                try FileManager.default.createDirectory(atPath: runDirectory, withIntermediateDirectories: true)
            } catch {
                throw .directory(runDirectory, errno: EACCES)
            }
            directory = runDirectory
            created = false
        } else {
            var template = Array("/tmp/kmemscope-qemu-XXXXXX".utf8CString)
            guard let p = mkdtemp(&template) else { throw .directory("/tmp/kmemscope-qemu-XXXXXX", errno: errno) }
            directory = String(cString: p)
            created = true
        }
        var argv = configuration.arguments(runDirectory: directory)
        argv[0] = executable
        let pid = try spawn(argv, output: directory + "/qemu.log")
        return QEMUProcess(pid: pid, runDirectory: directory, configuration: configuration, removesDirectory: created)
    }

    /// `name` itself when it contains a slash, else the first executable of that name on `PATH`.
    static func findExecutable(_ name: String) -> String? {
        if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") where !directory.isEmpty {
            let candidate = "\(directory)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    /// posix_spawn in a new session; 0 ← /dev/null, 1 and 2 → `output`, every other descriptor closed.
    static func spawn(_ argv: [String], output: String) throws(QEMULaunchError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        closeInheritedDescriptors(&actions)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // A fresh session, default signal dispositions and an empty mask (the caller may block SIGINT).
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in [SIGINT, SIGTERM, SIGHUP, SIGPIPE] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(posixSpawnSetSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var cArgs = argv.map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, argv[0], &actions, &attributes, &cArgs, environ)
        guard rc == 0 else { throw .spawnFailed(argv[0], errno: rc) }
        return pid
    }

    /// glibc's `POSIX_SPAWN_SETSID` (spawn.h hides it behind `_GNU_SOURCE`, which Swift's Glibc module does not define).
    static let posixSpawnSetSID: Int32 = 0x80

    /// Closes every descriptor above 2 in the child: glibc's `posix_spawn_file_actions_addclosefrom_np`
    /// (2.34+, hidden behind `_GNU_SOURCE`, so looked up by name), else one close per open descriptor.
    static func closeInheritedDescriptors(_ actions: inout posix_spawn_file_actions_t) {
        typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") {
            _ = unsafeBitCast(symbol, to: CloseFrom.self)(&actions, 3)
            return
        }
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        for fd in open.compactMap(Int32.init) where fd > 2 && fcntl(fd, F_GETFD) & FD_CLOEXEC == 0 {
            posix_spawn_file_actions_addclose(&actions, fd)
        }
    }

    // MARK: - State

    /// How QEMU ended, or nil while it runs (reaps it when it has ended).
    public var status: QEMUExitStatus? {
        lock.lock(); defer { lock.unlock() }
        if let exitStatus { return exitStatus }
        var raw: Int32 = 0
        let r = waitpid(pid, &raw, WNOHANG)
        if r == pid {
            // WIFEXITED/WEXITSTATUS are macros Swift cannot import.
            exitStatus = raw & 0x7f == 0 ? .exited((raw >> 8) & 0xff) : .signaled(raw & 0x7f)
        } else if r == -1 && errno == ECHILD {
            // not our child (or reaped elsewhere): ask the kernel whether the pid still exists
            if Glibc.kill(pid, 0) != 0 { exitStatus = .signaled(0) }
        }
        return exitStatus
    }

    /// True while QEMU runs.
    public var isRunning: Bool { status == nil }

    /// What QEMU wrote on its standard output and error.
    public var log: String {
        (try? Data(contentsOf: URL(fileURLWithPath: logPath))).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    /// Everything on the serial port so far.
    public var serial: String {
        (try? Data(contentsOf: URL(fileURLWithPath: serialPath))).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    // MARK: - Ending

    /// Waits up to `timeout` seconds for QEMU to end by itself; its status, or nil if it still runs.
    @discardableResult
    public func waitForExit(timeout: Double) -> QEMUExitStatus? {
        let deadline = ContinuousClock.now + .milliseconds(Int(timeout * 1000))
        while true {
            if let s = status { return s }
            if ContinuousClock.now >= deadline { return nil }
            usleep(10_000)
        }
    }

    /// SIGKILL at once (a test that wants the stub to vanish under a client).
    public func kill() {
        if isRunning { Glibc.kill(pid, SIGKILL) }
    }

    /// SIGTERM, up to 3 s, SIGKILL, reap; removes the run directory if the launcher made it.
    /// Safe to call more than once.
    public func stop() {
        if isRunning {
            Glibc.kill(pid, SIGTERM)
            if waitForExit(timeout: 3) == nil {
                Glibc.kill(pid, SIGKILL)
                waitForExit(timeout: 5)
            }
        }
        if removesDirectoryOnStop { try? FileManager.default.removeItem(atPath: runDirectory) }
    }

    /// Lets QEMU outlive this object and this process (it runs in its own session; init
    /// reaps it): `deinit` no longer stops it.
    public func release() {
        lock.lock(); released = true; lock.unlock()
    }
}
