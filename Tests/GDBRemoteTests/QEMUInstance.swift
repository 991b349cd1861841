import Foundation
import Glibc
import GDBRemote
import QEMULauncher

/// QEMU with no kernel for the GDB remote tests, started through the project's one launcher
/// (`QEMULauncher`): the CPU sits at the reset vector (CS:IP = F000:FFF0, real mode, paging
/// off, so virtual == physical) and SeaBIOS runs if continued. Each instance gets its own port
/// (a free one at the moment; if QEMU still loses a race for it, it exits and we retry with
/// another), so tests can run in parallel. ``stop()`` — also from `deinit` — always kills QEMU.
final class QEMUInstance: @unchecked Sendable {
    enum Endpoint { case tcp4, tcp6, unix }

    let process: QEMUProcess
    let address: RemoteAddress

    var pid: pid_t { process.pid }
    var directory: String { process.runDirectory }

    private init(process: QEMUProcess, address: RemoteAddress) {
        self.process = process
        self.address = address
    }

    static func launch(_ endpoint: Endpoint = .tcp4, memory: String = "64M", halted: Bool = true,
                       extra: [String] = []) throws -> QEMUInstance {
        var lastError: Error = QEMULaunchError.badEndpoint("-", reason: "no attempt")
        for _ in 0..<5 {
            let gdb: GDBEndpoint
            var socketDirectory: String?
            switch endpoint {
            case .tcp4: gdb = .tcp(host: "127.0.0.1", port: try QEMUProcess.freePort())
            case .tcp6: gdb = .tcp(host: "::1", port: try QEMUProcess.freePort(ipv6: true))
            case .unix:
                var template = Array("/tmp/gdbremote-test-XXXXXX".utf8CString)
                socketDirectory = mkdtemp(&template).map { String(cString: $0) }
                gdb = .unix((socketDirectory ?? "/tmp") + "/gdb.sock")
            }
            let configuration = QEMUConfiguration(kernel: nil, memory: try MemorySize(parsing: memory), gdb: gdb,
                                                  startStopped: halted, noDefaults: true, extraArguments: extra)
            let process = try QEMUProcess.launch(configuration, runDirectory: socketDirectory)
            process.removesDirectoryOnStop = true
            let address: RemoteAddress
            switch gdb {
            case .unix(let path): address = .unix(path)
            case .tcp(let host, let port): address = .tcp(host, port)
            }
            do {
                try process.waitUntilListening(timeout: 10)
                return QEMUInstance(process: process, address: address)
            } catch {
                lastError = error
                process.stop()
            }
        }
        throw lastError
    }

    /// Whether the QEMU process still runs (reaps it if it exited).
    var isAlive: Bool { process.isRunning }

    /// Waits up to `timeout` seconds for QEMU to exit by itself; true if it did.
    func waitForExit(timeout: Double) -> Bool { process.waitForExit(timeout: timeout) != nil }

    /// SIGKILL now (to make the stub vanish under a client).
    func killHard() { process.kill() }

    /// SIGTERM, wait up to 3 s, SIGKILL, reap; removes the temporary directory.
    func stop() { process.stop() }

    /// A loopback port free at this moment (the launcher's).
    static func freePort(ipv6: Bool) throws -> UInt16 { try QEMUProcess.freePort(ipv6: ipv6) }

    /// Connects a client, with short timeouts so a broken test fails fast.
    func connect() throws -> RemoteTarget {
        try RemoteTarget.connect(to: address, timeout: .seconds(5))
    }
}
