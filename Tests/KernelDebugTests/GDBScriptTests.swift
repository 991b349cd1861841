import Foundation
import Testing

/// `kmemscope gdb-script`: a plain gdb connected straight to QEMU runs `kms …` on the memory it
/// reads, and its own session is untouched.
@Suite("kmemscope gdb-script")
struct GDBScriptTests {
    @Test func kmsInsideAPlainGdbPrintsTheViewsAndLeavesTheSession() throws {
        let boot = try DebugBoot(append: "seed=1 ops=20000 phases=2")
        defer { boot.stop() }
        try boot.runUntil()   // stopped, detached
        let script = boot.directory + "/kms.py"
        let made = try InfoCommandTests.kmemscope(["gdb-script", "--elf", DebugBoot.kernel])
        #expect(made.status == 0, "\(made.err)")
        try made.out.write(toFile: script, atomically: true, encoding: .utf8)
        let gdb = try BackgroundProcess.gdb([
            "target remote \(boot.socket)",
            "source \(script)",
            "echo MARK-1\\n", "info registers rip rsp", "echo MARK-END\\n",
            "kms zones",
            "kms verify",
            "kms frame --bogus-option",
            "echo MARK-2\\n", "info registers rip rsp", "echo MARK-END\\n",
            "detach",
        ], directory: boot.directory)
        #expect(gdb.wait(seconds: 180) == 0, "\(gdb.output)")
        let out = gdb.output
        #expect(out.contains("zone DMA32"), "\(out)")
        #expect(out.contains("verify: ") && out.contains("all passed"), "\(out)")
        #expect(out.contains("(kmemscope exited with status 2)"), "a usage error is shown with its status: \(out)")
        #expect(ProxyGDBTests.section(out, "MARK-1", "MARK-END") == ProxyGDBTests.section(out, "MARK-2", "MARK-END"))
        #expect(ProxyGDBTests.section(out, "MARK-1", "MARK-END").count == 2)
        // The direct view agrees with what gdb printed.
        let direct = try InfoCommandTests.kmemscope(["zones", "--target", "unix:" + boot.socket, "--elf", DebugBoot.kernel])
        let zones = direct.out.split(separator: "\n").filter { $0.hasPrefix("zone ") }
        #expect(!zones.isEmpty && zones.allSatisfy { out.contains($0) }, "\(direct.out)\n\(out)")
    }
}
