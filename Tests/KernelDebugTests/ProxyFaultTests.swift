import Foundation
import Glibc
import Testing

/// Faults around `kmemscope proxy` with real gdb and real QEMU: QEMU killed under both
/// clients, a client killed mid-packet, gdb and kmemscope resuming at once. Nothing hangs past
/// its timeout, each side says what happened, the guest ends in a defined state.
@Suite("kmemscope proxy faults", .serialized)
struct ProxyFaultTests {
    @Test func qemuKilledUnderBothClientsEndsEveryoneWithAClearMessage() throws {
        let boot = try DebugBoot(append: "seed=3 ops=4000000 phases=4")
        defer { boot.stop() }
        try boot.release(until: "kmem: workload")
        // Files apart from QEMU's run directory, which goes with QEMU.
        let files = NSTemporaryDirectory() + "kmemscope-proxy-fault-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        try FileManager.default.createDirectory(atPath: files, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: files) }
        let proxy = try ProxyProcess(target: "unix:" + boot.socket, directory: files)
        defer { proxy.stop() }
        // gdb continues (the workload outlasts the test); a kmemscope `watch` borrows the
        // guest meanwhile. (Their output is buffered: the proxy's log says where they are.)
        let gdb = try BackgroundProcess.gdb(["target remote \(proxy.socket)", "continue", "echo GDB-DONE\\n"], directory: files)
        func waitForLog(_ text: String) -> Bool {
            let start = Date()
            while !proxy.log.contains(text) && Date().timeIntervalSince(start) < 60 { usleep(50_000) }
            return proxy.log.contains(text)
        }
        #expect(waitForLog("client 1 connected"))
        usleep(1_000_000)
        let watch = try BackgroundProcess(InfoCommandTests.binary, ["watch", "--target", proxy.address, "--every", "20000"], directory: files)
        #expect(waitForLog("client 2 borrows"), "\(proxy.log)")
        usleep(3_000_000)
        boot.process.stop()   // QEMU killed
        let proxyStatus = proxy.waitForExit(seconds: 15)
        #expect(proxyStatus == 2, "\(proxy.log)")
        #expect(proxy.log.contains("closed the connection (did QEMU exit?)"), "\(proxy.log)")
        let watchStatus = watch.wait(seconds: 30)
        #expect(watchStatus == 2, "\(watch.output)")
        #expect(watch.output.contains("kmemscope: "), "\(watch.output)")
        #expect(gdb.wait(seconds: 30) != nil, "gdb hung after the proxy went: \(gdb.output)")
        #expect(gdb.output.contains("Remote connection closed") || gdb.output.contains("Remote communication error"), "\(gdb.output)")
    }

    @Test func aClientKilledMidPacketLeavesGdbsSessionIntact() throws {
        let boot = try DebugBoot(append: "seed=1 ops=20000 phases=2")
        defer { boot.stop() }
        try boot.runUntil()   // stopped, detached
        let proxy = try ProxyProcess(target: "unix:" + boot.socket, directory: boot.directory)
        defer { proxy.stop() }
        let gdb = try BackgroundProcess.gdb([
            "target remote \(proxy.socket)",
            "echo MARK-1\\n", "info registers rip", "echo MARK-END\\n",
            "shell sleep 4",
            "maint flush register-cache",
            "echo MARK-2\\n", "info registers rip", "echo MARK-END\\n",
            "monitor kms zones",
            "detach",
        ], directory: boot.directory)
        #expect(gdb.waitFor("MARK-END", seconds: 60), "\(gdb.output)")
        // A client that sends half a packet and dies, while gdb holds the guest.
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var sun = sockaddr_un()
        sun.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &sun.sun_path) { raw in
            let bytes = Array(proxy.socket.utf8)
            raw.copyBytes(from: bytes); raw[bytes.count] = 0
        }
        let rc = withUnsafePointer(to: &sun) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        #expect(rc == 0)
        _ = "+$qSupported:multiprocess+;swbre".withCString { send(fd, $0, strlen($0), 0) }
        usleep(300_000)
        close(fd)
        #expect(gdb.wait(seconds: 120) == 0, "\(gdb.output)\n\(proxy.log)")
        let out = gdb.output
        #expect(ProxyGDBTests.section(out, "MARK-1", "MARK-END") == ProxyGDBTests.section(out, "MARK-2", "MARK-END"), "\(out)")
        #expect(out.contains("zone DMA32"), "monitor kms after the dead client: \(out)")
        #expect(proxy.log.contains("closed the connection mid-packet"), "\(proxy.log)")
        #expect(proxy.process.isRunning)
    }

    @Test func gdbContinuingWhileKmemscopeReadsSeesOnlyItsBreakpoint() throws {
        let boot = try DebugBoot(append: "seed=4 ops=8000000 phases=4")
        defer { boot.stop() }
        boot.target.close()
        let proxy = try ProxyProcess(target: "unix:" + boot.socket, directory: boot.directory)
        defer { proxy.stop() }
        // gdb resumes and waits for the next checkpoint while kmemscope commands interrupt and
        // settle (resuming the guest themselves) under it, again and again.
        let gdb = try BackgroundProcess.gdb([
            "target remote \(proxy.socket)",
            "break kmem_checkpoint", "continue", "continue",
            "echo MARK-NEXT\\n", "info registers rip", "echo MARK-END\\n",
            "detach",
        ], directory: boot.directory)
        #expect(gdb.waitFor("Breakpoint 1, ", seconds: 120), "\(gdb.output)\n\(proxy.log)")
        var statuses: [Int32] = []
        for _ in 0..<3 {
            usleep(200_000)
            guard gdb.process.isRunning else { break }
            let r = try InfoCommandTests.kmemscope(["zones", "--settle", "--target", proxy.address, "--elf", DebugBoot.kernel])
            statuses.append(r.status)
            #expect(r.status == 0 || gdb.output.contains("detached"), "\(r.err)\n\(proxy.log)")
        }
        #expect(gdb.wait(seconds: 240) == 0, "\(gdb.output)\n\(proxy.log)")
        let out = gdb.output
        #expect(out.components(separatedBy: "Breakpoint 1, ").count == 3, "\(out)")
        #expect(!out.contains("received signal"), "gdb saw a stop it did not ask for: \(out)")
        #expect(ProxyGDBTests.section(out, "MARK-NEXT", "MARK-END").first?.contains("<kmem_checkpoint>") == true, "\(out)")
        #expect(!statuses.isEmpty)
    }
}
