import Glibc

/// A `monitor kms …` command's child process: the kmemscope command line the proxy's
/// ``MonitorCommand`` built, run with its standard output and error in one pipe that the
/// proxy's loop reads without blocking, and killed if it outlives its deadline.
///
/// A child, not a call inside the proxy: whatever the command does (a trap, a hang), gdb's
/// session through the proxy survives it.
final class MonitorProcess {
    let pid: pid_t
    /// The read end of the child's stdout+stderr pipe (-1 once it reached end of file).
    private(set) var fd: Int32
    let deadline: ContinuousClock.Instant
    /// Output not yet sent to the client.
    var pending: [UInt8] = []

    /// Starts `executable` with `arguments`.
    init(executable: String, arguments: [String], timeout: Duration) throws(MonitorError) {
        var pipeFDs: [Int32] = [0, 0]
        guard pipe(&pipeFDs) == 0 else { throw MonitorError.spawn(String(cString: strerror(errno))) }
        _ = fcntl(pipeFDs[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(pipeFDs[1], F_SETFD, FD_CLOEXEC)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, pipeFDs[1], 1)
        posix_spawn_file_actions_adddup2(&actions, pipeFDs[1], 2)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let rc = posix_spawn(&child, executable, &actions, nil, argv, environ)
        close(pipeFDs[1])
        guard rc == 0 else {
            close(pipeFDs[0])
            throw MonitorError.spawn("\(executable): \(String(cString: strerror(rc)))")
        }
        _ = fcntl(pipeFDs[0], F_SETFL, fcntl(pipeFDs[0], F_GETFL) | O_NONBLOCK)
        pid = child
        fd = pipeFDs[0]
        deadline = .now + timeout
    }

    /// Reads what the child wrote; returns false at end of file.
    func drain() -> Bool {
        guard fd >= 0 else { return false }
        var buffer = [UInt8](repeating: 0, count: 4096)
        for _ in 0..<256 {
            let n = read(fd, &buffer, buffer.count)
            if n > 0 { pending += buffer[0..<n]; continue }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return true }
            close(fd)
            fd = -1
            return false
        }
        return true
    }

    /// Waits for the child (it closed its output, so it is exiting) and returns its status.
    func reap() -> Int32 {
        var status: Int32 = 0
        for _ in 0..<100 {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f) }
            if r < 0 { return -1 }
            usleep(20_000)
        }
        kill(pid, SIGKILL)
        _ = waitpid(pid, &status, 0)
        return 128 + SIGKILL
    }

    /// Kills the child (deadline passed, or the client left) and reaps it.
    func terminate() {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        for _ in 0..<50 where waitpid(pid, &status, WNOHANG) == 0 { usleep(20_000) }
        if waitpid(pid, &status, WNOHANG) == 0 { kill(pid, SIGKILL); _ = waitpid(pid, &status, 0) }
        if fd >= 0 { close(fd); fd = -1 }
    }
}

/// Why a `monitor kms` command could not run.
enum MonitorError: Error {
    case spawn(String)
}

/// How the proxy turns `monitor kms ARGS` into a command line: provided by the kmemscope CLI
/// (it knows its own executable and which options each subcommand takes).
public struct MonitorCommand: Sendable {
    /// The executable to run and its arguments, for the words after `kms` and the address the
    /// child must connect to (the proxy itself). Returns an error text for gdb instead when
    /// the words are not a command.
    public var commandLine: @Sendable (_ words: [String], _ proxy: String) -> Result<(String, [String]), MonitorUsage>
    /// How long the command may run before it is killed.
    public var timeout: Duration

    public init(timeout: Duration = .seconds(120),
                commandLine: @escaping @Sendable ([String], String) -> Result<(String, [String]), MonitorUsage>) {
        self.commandLine = commandLine
        self.timeout = timeout
    }
}

/// Text to show in gdb instead of running a `monitor kms` command (help, a usage error).
public struct MonitorUsage: Error, Sendable {
    public let text: String
    public init(_ text: String) { self.text = text }
}
