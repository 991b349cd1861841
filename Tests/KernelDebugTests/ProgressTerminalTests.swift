import Foundation
import TerminalSupport
import Testing

/// The progress line on standard error, as a person sees it: a read of 320 MiB of a 1G guest
/// through the gdbstub (several seconds even on a quiet host, where 96 MiB once took under the line's
/// one-second delay plus its one-second rate sample) in a real terminal (tmux) shows bytes, rate and time
/// left on one line redrawn in place, erased when the read ends; with standard error a pipe,
/// nothing at all is written there, and the bytes read are the same.
@Suite("Progress on standard error", .serialized,
       .enabled(if: TerminalSession.tmux != nil, "tmux is not installed (scripts/install-deps.sh installs it)"))
struct ProgressTerminalTests {
    /// Long enough that the line shows with its time left on any host the suite runs on.
    static let megabytes = 320

    @Test func longReadShowsProgressOnlyInATerminal() throws {
        let boot = try DebugBoot(memory: "1G", append: "")
        defer { boot.stop() }
        try boot.runUntil(["kmem: self-check"])
        let target = ["--target", "unix:" + boot.socket, "--elf", DebugBoot.kernel, "--memory-source", "stub"]
        func dump(_ megabytes: Int) -> [String] { ["dump", "0", String(megabytes << 20), "--physical"] }
        let shown = boot.directory + "/terminal.bin", piped = boot.directory + "/piped.bin"

        let line = "'\(InfoCommandTests.binary)' " + (dump(Self.megabytes) + ["-o", shown] + target).map { "'\($0)'" }.joined(separator: " ")
            + "; echo EXIT=$?; sleep 600"
        let terminal = try TerminalSession(line)
        defer { terminal.close() }
        let during = try terminal.wait(timeout: 60) { $0.contains("reading guest memory: ") && $0.contains(" s left") }
        let progress = try #require(during.split(separator: "\n").first { $0.contains("reading guest memory: ") })
        #expect(progress.contains(" of \(Self.megabytes).0 MiB, ") && progress.contains(" MiB/s, "), "\(progress)")
        let after = try terminal.wait(timeout: 400) { $0.contains("EXIT=") }
        #expect(after.contains("\nEXIT=0") || after.hasPrefix("EXIT=0"), "\(after.suffix(1000))")
        #expect(!after.contains("reading guest memory"), "the line is erased at the end:\n\(after.suffix(1000))")

        // standard error a pipe: not a byte of progress, and the same bytes (read unchunked)
        let quiet = try InfoCommandTests.kmemscope(dump(16) + ["-o", piped] + target)
        #expect(quiet.status == 0 && quiet.err.isEmpty, "standard error: \(quiet.err.debugDescription)")
        let a = try Data(contentsOf: URL(fileURLWithPath: shown)), b = try Data(contentsOf: URL(fileURLWithPath: piped))
        #expect(a.count == Self.megabytes << 20 && a.prefix(16 << 20) == b)
    }
}
