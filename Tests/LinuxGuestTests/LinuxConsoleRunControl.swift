import Foundation
import Testing
import TerminalSupport

/// The Linux `attach` console's run control, typed in a real terminal (tmux) as ConsoleTests
/// does for the bundled kernel: one connection keeps the guest's run state — found running, a
/// view stops it while it reads and lets it run again (the next `stop` finds it running), `stop`
/// stops it at a settled point, `continue` runs it (attaching stopped it); `until` and `next-checkpoint` say in one line
/// that Linux has no operation log, status 2; `quit` leaves it as it was found. Called on a
/// running guest's boot (LinuxVmcoreTests), so it costs no boot of its own.
enum LinuxConsoleRunControl {
    static func check(_ guest: LinuxGuest, _ live: [String]) throws {
        guard TerminalSession.tmux != nil else {
            Issue.record("tmux is not installed (scripts/install-deps.sh installs it)")
            return
        }
        let quoted = live.map { "'\($0)'" }.joined(separator: " ")
        let terminal = try TerminalSession("'\(LinuxVerifyTests.binary)' attach \(quoted); echo EXIT=$?; sleep 600")
        defer { terminal.close() }
        var screen = try terminal.wait(timeout: 60) { TerminalSession.prompts($0) == 1 }
        // attaching stopped it; quit puts it back as it was found
        let foundRunning = screen.contains("the guest was running; it is stopped now")
        #expect(foundRunning || screen.contains("the guest is stopped, as it was found"), "\(screen)")
        screen = try terminal.command("continue")
        #expect(screen.contains("the guest runs (`stop` stops it"), "\(screen)")
        // a view stops the running guest while it reads, then lets it run: stop finds it running
        screen = try terminal.command("buddyinfo")
        #expect(screen.contains("Node 0, zone    DMA32"), "\(screen)")
        screen = try terminal.command("stop")
        #expect(screen.contains("\nstopped at a settled point: no CPU inside the page or slab allocator"), "\(screen)")
        screen = try terminal.command("stop")
        #expect(screen.contains("the guest was already stopped at a settled point"), "\(screen)")
        // stopped, a view leaves it stopped
        _ = try terminal.command("zones")
        screen = try terminal.command("stop")
        #expect(screen.components(separatedBy: "the guest was already stopped at").count == 3, "\(screen)")
        for line in ["until 100", "next-checkpoint"] {
            screen = try terminal.command(line)
            #expect(screen.contains("kmemscope: \(line.split(separator: " ")[0]) stops at an operation of the bundled kernel's log; Linux keeps no operation log"), "\(screen)")
        }
        screen = try terminal.command("continue")
        #expect(screen.components(separatedBy: "the guest runs (`stop` stops it").count == 3, "\(screen)")
        screen = try terminal.command("continue")
        #expect(screen.contains("the guest is already running"), "\(screen)")
        // the last command's status is the console's: until's 2; quit leaves the guest as found
        _ = try terminal.command("until 5")
        screen = try terminal.command("quit", until: "EXIT=")
        #expect(screen.contains(foundRunning ? "detached: the guest runs on (as it was found)" : "detached: the guest is left stopped (as it was found)")
                && screen.contains("EXIT=2"), "\(screen)")
        // as found: QEMU's unsolicited stop reply on connect says whether it was running
        let target = try guest.connect()
        let wasRunning = target.unsolicitedStop != nil
        target.close()
        #expect(wasRunning == foundRunning, "the console's quit left the guest as it found it (running: \(foundRunning))")
    }
}
