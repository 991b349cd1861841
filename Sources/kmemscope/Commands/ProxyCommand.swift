import ArgumentParser
import Foundation
import GDBProxy
import GDBRemote
import KernelSession

/// `kmemscope proxy`: one QEMU gdbstub shared by gdb and kmemscope commands (docs/proxy.md).
/// gdb connects to `--listen` as it would to QEMU; `monitor kms …` in gdb runs a kmemscope
/// command on the guest gdb holds stopped.
struct ProxyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proxy",
        abstract: "Share QEMU's gdbstub between gdb and kmemscope: gdb and kmemscope commands connect to --listen.",
        discussion: """
            One client owns run control (the first to connect, usually gdb); a kmemscope command \
            borrows the guest from it: stopped where gdb left it, or briefly interrupted under gdb's \
            continue and resumed afterwards, invisibly to gdb. In gdb, `monitor kms COMMAND …` runs \
            `kmemscope COMMAND …` on the stopped guest and prints its output; other monitor commands \
            go to QEMU. When the last client leaves the guest is left as the proxy found it. Runs \
            until QEMU exits (exit 2) or SIGINT/SIGTERM (exit 0). Rules: docs/proxy.md.
            """)

    @Option(name: .long, help: ArgumentHelp("Where gdb and kmemscope connect: HOST:PORT, :PORT or unix:PATH.", valueName: "address"))
    var listen: String

    @Option(name: .long, help: ArgumentHelp("QEMU's gdbstub: HOST:PORT, tcp:HOST:PORT, [V6]:PORT, :PORT or unix:PATH.", valueName: "address"))
    var target: String = "127.0.0.1:1234"

    @Option(name: .long, help: "Seconds QEMU may take to answer one request.")
    var timeout: Int = 10

    @Option(name: .long, help: "Most clients at once; more are refused.")
    var maxClients: Int = 8

    @Option(name: .long, help: "Largest packet payload (bytes) accepted from a client or QEMU.")
    var maxPacket: Int = 1 << 17

    @Flag(name: .long, help: "Answer repeated memory reads from a cache while the guest stays stopped.")
    var cacheReads = false

    @Option(name: .long, help: ArgumentHelp("The kernel ELF `monitor kms` commands use (default: as every command finds it).", valueName: "path"))
    var elf: String?

    @Option(name: .long, help: "Seconds a `monitor kms` command may run before it is stopped.")
    var monitorTimeout: Int = 120

    @Flag(name: .long, help: "Say nothing about clients coming and going.")
    var quiet = false

    @Flag(name: .long, help: "Print every packet in and out on standard error (to debug the proxy).")
    var trace = false

    func validate() throws {
        do { _ = try RemoteAddress.parse(listen) } catch { throw ValidationError("--listen \(error)") }
        do { _ = try RemoteAddress.parse(target) } catch { throw ValidationError("--target \(error)") }
        guard (1...86_400).contains(timeout) else { throw ValidationError("--timeout must be 1…86400 seconds, not \(timeout)") }
        guard (1...64).contains(maxClients) else { throw ValidationError("--max-clients must be 1…64, not \(maxClients)") }
        guard (4096...(16 << 20)).contains(maxPacket) else { throw ValidationError("--max-packet must be 4096…16777216 bytes, not \(maxPacket)") }
        guard (1...86_400).contains(monitorTimeout) else { throw ValidationError("--monitor-timeout must be 1…86400 seconds, not \(monitorTimeout)") }
    }

    func run() throws {
        let upstream = try RemoteAddress.parse(target)
        var configuration = ProxyConfiguration(listen: try RemoteAddress.parse(listen), upstream: upstream)
        configuration.maximumClients = maxClients
        configuration.maximumPacket = maxPacket
        configuration.requestTimeout = .seconds(timeout)
        configuration.cacheReads = cacheReads
        configuration.monitor = MonitorCommandLine.make(elf: elf, qemuPid: QEMUProcessFinder.pid(serving: upstream),
                                                         timeout: .seconds(monitorTimeout))
        let quiet = self.quiet
        configuration.log = { text in if !quiet { StandardError.write("kmemscope proxy: \(text)") } }
        if trace { configuration.trace = { StandardError.write("kmemscope proxy: \($0)") } }
        let proxy = try GDBProxy(configuration)
        StandardError.write("kmemscope proxy: listening on \(proxy.address) for QEMU's gdbstub at \(upstream) (found the guest \(proxy.foundRunning ? "running" : "stopped")); gdb: target remote \(proxy.address.gdbSpelling)")
        InterruptSignals.setHolding(true)
        try proxy.run { InterruptSignals.isPending }
        let signal = InterruptSignals.clearPending()
        StandardError.write("kmemscope proxy: stopped\(signal != 0 ? " by signal \(signal)" : ""); the guest left \(proxy.foundRunning ? "running" : "stopped"), as found")
    }
}

extension RemoteAddress {
    /// How gdb's `target remote` spells this address.
    var gdbSpelling: String {
        switch self {
        case .tcp(let host, let port): return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        case .unix(let path): return path
        }
    }
}
