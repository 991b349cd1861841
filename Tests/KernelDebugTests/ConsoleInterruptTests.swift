import Foundation
import TerminalSupport
import KernelLayouts
import Testing

/// Ctrl-C in the `attach` console, typed in a real terminal (tmux) while a long command talks
/// to the real kernel's gdbstub: whatever was in flight (a pipelined read, a breakpoint
/// request, the interrupt's stop reply) must not shift the replies of the next command.
@Suite("kmemscope attach console: Ctrl-C", .serialized,
       .enabled(if: TerminalSession.tmux != nil, "tmux is not installed (scripts/install-deps.sh installs it): the console's terminal test cannot run"))
struct ConsoleInterruptTests {
    /// Every long console command, interrupted at several moments of its run (from "just
    /// typed" to "well into it"); after each, `continue` must answer as on a fresh session.
    /// At the end `until` reaches its sequence, `verify` passes (no breakpoint or armed stop
    /// word was left behind), and after `quit` the guest runs on, as it was found.
    @Test func ctrlCAtManyPointsOfEveryLongCommandLeavesTheSessionInStep() throws {
        let boot = try DebugBoot(append: "seed=7 ops=50000000 phases=3")
        defer { boot.stop() }
        try boot.release(until: "kmem: workload")
        let home = boot.directory + "/home"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        // --memory-source stub: every view's reads go through the stub too (pipelined `m`
        // requests), so Ctrl-C lands in those as well as in run control
        let line = "cd '\(DebugBoot.root.path)' && HOME='\(home)' '\(InfoCommandTests.binary)' attach --target unix:\(boot.socket) "
            + "--elf '\(DebugBoot.kernel)' --memory-source stub; echo EXIT=$?; sleep 600"
        let terminal = try TerminalSession(line)
        defer { terminal.close() }
        try terminal.wait { TerminalSession.prompts($0) == 1 }

        let commands = ["watch --every 20000", "verify", "snapshot -o \(boot.directory)/interrupted.snap --force",
                        "until 999999999 60", "next-checkpoint 60", "zoneinfo"]
        let delays: [useconds_t] = [30_000, 250_000, 700_000, 1_500_000, 3_000_000]
        var interrupted = 0
        for command in commands {
            for delay in delays {
                let before = TerminalSession.prompts(try terminal.screen())
                try terminal.type(command)
                usleep(delay)
                try terminal.send("C-c")
                let screen = try terminal.wait(timeout: 60) { TerminalSession.prompts($0) > before }
                let tail = String(screen.suffix(from: Self.lastPrompts(screen, count: 2)))
                if tail.contains("interrupted; the guest") { interrupted += 1 }
                let answer = try Self.answer(terminal, to: "continue")
                #expect(answer.contains("the guest runs (`stop` stops it"), "after Ctrl-C \(delay / 1000) ms into '\(command)':\n\(answer)")
                #expect(!answer.contains("malformed") && !answer.contains("kmemscope:"), "after Ctrl-C \(delay / 1000) ms into '\(command)':\n\(answer)")
            }
        }
        // the test must have interrupted commands, not only typed Ctrl-C at an idle prompt
        let seen = try terminal.screen()
        #expect(interrupted >= commands.count * delays.count / 2, "only \(interrupted) commands were interrupted:\n\(seen.suffix(4000))")

        // while a command runs, a Ctrl-C must not throw away what the console already wrote
        // (NOFLSH: a command's last lines and the next prompt were lost to a Ctrl-C that came
        // as the command ended, and the console waited at a prompt nobody saw)
        let before = TerminalSession.prompts(try terminal.screen())
        try terminal.type("until 999999999 60")
        usleep(1_000_000)
        #expect(try terminal.localModes().contains("noflsh"))
        try terminal.send("C-c")
        try terminal.wait(timeout: 60) { TerminalSession.prompts($0) > before }

        var answer = try Self.answer(terminal, to: "stop")
        let at = try #require(ConsoleTests.sequence(after: "stopped at sequence ", in: answer), "\(answer)")
        answer = try Self.answer(terminal, to: "until \(at + 5000)", timeout: 120)
        #expect(answer.contains("reached: stopped at sequence "), "\(answer)\n\(Self.diagnosis(boot))")
        answer = try Self.answer(terminal, to: "verify", timeout: 120)
        #expect(answer.contains("all passed"), "\(answer.suffix(1500))\n\(Self.diagnosis(boot))")
        answer = try Self.answer(terminal, to: "continue")
        #expect(answer.contains("the guest runs (`stop` stops it"), "\(answer)")
        try terminal.type("quit")
        let screen = try terminal.wait { $0.contains("EXIT=") }
        #expect(screen.contains("detached: the guest runs on (as it was found)"), "\(screen.suffix(1000))")
        #expect(screen.contains("EXIT=0"), "\(screen.suffix(1000))")
        #expect(try terminal.localModes().contains("-noflsh"), "the terminal's own setting is put back")
        #expect(try boot.vmStatus() == "running")
        // no stop word left armed by an interrupted watch/until (the kernel would stop for nobody)
        let t = try boot.reconnect()
        let image = try KernelImage(path: DebugBoot.kernel)
        let word = try t.readMemory(at: try image.symbol("kmem_stop_seq").address.rawValue, count: 8)
        try t.detach()
        #expect(word == [UInt8](repeating: 0, count: 8), "kmem_stop_seq left at \(word)")
    }

    /// What QEMU itself says of the guest (its run state and CPU registers, through the
    /// monitor, not the stub) and the kernel's last serial lines: a failure report that tells
    /// a guest that really went wrong from a console that reads it wrongly.
    static func diagnosis(_ boot: DebugBoot) -> String {
        let status = (try? boot.vmStatus()) ?? "?"
        let registers = ((try? boot.monitor("info registers")) ?? "")
            .split(whereSeparator: \.isNewline).filter { $0.hasPrefix("RIP") || $0.hasPrefix("CR0") }.joined(separator: "\n")
        return "QEMU: VM status \(status)\n\(registers)\nthe guest's serial line:\n\(boot.serial.suffix(1200))"
    }

    /// What the console printed for `line` (``TerminalSession/answer(to:timeout:)``).
    static func answer(_ terminal: TerminalSession, to line: String, timeout: Double = 60) throws -> String {
        try terminal.answer(to: line, timeout: timeout)
    }

    /// Where the `count`-th last prompt starts in `screen` (the start when there are fewer).
    static func lastPrompts(_ screen: String, count: Int) -> String.Index {
        var index = screen.endIndex
        for _ in 0..<count {
            guard let r = screen.range(of: "kmemscope>", options: .backwards, range: screen.startIndex..<index) else { return screen.startIndex }
            index = r.lowerBound
        }
        return index
    }
}
