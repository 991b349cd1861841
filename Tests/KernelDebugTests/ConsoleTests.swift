import Foundation
import TerminalSupport
import QEMULauncher
import Testing

/// `kmemscope attach` as a person sees it: a real terminal (tmux) in front of the real binary,
/// the real kernel running its workload in QEMU, its real gdbstub.
@Suite("kmemscope attach console", .serialized,
       .enabled(if: TerminalSession.tmux != nil, "tmux is not installed (scripts/install-deps.sh installs it): the console's terminal test cannot run"))
struct ConsoleTests {
    /// The shell line a terminal runs: the console with its history under `home`, then its exit status.
    static func attachLine(_ target: String, home: String) -> String {
        "cd '\(DebugBoot.root.path)' && HOME='\(home)' '\(InfoCommandTests.binary)' attach --target \(target) --elf '\(DebugBoot.kernel)'; echo EXIT=$?; sleep 600"
    }

    static func sequence(after marker: String, in text: String) -> UInt64? {
        guard let range = text.range(of: marker, options: .backwards) else { return nil }
        return UInt64(text[range.upperBound...].prefix { $0.isNumber })
    }

    /// attach → a view → until SEQ → verify → quit in a terminal, against a workload that runs;
    /// the guest runs on after quit (it was found running). Then, piped: a script of commands.
    /// Then a second terminal: history from the first run (Up), Tab completion, and the stub
    /// dying under the console (one line, no hang, `quit` says status 2).
    @Test func consoleInATerminal() throws {
        let boot = try DebugBoot(append: "seed=3 ops=3000000 phases=2")
        defer { boot.stop() }
        try boot.release(until: "kmem: workload")
        let home = boot.directory + "/home"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        let target = "unix:" + boot.socket

        let first = try TerminalSession(Self.attachLine(target, home: home))
        defer { first.close() }
        var screen = try first.wait { TerminalSession.prompts($0) == 1 }
        #expect(screen.contains("(the guest was running; it is stopped now, at sequence "), "\(screen)")
        let attachedAt = try #require(Self.sequence(after: "it is stopped now, at sequence ", in: screen))

        screen = try first.command("zones")
        #expect(screen.contains("zone DMA32  pfn [0x1000, 0x"), "\(screen.suffix(2000))")
        #expect(screen.contains("Node 0, zone    DMA32"), "\(screen.suffix(2000))")

        let goal = attachedAt + 25_000
        screen = try first.command("until \(goal)")
        // the kernel checks kmem_stop_seq after each workload operation, and one of those can
        // take several sequence numbers (a kmalloc that grows its cache): the first boundary at
        // or after the goal
        let reached = try #require(Self.sequence(after: "reached: stopped at sequence ", in: screen), "\(screen.suffix(2000))")
        #expect(reached >= goal && reached < goal + 16, "\(screen.suffix(2000))")
        #expect(screen.contains("reached: stopped at sequence \(reached), between operations"), "\(screen.suffix(2000))")

        screen = try first.command("verify")
        #expect(screen.contains("sequence \(reached)\n"), "\(screen.suffix(2000))")
        #expect(screen.contains("verify: 20 checks over") && screen.contains("all passed"), "\(screen.suffix(2000))")

        screen = try first.command("log --last 1")
        #expect(screen.contains("seq \(reached) "), "\(screen.suffix(2000))")

        try first.type("quit")
        screen = try first.wait { $0.contains("EXIT=") }
        #expect(screen.contains("detached: the guest runs on (as it was found)"), "\(screen.suffix(1000))")
        #expect(screen.contains("EXIT=0"), "\(screen.suffix(1000))")
        #expect(try boot.vmStatus() == "running")
        // the kernel's own word, once it runs on past the breakpoint: its checkpoint line for that sequence
        let printed = Date()
        let line = "kmem: checkpoint phase 1 seq \(reached)"
        while Self.sequence(after: "kmem: checkpoint phase 1 seq ", in: boot.serial) != reached && Date().timeIntervalSince(printed) < 10 { usleep(50_000) }
        #expect(Self.sequence(after: "kmem: checkpoint phase 1 seq ", in: boot.serial) == reached, "no '\(line)' in \(boot.serial.suffix(500))")

        // piped: no terminal, no prompt; the end of input quits with the last command's status
        let piped = try Self.pipe("stop\nhelp\nhelp zones\nlog --last 2\nverify\n", target: target)
        #expect(piped.status == 0, "\(piped.out)\n\(piped.err)")
        #expect(piped.out.contains("all passed") && !piped.out.contains("kmemscope>"), "\(piped.out)")
        // help: the run-control commands and the views; help VIEW: its columns
        #expect(piped.out.contains("next-checkpoint") && piped.out.contains("until SEQ") && piped.out.contains("  freelist "), "\(piped.out)")
        let words = piped.out.split(whereSeparator: { $0 == " " || $0 == "\n" }).joined(separator: " ")   // help wraps at 80 columns
        #expect(words.contains("managed = present − boot-reserved"), "\(piped.out)")
        let history = try String(contentsOfFile: home + "/.kmemscope_history", encoding: .utf8)
        #expect(history.contains("until\\040\(goal)") || history.contains("until \(goal)"), "\(history)")

        let second = try TerminalSession(Self.attachLine(target, home: home))
        defer { second.close() }
        try second.wait { TerminalSession.prompts($0) == 1 }
        // the history of the first terminal: Up Up is the line before `quit`
        try second.send("Up", "Up")
        screen = try second.wait { $0.contains("kmemscope> log --last 1") }
        try second.send("C-u")
        try second.send("-l", "zonei")
        try second.send("Tab")
        screen = try second.wait { $0.contains("kmemscope> zoneinfo") }
        try second.send("C-u")
        try second.send("-l", "freelist DMA3")
        try second.send("Tab")
        screen = try second.wait { $0.contains("kmemscope> freelist DMA32") }
        try second.send("C-u")
        screen = try second.command("continue")
        #expect(screen.contains("the guest runs"), "\(screen.suffix(1000))")
        boot.process.kill()   // SIGKILL: the stub vanishes under the console
        screen = try second.command("zones", timeout: 20)
        #expect(screen.contains("is gone (") && screen.contains("`reconnect` to attach again, or `quit`"), "\(screen.suffix(1500))")
        try second.type("quit")
        screen = try second.wait { $0.contains("EXIT=") }
        #expect(screen.contains("EXIT=2"), "\(screen.suffix(1000))")
    }

    /// `next-checkpoint` stops at the workload's checkpoints one after another: the phase the
    /// kernel passed and the sequence each time, equal to the kernel's own `kmem: checkpoint`
    /// lines on its serial port.
    @Test func nextCheckpointStopsAtEachCheckpointInTurn() throws {
        let boot = try DebugBoot(memory: "128M", append: "seed=2 ops=600000 phases=300")
        defer { boot.stop() }
        try boot.stopAt(sequence: 100)
        let r = try Self.pipe("next-checkpoint\nnext-checkpoint\nquit\n", target: "unix:" + boot.socket)
        #expect(r.status == 0, "\(r.out)\(r.err)")
        let stops = r.out.split(separator: "\n").filter { $0.hasPrefix("at kmem_checkpoint (phase ") }
        try #require(stops.count == 2, "\(r.out)")
        let sequences = stops.compactMap { UInt64($0.split(separator: " ").last!) }
        #expect(sequences.count == 2 && sequences[0] < sequences[1], "\(stops)")
        // the console left the guest stopped (as found): let it print the checkpoints it is at
        let t = try boot.reconnect()
        try t.detach()
        let deadline = Date().addingTimeInterval(30)
        while WatchCheckpointTests.checkpoints(boot.serial).count < 3 && Date() < deadline { usleep(20_000) }
        let printed = WatchCheckpointTests.checkpoints(boot.serial)
        #expect(sequences.allSatisfy(printed.contains), "\(sequences) in \(printed)")
    }

    /// Runs the console with `script` on standard input (not a terminal).
    static func pipe(_ script: String, target: String) throws -> (status: Int32, out: String, err: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: InfoCommandTests.binary)
        p.arguments = ["attach", "--target", target, "--elf", DebugBoot.kernel]
        p.currentDirectoryURL = DebugBoot.root
        let input = Pipe(), out = Pipe(), err = Pipe()
        p.standardInput = input
        p.standardOutput = out
        p.standardError = err
        try p.run()
        input.fileHandleForWriting.write(Data(script.utf8))
        try input.fileHandleForWriting.close()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }
}
