import Foundation
import GDBRemote
import Glibc
import KernelLayouts
import KernelSession
import Testing

/// The guest is left as it was found: a stopped guest stays stopped, a running one runs on,
/// on success, on error and on SIGTERM/SIGINT alike; `--resume` and `--leave-stopped` override.
/// QEMU's monitor says which (`info status`), from outside the gdbstub.
@Suite("The guest left as it was found", .serialized)
struct GuestLifecycleTests {
    static func kmemscope(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        try InfoCommandTests.kmemscope(arguments)
    }

    static func seconds(_ s: Double) { usleep(UInt32(s * 1_000_000)) }

    @Test func aStoppedGuestStaysStoppedWhenInfoFails() throws {
        let boot = try DebugBoot(append: "")   // -S: halted at reset, the kernel not loaded yet
        defer { boot.stop() }
        boot.target.close()
        #expect(try boot.vmStatus() == "paused")
        let r = try Self.kmemscope(["info", "--target", "unix:" + boot.socket, "--elf", DebugBoot.kernel])
        #expect(r.status == 2, "\(r.err)")
        #expect(r.err.contains("has not booted this kernel yet"), "\(r.err)")
        #expect(try boot.vmStatus() == "paused", "a failed info must not start a -S guest")
    }

    @Test func aStoppedGuestStaysStoppedWhenInfoSucceedsUnlessResumed() throws {
        let image = try KernelImage(path: DebugBoot.kernel)
        let boot = try DebugBoot(append: "seed=1 ops=20000 phases=4")
        defer { boot.stop() }
        // From -S to the first checkpoint under a debugger that then disconnects without
        // resuming: the guest has never run freely and is stopped.
        try boot.target.setBreakpoint(at: try image.symbol("kmem_checkpoint").address.rawValue, kind: .hardware)
        _ = try boot.target.continueUntilStop(timeout: .seconds(60))
        try boot.target.removeBreakpoint(at: try image.symbol("kmem_checkpoint").address.rawValue, kind: .hardware)
        boot.target.close()
        #expect(try boot.vmStatus() == "paused")
        let serialBefore = boot.serial
        let r = try Self.kmemscope(["info", "--target", "unix:" + boot.socket, "--elf", DebugBoot.kernel])
        #expect(r.status == 0, "\(r.err)")
        #expect(try boot.vmStatus() == "paused")
        let v = try Self.kmemscope(["verify", "--target", "unix:" + boot.socket, "--elf", DebugBoot.kernel])
        #expect(v.status == 0, "\(v.out)\(v.err)")
        #expect(try boot.vmStatus() == "paused")
        Self.seconds(0.3)
        #expect(boot.serial == serialBefore, "the guest printed nothing: it did not run")
        // --resume overrides: the guest runs afterwards.
        let resumed = try Self.kmemscope(["info", "--resume", "--target", "unix:" + boot.socket, "--elf", DebugBoot.kernel])
        #expect(resumed.status == 0, "\(resumed.err)")
        #expect(try boot.vmStatus() == "running")
    }

    @Test func aGuestPausedFromTheMonitorStaysPaused() throws {
        let boot = try DebugBoot(append: "seed=1 ops=2000 phases=2")
        defer { boot.stop() }
        try boot.runUntil()
        _ = try boot.monitor("stop")
        #expect(try boot.vmStatus() == "paused")
        for command in ["info", "zones", "verify", "log"] {
            let r = try Self.kmemscope([command, "--target", "unix:" + boot.socket, "--elf", DebugBoot.kernel])
            #expect(r.status == 0, "\(command): \(r.err)")
            #expect(try boot.vmStatus() == "paused", "\(command) resumed a guest paused from the monitor")
        }
        _ = try boot.monitor("cont")
        #expect(try boot.vmStatus() == "running")
    }

    @Test func aRunningGuestRunsOnAfterVerifyUnlessLeftStopped() throws {
        let boot = try DebugBoot(memory: "1G", append: "seed=1 ops=200000 phases=4")
        defer { boot.stop() }
        try boot.release()
        #expect(try boot.vmStatus() == "running")
        let v = try Self.kmemscope(["verify", "--target", "unix:" + boot.socket, "--elf", DebugBoot.kernel])
        #expect(v.status == 0, "\(v.out)\(v.err)")
        #expect(try boot.vmStatus() == "running", "verify must let a running guest run on")
        // a failing command too: another build's ELF is refused after attaching
        let other = try InfoCommandTests.otherBuild()
        defer { try? FileManager.default.removeItem(atPath: other) }
        let f = try Self.kmemscope(["info", "--target", "unix:" + boot.socket, "--elf", other])
        #expect(f.status == 2 && f.err.contains("build-id mismatch"), "\(f.err)")
        #expect(try boot.vmStatus() == "running", "a failed info must let a running guest run on")
        // --leave-stopped overrides.
        let z = try Self.kmemscope(["zones", "--leave-stopped", "--target", "unix:" + boot.socket, "--elf", DebugBoot.kernel])
        #expect(z.status == 0, "\(z.err)")
        #expect(try boot.vmStatus() == "paused")
    }

    /// QEMU keeps its gdbstub's physical-memory mode across clients: a client killed in the
    /// middle of a physical read (here: one that switches and disconnects) leaves it on. The
    /// next kmemscope must still read kernel addresses as such, not as physical ones past the
    /// end of RAM (zeros: "KmemState.segmentCount is 0").
    @Test func aPhysicalModeLeftByADeadClientIsNotInherited() throws {
        let boot = try DebugBoot(append: "seed=1 ops=2000 phases=2")
        defer { boot.stop() }
        try boot.runUntil()
        let dead = try boot.reconnect()
        try dead.setPhysicalMemoryMode(true)
        dead.close()
        let v = try Self.kmemscope(["verify", "--target", "unix:" + boot.socket, "--elf", DebugBoot.kernel, "--memory-source", "stub"])
        #expect(v.status == 0 && v.out.contains("all passed"), "\(v.out)\(v.err)")
    }

    @Test func aStubHeldByAnotherDebuggerIsNamedAndTheGuestIsNotStrandedLater() throws {
        let boot = try DebugBoot(append: "seed=1 ops=2000 phases=2")
        defer { boot.stop() }
        try boot.runUntil()              // the guest runs; then hold the stub ourselves
        let holder = try RemoteTarget.connect(to: .unix(boot.socket))
        let start = Date()
        let r = try Self.kmemscope(["info", "--target", "unix:" + boot.socket, "--elf", DebugBoot.kernel])
        #expect(r.status == 2)
        #expect(r.err.contains("already in use by another debugger"), "\(r.err)")
        #expect(Date().timeIntervalSince(start) < 8, "bounded by the greeting, not the request timeout")
        #expect(try holder.readMemory(at: try KernelImage(path: DebugBoot.kernel).symbol("kmem_info").address.rawValue, count: 8).count == 8,
                "the holder is undisturbed")
        // The holder leaves (the guest runs); QEMU then serves kmemscope's abandoned connection,
        // which stops the guest, and finds the detach kmemscope queued: the guest runs again.
        try holder.detach()
        usleep(500_000)
        #expect(try boot.vmStatus() == "running")
    }

    @Test func aGuestWhoseOperationNeverEndsIsStuckWithNoVerdict() throws {
        // A kernel whose busy word never returns to 0: stop at the first checkpoint (between
        // operations), raise busy to 1 behind the kernel's back, and leave the guest stopped.
        // Every later operation then ends at busy 1, so kmem_op_end is never called.
        let image = try KernelImage(path: DebugBoot.kernel)
        // (Whether the workload then runs on or ends and halts, busy stays at 1 or more.)
        let boot = try DebugBoot(append: "seed=1 ops=200000 phases=8")
        defer { boot.stop() }
        let checkpoint = try image.symbol("kmem_checkpoint").address.rawValue
        try boot.target.setBreakpoint(at: checkpoint, kind: .hardware)
        _ = try boot.target.continueUntilStop(timeout: .seconds(60))
        try boot.target.removeBreakpoint(at: checkpoint, kind: .hardware)
        let info = try KernelInfo.read(from: StubMemory(target: boot.target), at: try image.symbol("kmem_info").address.rawValue)
        let busy = try info.number("BUSY")
        #expect(try StubMemory(target: boot.target).readU64(at: busy) == 0, "a checkpoint is between operations")
        try boot.target.writeMemory(at: busy, bytes: [1, 0, 0, 0, 0, 0, 0, 0])
        boot.target.close()
        // Found stopped inside an operation: not run without --settle.
        let refused = try Self.kmemscope(["verify", "--target", "unix:" + boot.socket, "--elf", DebugBoot.kernel])
        #expect(refused.status == 2 && refused.err.contains("found stopped inside allocator operation"), "\(refused.err)")
        #expect(try boot.vmStatus() == "paused")
        let start = Date()
        let r = try Self.kmemscope(["verify", "--settle", "--target", "unix:" + boot.socket, "--elf", DebugBoot.kernel])
        #expect(r.status == 2, "\(r.out)\(r.err)")
        #expect(r.err.contains("the guest is stuck inside allocator operation "), "\(r.err)")
        #expect(r.out.isEmpty, "no verdict printed: \(r.out)")
        #expect(Date().timeIntervalSince(start) < 15)
        #expect(try boot.vmStatus() == "paused", "found stopped, left stopped")
    }

    @Test func aGuestFoundStoppedInsideAnOperationIsRunToItsEndOnlyWithSettle() throws {
        let image = try KernelImage(path: DebugBoot.kernel)
        let boot = try DebugBoot(memory: "256M", append: "seed=1 ops=5000000 phases=4")
        defer { boot.stop() }
        let t = boot.target
        // Run, then stop at moments until one lands inside an operation (most do), and leave
        // the guest stopped there, as a developer pausing it from gdb or the monitor would.
        try t.resume()
        usleep(2_000_000)
        _ = try t.interrupt()
        let info = try KernelInfo.read(from: StubMemory(target: t), at: try image.symbol("kmem_info").address.rawValue)
        try t.resume()
        var busy: UInt64 = 0
        for _ in 0..<50 where busy == 0 {
            _ = try t.interrupt()
            busy = try StubMemory(target: t).readU64(at: try info.number("BUSY"))
            if busy == 0 { try t.resume(); usleep(UInt32.random(in: 1_000...50_000)) }
        }
        try #require(busy != 0, "never stopped inside an operation")
        let rip = try t.register("rip")
        t.close()
        let r = try Self.kmemscope(["verify", "--target", "unix:" + boot.socket, "--elf", DebugBoot.kernel])
        #expect(r.status == 2 && r.err.contains("found stopped inside allocator operation"), "\(r.err)")
        #expect(r.out.isEmpty)
        let again = try RemoteTarget.connect(to: .unix(boot.socket))
        #expect(try again.register("rip") == rip, "the guest did not move")
        again.close()
        let settled = try Self.kmemscope(["verify", "--settle", "--target", "unix:" + boot.socket, "--elf", DebugBoot.kernel])
        #expect(settled.status == 0, "\(settled.out)\(settled.err)")
        #expect(settled.err.contains("between operations (ran to the end of the operation in progress)"), "\(settled.err)")
        #expect(try boot.vmStatus() == "paused", "stopped again, as found")
        let rip2 = try RemoteTarget.connect(to: .unix(boot.socket))
        #expect(try rip2.register("rip") == image.symbol("kmem_op_end").address.rawValue, "stopped at kmem_op_end")
        rip2.close()
    }

    /// Starts verify, waits until it has stopped the guest (the monitor says paused), sends
    /// `signal`, and returns how verify ended.
    static func signalDuringRead(_ boot: DebugBoot, _ signal: Int32) throws -> (status: Int32, err: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: InfoCommandTests.binary)
        p.arguments = ["verify", "--target", "unix:" + boot.socket, "--elf", DebugBoot.kernel]
        let err = Pipe()
        p.standardOutput = FileHandle.nullDevice
        p.standardError = err
        try p.run()
        let start = Date()
        while try boot.vmStatus() == "running" && p.isRunning && Date().timeIntervalSince(start) < 20 { usleep(2_000) }
        #expect(p.isRunning, "verify ended before it could be signalled")
        kill(p.processIdentifier, signal)
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: e, as: UTF8.self))
    }

    @Test func aSignalDuringAReadLetsARunningGuestRunAgain() throws {
        // 4G: a FrameMeta array of 64 MiB, long enough a read to land a signal in it.
        let boot = try DebugBoot(memory: "4G", append: "seed=1 ops=400000 phases=4")
        defer { boot.stop() }
        try boot.release()
        let term = try Self.signalDuringRead(boot, SIGTERM)
        #expect(term.status == 2, "\(term.err)")
        #expect(term.err.contains("interrupted by SIGTERM"), "\(term.err)")
        Self.seconds(0.2)
        #expect(try boot.vmStatus() == "running")
        let int = try Self.signalDuringRead(boot, SIGINT)
        #expect(int.status == 130, "\(int.err)")
        #expect(try boot.vmStatus() == "running")
        // A closed terminal or ssh session during a read: the same.
        let hup = try Self.signalDuringRead(boot, SIGHUP)
        #expect(hup.status == 2 && hup.err.contains("interrupted by SIGHUP"), "\(hup.err)")
        #expect(try boot.vmStatus() == "running")
    }
}
