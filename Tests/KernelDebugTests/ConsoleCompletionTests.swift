import Foundation
import TerminalSupport
import Testing

/// The console's Tab completion offers a view's own options only: not the connection options
/// the console's one session already fixed (--target, --elf, --timeout…), and no words of the
/// help prose such as `--replay:` (issue 24).
@Suite("kmemscope attach: Tab completion", .serialized,
       .enabled(if: TerminalSession.tmux != nil, "tmux is not installed (scripts/install-deps.sh installs it)"))
struct ConsoleCompletionTests {
    @Test func tabOffersOnlyOptionsThatMeanSomethingInASession() throws {
        let boot = try DebugBoot(append: "seed=3 ops=2000 phases=2")
        defer { boot.stop() }
        try boot.runUntil()
        let home = boot.directory + "/home"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        let terminal = try TerminalSession(ConsoleTests.attachLine("unix:" + boot.socket, home: home))
        defer { terminal.close() }
        _ = try terminal.wait { TerminalSession.prompts($0) == 1 }
        try terminal.send("-l", "verify --")
        try terminal.send("Tab")
        try terminal.send("Tab")
        let listed = try terminal.wait { $0.contains("--replay") && $0.contains("--json") }
        for sessionOption in ["--target", "--elf", "--timeout", "--memory-source", "--leave-stopped", "--snapshot", "--help"] {
            #expect(!listed.contains(sessionOption), "Tab offered \(sessionOption):\n\(listed)")
        }
        #expect(!listed.contains("--replay:"), "Tab offered a word of the help text:\n\(listed)")
        // a unique prefix completes to the option
        try terminal.send("C-u")
        try terminal.send("-l", "verify --rep")
        try terminal.send("Tab")
        let completed = try terminal.wait { $0.contains("kmemscope> verify --replay") }
        #expect(!completed.contains("--replay:"), "\(completed)")
        try terminal.send("C-u")
        try terminal.type("quit")
        _ = try terminal.wait { $0.contains("EXIT=") }
    }
}
