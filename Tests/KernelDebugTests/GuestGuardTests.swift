import Foundation
import Glibc
import Testing

/// A kmemscope that dies of a fatal signal while it holds a guest it found running gives the
/// guest back first (``GuestGuard``): the debug build's `KMEMSCOPE_DEBUG_TRAP` makes it trap,
/// crash or abort in the middle of a read; afterwards QEMU says the guest runs and its
/// operation-log sequence goes on growing.
@Suite("A dying kmemscope resumes the guest", .serialized)
struct GuestGuardTests {
    /// Runs the debug kmemscope with `KMEMSCOPE_DEBUG_TRAP=trap`; returns how it ended.
    static func dying(_ trap: String, _ arguments: [String], input: String = "") throws -> (reason: Process.TerminationReason, status: Int32, err: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: InfoCommandTests.binary)
        p.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["KMEMSCOPE_DEBUG_TRAP"] = trap
        environment["SWIFT_BACKTRACE"] = "enable=no"   // die at once, no backtrace to wait for
        p.environment = environment
        let err = Pipe(), stdin = Pipe()
        p.standardInput = stdin
        p.standardOutput = FileHandle.nullDevice
        p.standardError = err
        try p.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationReason, p.terminationStatus, String(decoding: e, as: UTF8.self))
    }

    /// The guest's operation-log sequence, as `info --json` reads it (the guest left running).
    static func sequence(_ socket: String) throws -> UInt64 {
        let r = try InfoCommandTests.kmemscope(["info", "--json", "--target", "unix:" + socket, "--elf", DebugBoot.kernel])
        #expect(r.status == 0, "\(r.err)")
        let object = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any]
        return try #require((object?["sequence"] as? NSNumber)?.uint64Value, "no sequence in \(r.out)")
    }

    @Test(arguments: [("mid-read", [SIGILL, SIGTRAP]), ("mid-read-segv", [SIGSEGV]), ("mid-read-abort", [SIGABRT]), ("mid-read-stack", [SIGSEGV])])
    func aFatalSignalMidReadLetsARunningGuestRunOn(trap: String, signals: [Int32]) throws {
        let boot = try DebugBoot(memory: "1G", append: "seed=1 ops=4000000 phases=4")
        defer { boot.stop() }
        try boot.release()
        #expect(try boot.vmStatus() == "running")
        // one-shot commands, and the console (its commands read from a pipe)
        for (command, input) in [(["verify"], ""), (["zones"], ""), (["buddyinfo"], ""), (["attach"], "zones\nverify\nquit\n")] {
            let r = try Self.dying(trap, command + ["--target", "unix:" + boot.socket, "--elf", DebugBoot.kernel], input: input)
            #expect(r.reason == .uncaughtSignal && signals.contains(r.status),
                    "\(command) under KMEMSCOPE_DEBUG_TRAP=\(trap) ended \(r.reason) \(r.status): \(r.err)")
            #expect(r.err.contains("resumed the guest"), "\(r.err)")
            usleep(200_000)
            #expect(try boot.vmStatus() == "running", "\(command) died and left the guest stopped")
        }
        let before = try Self.sequence(boot.socket)
        usleep(500_000)
        let after = try Self.sequence(boot.socket)
        #expect(after > before, "the guest's sequence did not advance: \(before) then \(after)")
    }

    @Test func aGuestFoundStoppedStaysStoppedWhenTheToolDies() throws {
        let boot = try DebugBoot(memory: "256M", append: "seed=1 ops=4000000 phases=4")
        defer { boot.stop() }
        try boot.release()
        _ = try boot.monitor("stop")
        #expect(try boot.vmStatus() == "paused")
        let r = try Self.dying("mid-read", ["verify", "--target", "unix:" + boot.socket, "--elf", DebugBoot.kernel])
        #expect(r.reason == .uncaughtSignal, "\(r.err)")
        #expect(!r.err.contains("resumed the guest"), "\(r.err)")
        #expect(try boot.vmStatus() == "paused", "a guest found stopped must stay stopped")
    }
}
