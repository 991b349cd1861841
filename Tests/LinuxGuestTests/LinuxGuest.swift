import Foundation
import Glibc
import GDBRemote
import QEMULauncher

/// A booted Debian kernel for a test: `scripts/linux-guest.sh prepare` fetches it (once, into
/// the cache), the project's one launcher (`QEMULauncher`) boots it with the script's options;
/// this waits for the serial markers, hands out the guest's own printouts, and always kills
/// QEMU (``stop()``, also from `deinit`).
final class LinuxGuest: @unchecked Sendable {
    /// What `linux-guest.sh prepare` produced: the kernel and the initramfs in the cache.
    struct Preparation: Sendable {
        var kernelPackage: String
        var vmlinuz: String
        var initrd: String
        /// Seconds `prepare` took (a download on the first run, a cache hit afterwards).
        var seconds: Double
    }

    enum GuestError: Error, CustomStringConvertible {
        case scriptFailed(String, status: Int32, output: String)
        case notReady(seconds: Double, serialTail: String)
        case missingSection(String)

        var description: String {
            switch self {
            case .scriptFailed(let what, let status, let output):
                return "scripts/linux-guest.sh \(what) exited \(status): \(output)"
            case .notReady(let seconds, let tail):
                return "the guest printed no '@@kmemscope ready' within \(Int(seconds)) s; serial ends with:\n\(tail)"
            case .missingSection(let name):
                return "the guest's serial output has no complete '@@kmemscope \(name) begin/end' section"
            }
        }
    }

    static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()
    static var script: String { repositoryRoot + "/scripts/linux-guest.sh" }

    /// `prepare` of Debian's current kernel (6.1), run once per test process: the download
    /// happens here on a fresh machine.
    static var preparation: Result<Preparation, GuestError> { preparation(version: nil) }

    nonisolated(unsafe) private static var prepared: [String: Result<Preparation, GuestError>] = [:]
    private static let preparing = NSLock()

    /// `prepare` of `version` (`KMEMSCOPE_LINUX_VERSION`: nil or "6.1", "6.1-rt", "6.12"), once
    /// per test process and version.
    static func preparation(version: String?) -> Result<Preparation, GuestError> {
        preparing.lock()
        defer { preparing.unlock() }
        let key = version ?? "6.1"
        if let done = prepared[key] { return done }
        let start = Date()
        let (status, output) = run(["-c", "KMEMSCOPE_LINUX_VERSION=\"$1\" exec \"$0\" prepare", script, key])
        let result: Result<Preparation, GuestError>
        if status == 0 {
            let values = keyValues(output)
            result = .success(Preparation(kernelPackage: values["KERNEL_PACKAGE"] ?? "?",
                                          vmlinuz: values["VMLINUZ"] ?? "", initrd: values["INITRD"] ?? "",
                                          seconds: Date().timeIntervalSince(start)))
        } else {
            result = .failure(.scriptFailed("prepare (\(key))", status: status, output: output))
        }
        prepared[key] = result
        return result
    }

    /// Whether the kernel and the initramfs could be fetched (the tests skip, saying why, if not).
    static var isAvailable: Bool {
        if case .success = preparation { return true }
        return false
    }

    let directory: String
    let qemu: QEMUProcess
    var pid: pid_t { qemu.pid }
    let socketPath: String
    let serialPath: String
    /// Seconds from starting QEMU to the `ready` marker (set by ``ready(timeout:)``).
    private(set) var bootSeconds: Double = 0
    private let started = Date()
    private var stopped = false

    /// The ``GuestStates`` key of this guest's configuration.
    let stateKey: String
    /// The serial output up to `ready` of the boot this guest was restored from (nil: booted).
    let savedSerial: String?
    /// Whether this guest was restored from a saved state rather than booted.
    var restored: Bool { savedSerial != nil }
    var monitorPath: String { directory + "/monitor.sock" }

    private init(directory: String, qemu: QEMUProcess, stateKey: String, savedSerial: String?) {
        self.directory = directory
        self.qemu = qemu
        self.stateKey = stateKey
        self.savedSerial = savedSerial
        socketPath = directory + "/gdb.sock"
        serialPath = qemu.serialPath
    }

    deinit { stop() }

    /// Boots the guest as `linux-guest.sh boot` does (the same QEMU options; 512M unless
    /// `KMEMSCOPE_LINUX_MEM` says otherwise), through the launcher; with `kaslr`, the kernel
    /// image is placed at a random offset (`kaslr` instead of `nokaslr` on its command line).
    /// `cpus` gives the guest that many CPUs (`-smp`); `busy` keeps its page and slab
    /// allocators busy on every CPU after `ready` (`kmemscope.busy`: tmpfs writes and deletes).
    /// `version` picks the kernel as ``preparation(version:)`` does.
    /// With `numaNodes: 2`, two NUMA nodes of 512M each, one CPU each (the flags of FACTS.md).
    /// `append` adds to the kernel command line (e.g. `slub_debug=FZP`).
    static func boot(kaslr: Bool = false, cpus: Int = 1, busy: Bool = false, version: String? = nil, numaNodes: Int = 1,
                     append: String = "") throws -> LinuxGuest {
        let prepared: Preparation
        switch preparation(version: version) {
        case .failure(let error): throw error
        case .success(let p): prepared = p
        }
        var template = Array("/tmp/kmemscope-linux-XXXXXX".utf8CString)
        guard let p = mkdtemp(&template) else { throw GuestError.scriptFailed("mkdtemp", status: errno, output: "") }
        let directory = String(cString: p)
        var memory = try MemorySize(parsing: ProcessInfo.processInfo.environment["KMEMSCOPE_LINUX_MEM"] ?? "512M")
        var numa: [String] = []
        if numaNodes > 1 {
            memory = try MemorySize(parsing: "\(512 * numaNodes)M")
            numa = ["-smp", "\(numaNodes)"]
            for n in 0..<numaNodes {
                numa += ["-object", "memory-backend-ram,id=m\(n),size=512M", "-numa", "node,nodeid=\(n),cpus=\(n),memdev=m\(n)"]
            }
        }
        let commandLine = "console=ttyS0 \(kaslr ? "kaslr" : "nokaslr") quiet panic=-1" + (busy ? " kmemscope.busy" : "") + (append.isEmpty ? "" : " " + append)
        let options = ["-initrd", prepared.initrd, "-device", "vmcoreinfo"] + (numa.isEmpty ? ["-smp", String(cpus)] : numa)
        // booted once per machine, restored from then on (GuestStates)
        let key = GuestStates.key(files: [prepared.vmlinuz, prepared.initrd], options: ["\(memory)", commandLine] + options)
        let saved = GuestStates.saved(key)
        var configuration = QEMUConfiguration(kernel: prepared.vmlinuz, memory: memory, append: commandLine,
                                              gdb: .unix(directory + "/gdb.sock"), serialFile: directory + "/serial.log",
                                              monitorSocket: directory + "/monitor.sock", noDefaults: true, extraArguments: options)
        if let saved { configuration.extraArguments += ["-incoming", "exec:cat '\(saved.state)'"] }
        let qemu = try QEMUProcess.launch(configuration, runDirectory: directory)
        qemu.removesDirectoryOnStop = true
        watchdog(qemu: qemu.pid, directory: directory, owner: getpid())
        return LinuxGuest(directory: directory, qemu: qemu, stateKey: key, savedSerial: saved?.serial)
    }

    /// Kills QEMU `qemu` (SIGTERM, then SIGKILL after 3 s) once process `owner` is gone: a test
    /// process that crashes or is killed runs no `defer` and no `deinit`, and QEMU, in a session of
    /// its own, would run on. A shell in its own session polls every second; it touches `qemu`
    /// only while that pid's command line still names `directory` (never a reused pid), and ends
    /// when QEMU does.
    static func watchdog(qemu: pid_t, directory: String, owner: pid_t) {
        let script = """
            mine() { tr '\\0' ' ' < /proc/$1/cmdline 2>/dev/null | grep -qF -- "$2"; }
            while kill -0 "$0" 2>/dev/null && mine "$1" "$2"; do sleep 1; done
            mine "$1" "$2" || exit 0
            kill -TERM "$1" 2>/dev/null; sleep 3
            mine "$1" "$2" && kill -KILL "$1" 2>/dev/null
            exit 0
            """
        // the outer shell starts the watcher in the background and exits at once (reaped here):
        // the watcher is init's child, never a zombie of the test process
        let outer = spawnDetached(["sh", "-c", "setsid sh -c \"$0\" \"$@\" &", script, String(owner), String(qemu), directory])
        var status: Int32 = 0
        if outer > 0 { while waitpid(outer, &status, 0) == -1 && errno == EINTR {} }
    }

    /// Starts `argv` with no descriptors but /dev/null; its pid (0 on failure).
    static func spawnDetached(_ argv: [String]) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for fd in Int32(0)...2 { posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0) }
        var cArgs = argv.map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) } }
        var pid: pid_t = 0
        return posix_spawnp(&pid, argv[0], &actions, nil, &cArgs, environ) == 0 ? pid : 0
    }

    /// What the guest printed: for a restored guest, the saved boot's output up to `ready`
    /// followed by what it printed since the restore (the serial file holds only the latter).
    var serial: String {
        (savedSerial ?? "") + ((try? Data(contentsOf: URL(fileURLWithPath: serialPath))).map { String(decoding: $0, as: UTF8.self) } ?? "")
    }

    /// Polls the serial log for `@@kmemscope ready` (the guest then idles); the wait holds no
    /// thread (``GuestPool``'s boots run beside other tests). A booted guest is then saved
    /// (``GuestStates``); a restored one is ready once its state is loaded and it runs.
    func ready(timeout: Double = 240) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        if restored {
            if try await GuestStates.resume(monitor: monitorPath, until: deadline) {
                bootSeconds = Date().timeIntervalSince(started)
                return
            }
            if let status = qemu.status { throw QEMULaunchError.exited(status: status, log: qemu.log) }
            throw GuestError.notReady(seconds: timeout, serialTail: "(restored from \(GuestStates.directory)/\(stateKey).state: not running; `KMEMSCOPE_LINUX_RESTORE=0` boots instead)")
        }
        while Date() < deadline {
            let text = serial
            if text.contains("@@kmemscope ready") {
                bootSeconds = Date().timeIntervalSince(started)
                GuestStates.save(stateKey, monitor: monitorPath, serial: text)
                return
            }
            if let status = qemu.status { throw QEMULaunchError.exited(status: status, log: qemu.log) }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw GuestError.notReady(seconds: timeout, serialTail: String(serial.suffix(800)))
    }

    /// The text between `@@kmemscope NAME begin` and `@@kmemscope NAME end` (the last such section).
    func section(_ name: String) throws -> String {
        let text = serial.replacingOccurrences(of: "\r\n", with: "\n")
        guard let begin = text.range(of: "@@kmemscope \(name) begin\n", options: .backwards),
              let end = text.range(of: "@@kmemscope \(name) end", range: begin.upperBound..<text.endIndex)
        else { throw GuestError.missingSection(name) }
        return String(text[begin.upperBound..<end.lowerBound])
    }

    /// Writes the named serial sections (the kallsyms lines by default) to one symbol file and
    /// returns what points kmemscope at this guest: `--kernel linux --symbols FILE --target unix:SOCKET`.
    func kmemscopeArguments(sections: [String] = ["kallsyms"]) throws -> [String] {
        // one file per set of sections: tests sharing the guest (GuestPool) may ask for others
        let symbolFile = directory + "/" + sections.joined(separator: "+")
        try sections.map { try section($0) }.joined(separator: "\n").write(toFile: symbolFile, atomically: true, encoding: .utf8)
        return ["--kernel", "linux", "--symbols", symbolFile, "--target", "unix:" + socketPath]
    }

    /// Writes a little-endian word of guest memory through a connection of the test's own
    /// (connecting stops a running guest; closing leaves it stopped).
    func writeU64(at address: UInt64, _ value: UInt64) throws {
        let target = try connect()
        defer { target.close() }
        try target.writeMemory(at: address, bytes: (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) })
    }

    /// Reads a little-endian word of guest memory as ``writeU64(at:_:)`` writes it.
    func readU64(at address: UInt64) throws -> UInt64 {
        let target = try connect()
        defer { target.close() }
        return try target.readMemory(at: address, count: 8).enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
    }

    /// Connects to the gdbstub (which halts the guest). QEMU binds the socket a moment before
    /// it listens, so a refused connect is retried for a few seconds.
    func connect() throws -> RemoteTarget {
        var lastError: Error = GDBRemoteError.connectionRefused(address: "unix:" + socketPath)
        for _ in 0..<50 {
            do { return try RemoteTarget.connect(to: .unix(socketPath), timeout: .seconds(10)) }
            catch { lastError = error; usleep(100_000) }
        }
        throw lastError
    }

    /// SIGTERM, wait up to 3 s, SIGKILL; removes the run directory.
    func stop() {
        guard !stopped else { return }
        stopped = true
        qemu.stop()
    }

    private static func keyValues(_ output: String) -> [String: String] {
        var values: [String: String] = [:]
        for line in output.split(separator: "\n") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            values[String(line[..<eq])] = String(line[line.index(after: eq)...])
        }
        return values
    }

    /// Runs `bash ARGUMENTS`, returns its exit status and combined output. posix_spawn and
    /// waitpid, not Foundation's Process: Process learns of the exit through a descriptor the
    /// child inherits, and the daemonized QEMU keeps it open, so Process would wait forever.
    /// The output goes through a file for the same reason.
    static func run(_ arguments: [String]) -> (Int32, String) {
        let outputPath = NSTemporaryDirectory() + "kmemscope-linux-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).out"
        defer { unlink(outputPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ["bash"] + arguments
        var cArgs = argv.map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, "bash", &actions, nil, &cArgs, environ)
        guard rc == 0 else { return (-1, "posix_spawn bash: errno \(rc)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let text = (try? Data(contentsOf: URL(fileURLWithPath: outputPath))).map { String(decoding: $0, as: UTF8.self) } ?? ""
        // WIFEXITED/WEXITSTATUS are macros Swift cannot import.
        let exited = status & 0x7f == 0
        return (exited ? (status >> 8) & 0xff : 128 + (status & 0x7f), text)
    }
}
