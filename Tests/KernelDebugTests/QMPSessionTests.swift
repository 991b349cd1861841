import Foundation
import Glibc
import Testing

/// `--qmp SOCKET`: the views with no gdbstub at all, while gdb holds it — QMP stops and resumes
/// the guest, QEMU's memory is read directly; the same zones as through the stub.
@Suite("kmemscope --qmp", .serialized)
struct QMPSessionTests {
    /// A guest with a QMP socket beside its gdbstub.
    static func boot(_ append: String) throws -> (DebugBoot, String) {
        let qmp = NSTemporaryDirectory() + "kmemscope-qmp-\(getpid())-\(UInt32.random(in: 0 ... .max)).sock"
        let boot = try DebugBoot(append: append, extraArguments: ["-qmp", "unix:\(qmp),server=on,wait=off"])
        return (boot, qmp)
    }

    @Test func zonesThroughQMPWhileGdbHoldsTheStubMatchTheStubsView() throws {
        let (boot, qmp) = try Self.boot("seed=1 ops=20000 phases=2")
        defer { boot.stop(); unlink(qmp) }
        try boot.runUntil()   // stopped, detached
        let pid = String(boot.process.pid)
        let zonesFile = boot.directory + "/qmp-zones.txt"
        let gdb = try BackgroundProcess.gdb([
            "target remote \(boot.socket)",
            "echo MARK-1\\n", "info registers rip", "echo MARK-END\\n",
            "shell \(InfoCommandTests.binary) zones --qmp \(qmp) --qemu-pid \(pid) --elf \(DebugBoot.kernel) > \(zonesFile) 2>&1; echo qmp-status=$?",
            "maint flush register-cache",
            "echo MARK-2\\n", "info registers rip", "echo MARK-END\\n",
            "disconnect",
        ], directory: boot.directory)
        #expect(gdb.wait(seconds: 120) == 0, "\(gdb.output)")
        #expect(gdb.output.contains("qmp-status=0"), "\(gdb.output)\n\((try? String(contentsOfFile: zonesFile, encoding: .utf8)) ?? "")")
        #expect(ProxyGDBTests.section(gdb.output, "MARK-1", "MARK-END") == ProxyGDBTests.section(gdb.output, "MARK-2", "MARK-END"))
        let viaQMP = ((try? String(contentsOfFile: zonesFile, encoding: .utf8)) ?? "").split(separator: "\n").filter { $0.hasPrefix("zone ") }
        let viaStub = try InfoCommandTests.kmemscope(["zones", "--target", "unix:" + boot.socket, "--memory-source", "stub", "--elf", DebugBoot.kernel])
        #expect(!viaQMP.isEmpty && viaQMP == viaStub.out.split(separator: "\n").filter { $0.hasPrefix("zone ") }, "\(viaQMP)\n\(viaStub.out)")
        #expect(try boot.vmStatus() == "paused", "found stopped, left stopped")
    }

    @Test func aRunningGuestRunsAgainAfterAQMPRead() throws {
        let (boot, qmp) = try Self.boot("seed=2 ops=4000000 phases=4")
        defer { boot.stop(); unlink(qmp) }
        try boot.release(until: "kmem: workload")
        #expect(try boot.vmStatus() == "running")
        let r = try InfoCommandTests.kmemscope(["verify", "--qmp", qmp, "--qemu-pid", String(boot.process.pid), "--elf", DebugBoot.kernel])
        #expect(r.err.contains("read through QMP"), "\(r.err)")
        #expect(r.status == 0 || r.status == 1 || r.err.contains("inside"), "\(r.err)")
        #expect(try boot.vmStatus() == "running")
        let bad = try InfoCommandTests.kmemscope(["zones", "--qmp", qmp])
        #expect(bad.status == 2 && bad.err.contains("--qemu-pid"), "\(bad.err)")
    }
}
