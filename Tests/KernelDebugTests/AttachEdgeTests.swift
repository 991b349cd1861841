import Foundation
import TerminalSupport
import Glibc
import Testing

/// What a user is told at the edges of attaching: a watch whose checkpoint never comes.
@Suite("Attach edges", .serialized)
struct AttachEdgeTests {
    /// The workload has ended, so no checkpoint comes: `watch --stops 1 --wait 3` says that
    /// (exit 2, no verdict), not that the stub is hung, and the guest runs on as it was found.
    @Test func watchWithNoCheckpointInTimeSaysSo() throws {
        let boot = try DebugBoot(memory: "128M", append: "seed=1 ops=2000 phases=1")
        defer { boot.stop() }
        try boot.runUntil(["kmem: done"])   // detached: the guest idles, running
        let r = try InfoCommandTests.kmemscope(["watch", "--stops", "1", "--wait", "3", "--target", "unix:" + boot.socket,
                                                "--elf", DebugBoot.kernel])
        #expect(r.status == 2, "\(r.out)\n\(r.err)")
        #expect(r.err.contains("no checkpoint within 3 s: the guest ran on to sequence "), "\(r.err)")
        #expect(!r.err.contains("hung") && !r.err.contains("no reply"), "\(r.err)")
        #expect(try boot.vmStatus() == "running")
    }

    /// A real HTTP server (Python's http.server, loopback) given as --target: kmemscope says
    /// what answered instead of calling it a busy or hung stub.
    @Test func anHTTPServerIsNotTakenForAStub() throws {
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        server.arguments = ["-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", NSTemporaryDirectory()]
        let out = Pipe()
        server.standardOutput = out
        server.standardError = FileHandle.nullDevice
        try server.run()
        // SIGKILL: Foundation starts children with SIGTERM blocked, and python waits on it
        defer { kill(server.processIdentifier, SIGKILL); server.waitUntilExit() }
        // "Serving HTTP on 127.0.0.1 port 43567 (http://127.0.0.1:43567/) ..."
        let line = String(decoding: out.fileHandleForReading.availableData, as: UTF8.self)
        let port = try #require(line.components(separatedBy: " port ").dropFirst().first.flatMap { UInt16($0.prefix { $0.isNumber }) }, "\(line)")
        let r = try InfoCommandTests.kmemscope(["info", "--target", "127.0.0.1:\(port)", "--elf", DebugBoot.kernel])
        #expect(r.status == 2, "\(r.out)\n\(r.err)")
        // http.server takes the packet line for an HTTP/0.9 request and answers the error page alone
        #expect(r.err.contains("127.0.0.1:\(port) is not a GDB stub: it sent '"), "\(r.err)")
        #expect(r.err.contains("sent 'HTTP/1.") || r.err.contains("sent '<!DOCTYPE HTML>"), "\(r.err)")
        #expect(!r.err.contains("another debugger") && !r.err.contains("hung"), "\(r.err)")
    }

    /// The console on a guest started stopped (QEMU -S, the kernel not even in memory): it
    /// opens, says the kernel has not booted, refuses views until it has, and `until`,
    /// `next-checkpoint` or `continue` run it into the kernel. In a real terminal (tmux).
    @Test(.enabled(if: TerminalSession.tmux != nil, "tmux is not installed"), arguments: ["until", "next-checkpoint", "continue"])
    func theConsoleOpensOnAGuestThatHasNotBooted(runWith command: String) throws {
        let boot = try DebugBoot(memory: "128M", append: "seed=6 ops=200000 phases=3")
        defer { boot.stop() }
        boot.target.close()   // still at reset: QEMU serves one client, the console is the next
        let home = boot.directory + "/home"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        let terminal = try TerminalSession(ConsoleTests.attachLine("unix:" + boot.socket, home: home))
        defer { terminal.close() }
        let banner = try terminal.wait { TerminalSession.prompts($0) == 1 }
        #expect(banner.contains("the kernel has not booted yet (started stopped, QEMU -S)"), "\(banner)")
        var answer = try ConsoleInterruptTests.answer(terminal, to: "zones")
        #expect(answer.contains("the kernel has not booted yet"), "\(answer)")
        switch command {
        case "until":
            answer = try ConsoleInterruptTests.answer(terminal, to: "until 3000", timeout: 120)
            let reached = try #require(ConsoleTests.sequence(after: "the kernel booted; reached: stopped at sequence ", in: answer), "\(answer)")
            #expect(reached >= 3000 && reached < 3016, "\(answer)")
        case "next-checkpoint":
            answer = try ConsoleInterruptTests.answer(terminal, to: "next-checkpoint", timeout: 120)
            let at = try #require(ConsoleTests.sequence(after: "the kernel booted; at kmem_checkpoint (phase 1), sequence ", in: answer), "\(answer)")
            // after it, run control as on any booted guest
            answer = try ConsoleInterruptTests.answer(terminal, to: "until \(at + 2000)", timeout: 120)
            #expect(answer.contains("reached: stopped at sequence "), "\(answer)")
        default:
            answer = try ConsoleInterruptTests.answer(terminal, to: "continue")
            #expect(answer.contains("the guest runs: the kernel boots"), "\(answer)")
            let start = Date()
            while !boot.serial.contains("kmem: workload") && Date().timeIntervalSince(start) < 60 { usleep(50_000) }
        }
        answer = try ConsoleInterruptTests.answer(terminal, to: "zones", timeout: 120)
        #expect(answer.contains("zone DMA32  pfn [0x1000, 0x"), "\(answer)")
        answer = try ConsoleInterruptTests.answer(terminal, to: "verify", timeout: 120)
        #expect(answer.contains("all passed"), "\(answer)")
        try terminal.type("quit")
        let screen = try terminal.wait { $0.contains("EXIT=") }
        // found stopped (at reset), so left stopped; the continue case was running when quit stopped it
        #expect(screen.contains("EXIT=0"), "\(screen.suffix(1000))")
        #expect(try boot.vmStatus() == "paused")
    }
}
