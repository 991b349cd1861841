import Foundation
import Glibc
import GDBRemote

/// The one helper that boots QEMU for a test and always kills it.
///
/// `qemu-system-x86_64 -S -display none -m 64M -gdb … -pidfile F` with no kernel: the CPU
/// sits at the reset vector (CS:IP = F000:FFF0, real mode, paging off, so virtual ==
/// physical) and SeaBIOS runs if continued. Each instance gets its own port (the kernel picks a
/// free one by binding port 0; if QEMU still loses a race for it, it exits and we retry with
/// another), so tests can run in parallel. Every wait is bounded. ``stop()`` sends SIGTERM,
/// waits up to 3 s, then SIGKILL; `deinit` calls it too, so a failing test cannot leak QEMU.
final class QEMUInstance: @unchecked Sendable {
    enum Endpoint { case tcp4, tcp6, unix }

    let pid: pid_t
    let address: RemoteAddress
    let directory: String
    private var stopped = false
    private let lock = NSLock()

    private init(pid: pid_t, address: RemoteAddress, directory: String) {
        self.pid = pid
        self.address = address
        self.directory = directory
    }

    deinit { stop() }

    static func launch(_ endpoint: Endpoint = .tcp4, memory: String = "64M", halted: Bool = true,
                       extra: [String] = []) throws -> QEMUInstance {
        var lastError = "no attempt"
        for _ in 0..<5 {
            let directory = try makeTemporaryDirectory()
            let address: RemoteAddress
            var args = ["qemu-system-x86_64", "-nodefaults", "-no-user-config", "-display", "none",
                        "-m", memory, "-pidfile", directory + "/qemu.pid"]
            if halted { args.append("-S") }
            switch endpoint {
            case .tcp4:
                let port = try freePort(ipv6: false)
                address = .tcp("127.0.0.1", port)
                args += ["-gdb", "tcp:127.0.0.1:\(port)"]
            case .tcp6:
                let port = try freePort(ipv6: true)
                address = .tcp("::1", port)
                // `-gdb tcp:[::1]:PORT` fails to resolve in QEMU 7.2; an explicit chardev works.
                args += ["-chardev", "socket,id=g,host=::1,port=\(port),server=on,wait=off,ipv6=on",
                         "-gdb", "chardev:g"]
            case .unix:
                let path = directory + "/gdb.sock"
                address = .unix(path)
                args += ["-chardev", "socket,id=g,path=\(path),server=on,wait=off", "-gdb", "chardev:g"]
            }
            args += extra
            let pid = try spawn(args, log: directory + "/qemu.log")
            let instance = QEMUInstance(pid: pid, address: address, directory: directory)
            if instance.waitUntilListening(timeout: 10) { return instance }
            lastError = (try? String(contentsOfFile: directory + "/qemu.log", encoding: .utf8)) ?? "?"
            instance.stop()
        }
        throw QEMUError.failedToStart(lastError)
    }

    enum QEMUError: Error { case failedToStart(String), spawnFailed(Int32) }

    /// True once the gdb socket listens. Polls /proc/net (what `ss -ltn` reads) rather than
    /// connecting, since any connection to QEMU's gdbstub stops the guest.
    private func waitUntilListening(timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if !isAlive { return false }
            switch address {
            case .tcp(let host, let port):
                let file = host.contains(":") ? "/proc/net/tcp6" : "/proc/net/tcp"
                let hexPort = String(format: ":%04X", Int(port))
                if let text = try? String(contentsOfFile: file, encoding: .utf8) {
                    for line in text.split(separator: "\n").dropFirst() {
                        let cols = line.split(separator: " ")
                        if cols.count > 3, cols[1].hasSuffix(hexPort), cols[3] == "0A" { return true }
                    }
                }
            case .unix(let path):
                if let text = try? String(contentsOfFile: "/proc/net/unix", encoding: .utf8),
                   text.split(separator: "\n").contains(where: { $0.hasSuffix(" " + path) && $0.contains(" 00010000 ") }) {
                    return true
                }
            }
            usleep(20_000)
        }
        return false
    }

    /// Whether the QEMU process still runs (reaps it if it exited).
    var isAlive: Bool {
        lock.lock(); defer { lock.unlock() }
        if stopped { return false }
        var status: Int32 = 0
        let r = waitpid(pid, &status, WNOHANG)
        if r == pid { stopped = true; return false }
        return r == 0
    }

    /// Waits up to `timeout` seconds for QEMU to exit by itself; true if it did.
    func waitForExit(timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if !isAlive { return true }
            usleep(10_000)
        }
        return false
    }

    /// SIGKILL now (to make the stub vanish under a client).
    func killHard() {
        lock.lock(); defer { lock.unlock() }
        if !stopped { Glibc.kill(pid, SIGKILL) }
    }

    /// SIGTERM, wait up to 3 s, SIGKILL, reap; removes the temporary directory.
    func stop() {
        if isAlive {
            Glibc.kill(pid, SIGTERM)
            if !waitForExit(timeout: 3) {
                Glibc.kill(pid, SIGKILL)
                _ = waitForExit(timeout: 3)
            }
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Connects a client, with short timeouts so a broken test fails fast.
    func connect() throws -> RemoteTarget {
        try RemoteTarget.connect(to: address, timeout: .seconds(5))
    }

    private static func makeTemporaryDirectory() throws -> String {
        var template = Array("/tmp/gdbremote-test-XXXXXX".utf8CString)
        guard let p = mkdtemp(&template) else { throw QEMUError.spawnFailed(errno) }
        return String(cString: p)
    }

    static func freePort(ipv6: Bool) throws -> UInt16 {
        let fd = socket(ipv6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw QEMUError.spawnFailed(errno) }
        defer { close(fd) }
        if ipv6 {
            var sa = sockaddr_in6()
            sa.sin6_family = sa_family_t(AF_INET6)
            sa.sin6_addr = in6addr_loopback
            var len = socklen_t(MemoryLayout<sockaddr_in6>.size)
            try withUnsafeMutablePointer(to: &sa) { p in
                try p.withMemoryRebound(to: sockaddr.self, capacity: 1) { s in
                    guard bind(fd, s, len) == 0, getsockname(fd, s, &len) == 0 else { throw QEMUError.spawnFailed(errno) }
                }
            }
            return UInt16(bigEndian: sa.sin6_port)
        } else {
            var sa = sockaddr_in()
            sa.sin_family = sa_family_t(AF_INET)
            sa.sin_addr.s_addr = inet_addr("127.0.0.1")
            var len = socklen_t(MemoryLayout<sockaddr_in>.size)
            try withUnsafeMutablePointer(to: &sa) { p in
                try p.withMemoryRebound(to: sockaddr.self, capacity: 1) { s in
                    guard bind(fd, s, len) == 0, getsockname(fd, s, &len) == 0 else { throw QEMUError.spawnFailed(errno) }
                }
            }
            return UInt16(bigEndian: sa.sin_port)
        }
    }

    private static func spawn(_ args: [String], log: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var cArgs = args.map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, args[0], &actions, nil, &cArgs, environ)
        guard rc == 0 else { throw QEMUError.spawnFailed(rc) }
        return pid
    }
}
