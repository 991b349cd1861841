import Foundation
import Glibc
import Testing

/// gdb through `kmemscope proxy` (real gdb, real QEMU): a breakpoint hit, `monitor kms`, a
/// kmemscope command from another process at that moment, and gdb going on as if nothing
/// happened; a `watch` through the proxy while gdb sits idle; the guest left as found.
@Suite("kmemscope proxy with gdb", .serialized)
struct ProxyGDBTests {
    /// The lines of `text` between `begin` and `end` markers (gdb `echo` lines).
    static func section(_ text: String, _ begin: String, _ end: String) -> [String] {
        guard let a = text.range(of: begin + "\n"), let b = text.range(of: end, range: a.upperBound..<text.endIndex) else { return [] }
        return text[a.upperBound..<b.lowerBound].split(separator: "\n").map(String.init)
    }

    @Test func gdbAtABreakpointSeesKmemscopeViewsAndGoesOnUnchanged() throws {
        let boot = try DebugBoot(append: "seed=1 ops=200000 phases=8")   // -S: stopped at reset
        defer { boot.stop() }
        boot.target.close()
        let proxy = try ProxyProcess(target: "unix:" + boot.socket, directory: boot.directory)
        defer { proxy.stop() }
        #expect(proxy.log.contains("found the guest stopped"))
        let zonesFile = boot.directory + "/zones.txt"
        let gdb = try BackgroundProcess.gdb([
            "target remote \(proxy.socket)",
            "break kmem_checkpoint",
            "continue",
            "echo MARK-REGS-1\\n", "info registers", "echo MARK-END\\n",
            "echo MARK-KMS\\n", "monitor kms zones", "echo MARK-END\\n",
            "monitor kms verify",
            "shell \(InfoCommandTests.binary) zones --target \(proxy.address) > \(zonesFile) 2>&1",
            "maint flush register-cache",
            "echo MARK-REGS-2\\n", "info registers", "echo MARK-END\\n",
            "stepi",
            "echo MARK-STEP\\n", "info registers rip", "echo MARK-END\\n",
            "continue",
            "echo MARK-NEXT\\n", "info registers rip", "echo MARK-END\\n",
            "detach",
        ], directory: boot.directory)
        let status = gdb.wait(seconds: 240)
        let out = gdb.output
        #expect(status == 0, "gdb: \(out.suffix(2000))\nproxy: \(proxy.log)")
        // The breakpoint was hit twice: once before kmemscope looked, once after.
        #expect(out.components(separatedBy: "Breakpoint 1, ").count == 3, "\(out.suffix(2000))")
        #expect(!out.contains("received signal"), "gdb saw a stop it did not ask for: \(out.suffix(2000))")
        // monitor kms verify printed the verdict inside gdb.
        #expect(out.contains("verify: ") && out.contains("all passed"), "\(out.suffix(2000))")
        // The zones gdb printed and the zones another process printed are the same moment.
        let kms = Self.section(out, "MARK-KMS", "MARK-END").filter { $0.hasPrefix("zone ") }
        let other = ((try? String(contentsOfFile: zonesFile, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init).filter { $0.hasPrefix("zone ") }
        #expect(!kms.isEmpty && kms == other, "monitor: \(kms)\nshell: \(other)")
        // Registers as gdb saw them before and after kmemscope (read fresh from QEMU).
        let before = Self.section(out, "MARK-REGS-1", "MARK-END"), after = Self.section(out, "MARK-REGS-2", "MARK-END")
        #expect(before.count > 10 && before == after, "before: \(before)\nafter: \(after)")
        #expect(Self.section(out, "MARK-STEP", "MARK-END").first?.contains("<kmem_checkpoint+") == true, "\(out.suffix(1500))")
        #expect(Self.section(out, "MARK-NEXT", "MARK-END").first?.contains("<kmem_checkpoint>") == true, "\(out.suffix(1500))")
        // gdb left: the guest is as the proxy found it (stopped), the proxy still serves.
        #expect(try boot.vmStatus() == "paused")
        #expect(proxy.process.isRunning)
        #expect(proxy.stop() == 0, "\(proxy.log)")
    }

    @Test func watchThroughTheProxyWhileGdbIdlesLeavesTheGuestAsFound() throws {
        let boot = try DebugBoot(append: "seed=2 ops=400000 phases=40")
        defer { boot.stop() }
        try boot.release(until: "kmem: workload")   // running, no debugger
        #expect(try boot.vmStatus() == "running")
        let proxy = try ProxyProcess(target: "unix:" + boot.socket, directory: boot.directory)
        defer { proxy.stop() }
        #expect(proxy.log.contains("found the guest running"))
        let gdb = try BackgroundProcess.gdb([
            "target remote \(proxy.socket)",
            "echo MARK-BEFORE\\n", "info registers rip", "echo MARK-END\\n",
            "shell \(InfoCommandTests.binary) watch --stops 2 --target \(proxy.address); echo watch-status=$?",
            "echo MARK-AFTER\\n", "info registers rip", "echo MARK-END\\n",
            "detach",
        ], directory: boot.directory)
        let status = gdb.wait(seconds: 240)
        let out = gdb.output
        #expect(status == 0, "gdb: \(out.suffix(2000))\nproxy: \(proxy.log)")
        #expect(out.contains("watch-status=0"), "\(out.suffix(2000))\nproxy: \(proxy.log)")
        // gdb, idle meanwhile, saw nothing happen: the same stop, no stray stop reply.
        #expect(Self.section(out, "MARK-BEFORE", "MARK-END") == Self.section(out, "MARK-AFTER", "MARK-END"))
        #expect(!out.contains("received signal"), "\(out.suffix(2000))")
        // Everyone left: the guest runs again, as the proxy found it.
        usleep(300_000)
        #expect(try boot.vmStatus() == "running", "\(proxy.log)")
        #expect(proxy.stop() == 0, "\(proxy.log)")
        #expect(try boot.vmStatus() == "running")
    }
}
