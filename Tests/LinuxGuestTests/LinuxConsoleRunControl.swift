import Foundation
import Testing
import TerminalSupport

/// The Linux `attach` console, typed in a real terminal (tmux) as ConsoleTests does for the
/// bundled kernel. Run control: one connection keeps the guest's run state — found running, a
/// view stops it while it reads and lets it run again (the next `stop` finds it running), `stop`
/// stops it at a settled point, `continue` runs it (attaching stopped it); `until` and `next-checkpoint` say in one line
/// that Linux has no operation log, status 2; `quit` leaves it as it was found. The bundled
/// console's line reader: Ctrl-C at the prompt drops the line, Up recalls the last one, Tab
/// completes commands, zones and only the options a line may give. `reconnect` attaches again
/// and checks the kernel again; a view after it equals the guest's /proc/buddyinfo. Then through
/// `kmemscope proxy`: Ctrl-C in a command whose stub stopped answering, the stub killed under the
/// console (one line, the console stays), `reconnect` failing while it is gone and working once a
/// new proxy listens on the same port. Called on a running guest's boot (LinuxVmcoreTests), so
/// it costs no boot of its own.
enum LinuxConsoleRunControl {
    static func check(_ guest: LinuxGuest, _ live: [String]) throws {
        guard TerminalSession.tmux != nil else {
            Issue.record("tmux is not installed (scripts/install-deps.sh installs it)")
            return
        }
        let started = Date()
        let home = guest.directory + "/home"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        let quoted = live.map { "'\($0)'" }.joined(separator: " ")
        let terminal = try TerminalSession("HOME='\(home)' '\(LinuxVerifyTests.binary)' attach \(quoted); echo EXIT=$?; sleep 600")
        defer { terminal.close() }
        var screen = try terminal.wait(timeout: 60) { TerminalSession.prompts($0) == 1 }
        // attaching stopped it and checked the kernel; quit puts it back as it was found
        let foundRunning = screen.contains("the guest was running; it is stopped now")
        #expect(foundRunning || screen.contains("the guest is stopped, as it was found"), "\(screen)")
        #expect(screen.contains("Linux version 6.1."), "the banner names the kernel it checked:\n\(screen)")
        // Ctrl-C at the prompt drops the line typed so far: it is not run
        try terminal.send("-l", "buddyinfo")
        try terminal.send("C-c")
        screen = try terminal.wait { TerminalSession.prompts($0) == 2 }
        #expect(!screen.contains("Node 0, zone"), "a line dropped by Ctrl-C ran:\n\(screen)")
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
        // reconnect: the connection dropped (the guest put back as found) and made again, the
        // kernel checked again; the guest stopped, as attaching leaves it
        screen = try terminal.answer(to: "reconnect")
        #expect(screen.contains("kmemscope: Linux console (") && screen.contains("Linux version 6.1.")
                && screen.contains(foundRunning ? "the guest was running; it is stopped now" : "the guest is stopped, as it was found"), "\(screen)")
        try expectBuddyinfo(terminal, equalTo: guest, "after reconnect")

        // the line reader: history (Up recalls the line before) and Tab
        try terminal.send("Up")
        try terminal.wait { Self.lastLine($0) == "kmemscope> buddyinfo" }
        for (typed, completed) in [("zonei", "zoneinfo"), ("freelist DMA3", "freelist DMA32"), ("reco", "reconnect")] {
            try terminal.send("C-u")
            try terminal.send("-l", typed)
            try terminal.send("Tab")
            try terminal.wait { Self.lastLine($0) == "kmemscope> " + completed }
        }
        try terminal.send("C-u")
        try terminal.send("-l", "verify --")
        try terminal.send("Tab")
        try terminal.send("Tab")
        let listed = try terminal.wait { $0.contains("--json") && $0.contains("--list-limit") }
        let typed = try #require(listed.range(of: "kmemscope> verify --", options: .backwards), "\(listed)")
        let offered = String(listed[typed.upperBound...])
        for notOffered in ["--target", "--symbols", "--kernel", "--snapshot", "--vmcore", "--elf", "--qmp", "--help",
                           "--replay", "--from", "--streaming", "--free-page-poison"] {
            #expect(!offered.contains(notOffered + " ") && !offered.contains(notOffered + "\n"), "Tab offered \(notOffered):\n\(offered)")
        }
        try terminal.send("C-u")
        try terminal.wait { Self.lastLine($0) == "kmemscope>" }

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
        #expect(try terminal.localModes().contains("-noflsh"), "the terminal's own NOFLSH setting is put back")
        let history = try String(contentsOfFile: home + "/.kmemscope_history", encoding: .utf8)
        #expect(history.contains("reconnect") && (history.contains("until\\0405") || history.contains("until 5")), "\(history)")

        let direct = Date()
        try throughProxy(guest, live, home: home)
        print(String(format: "linux console: %.1f s on the guest's own stub, %.1f s through the proxy", direct.timeIntervalSince(started), Date().timeIntervalSince(direct)))
    }

    /// The console's lines after the echo of the last command, up to the prompt: the view's
    /// rows (`Node …`) must be the guest's own /proc/buddyinfo (printed at boot; the guest idles).
    static func expectBuddyinfo(_ terminal: TerminalSession, equalTo guest: LinuxGuest, _ label: String) throws {
        let answer = try terminal.answer(to: "buddyinfo")
        let rows = answer.split(separator: "\n").filter { $0.hasPrefix("Node ") }
        let proc = try guest.section("buddyinfo").split(separator: "\n").filter { $0.hasPrefix("Node ") }
        #expect(!rows.isEmpty && rows == proc, "\(label): buddyinfo in the console\n\(answer)\n/proc/buddyinfo:\n\(proc.joined(separator: "\n"))")
    }

    /// The last line on the screen, without trailing blanks.
    static func lastLine(_ screen: String) -> String {
        let lines = screen.split(separator: "\n", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        return lines.last { !$0.isEmpty } ?? ""
    }

    /// The console through `kmemscope proxy` on a TCP port: Ctrl-C while the stub does not
    /// answer (the proxy stopped), the stub gone (the proxy killed), `reconnect` refused while
    /// nothing listens and attaching again to a new proxy on the same port; then a view equal
    /// to /proc. The guest is left stopped, as the caller had it.
    static func throughProxy(_ guest: LinuxGuest, _ live: [String], home: String) throws {
        let port = try ConsoleProxy.freePort()
        let first = try ConsoleProxy(upstream: "unix:" + guest.socketPath, listen: "127.0.0.1:\(port)", directory: guest.directory)
        var second: ConsoleProxy?
        defer {
            first.kill(SIGKILL)
            second?.stop()
        }
        let arguments = Array(live.prefix { $0 != "--target" }) + ["--target", "127.0.0.1:\(port)", "--timeout", "30"]
        let quoted = arguments.map { "'\($0)'" }.joined(separator: " ")
        let terminal = try TerminalSession("HOME='\(home)' '\(LinuxVerifyTests.binary)' attach \(quoted); echo EXIT=$?; sleep 600")
        defer { terminal.close() }
        var screen = try terminal.wait(timeout: 60) { TerminalSession.prompts($0) == 1 }
        #expect(screen.contains("Linux version 6.1.") && screen.contains("--target 127.0.0.1:\(port)"), "\(screen)")

        // a stub that stops answering: the command waits (NOFLSH set while it runs); Ctrl-C
        // ends it and the console answers the next command
        first.kill(SIGSTOP)
        let before = TerminalSession.prompts(try terminal.screen())
        try terminal.type("buddyinfo")
        usleep(1_000_000)
        #expect(try terminal.localModes().contains("noflsh"), "NOFLSH while a command runs")
        try terminal.send("C-c")
        first.kill(SIGCONT)
        screen = try terminal.wait(timeout: 60) { TerminalSession.prompts($0) > before }
        #expect(screen.contains("interrupted; the guest is stopped"), "\(screen.suffix(1500))")
        screen = try terminal.answer(to: "continue")
        #expect(screen.contains("the guest runs (`stop` stops it"), "\(screen)")

        // the stub goes away under the console: one line, and the console stays
        first.kill(SIGKILL)
        screen = try terminal.answer(to: "buddyinfo")
        #expect(screen.contains("kmemscope: the stub at 127.0.0.1:\(port) is gone (") && screen.contains("`reconnect` to attach again, or `quit`"), "\(screen)")
        #expect(!screen.contains("Node 0"), "\(screen)")
        screen = try terminal.answer(to: "zones")
        #expect(screen.contains("not attached (the stub went away): `reconnect` to attach again, or `quit`"), "\(screen)")
        screen = try terminal.answer(to: "reconnect")
        #expect(screen.contains("kmemscope: ") && screen.contains("127.0.0.1:\(port)") && !screen.contains("Linux console ("), "nothing listens yet:\n\(screen)")

        // a new stub on the same port: reconnect attaches again and checks the kernel
        second = try ConsoleProxy(upstream: "unix:" + guest.socketPath, listen: "127.0.0.1:\(port)", directory: guest.directory)
        screen = try terminal.answer(to: "reconnect")
        #expect(screen.contains("kmemscope: Linux console (") && screen.contains("Linux version 6.1."), "\(screen)")
        let foundRunning = screen.contains("the guest was running; it is stopped now")
        #expect(foundRunning || screen.contains("the guest is stopped, as it was found"), "\(screen)")
        try expectBuddyinfo(terminal, equalTo: guest, "after reconnect through a new proxy")
        try terminal.type("quit")
        screen = try terminal.wait { $0.contains("EXIT=") }
        #expect(screen.contains(foundRunning ? "detached: the guest runs on (as it was found)" : "detached: the guest is left stopped (as it was found)")
                && screen.contains("EXIT=0"), "\(screen.suffix(1500))")
        second?.stop()
        second = nil
        // stopped, as the caller had it (a connection stops the guest; closing leaves it so)
        try guest.connect().close()
    }
}

/// `kmemscope proxy --listen ADDRESS --target UPSTREAM` as a child process (posix_spawn; its
/// standard error in a file), for the console's dropped-stub test.
final class ConsoleProxy {
    let pid: pid_t
    let logPath: String
    private var reaped = false

    init(upstream: String, listen: String, directory: String) throws {
        logPath = directory + "/proxy-\(UInt32.random(in: 0 ... .max)).log"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, logPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let argv = [LinuxVerifyTests.binary, "proxy", "--listen", listen, "--target", upstream]
        var cArgs = argv.map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) } }
        var child: pid_t = 0
        guard posix_spawn(&child, LinuxVerifyTests.binary, &actions, nil, &cArgs, environ) == 0 else {
            throw Failure(description: "cannot start kmemscope proxy: errno \(errno)")
        }
        pid = child
        let start = Date()
        while !log.contains("listening on") {
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid || Date().timeIntervalSince(start) > 20 {
                reaped = true
                Glibc.kill(pid, SIGKILL)
                throw Failure(description: "kmemscope proxy --listen \(listen) did not start (wait status \(status)): \(log)")
            }
            usleep(20_000)
        }
    }

    struct Failure: Error, CustomStringConvertible { var description: String }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// A TCP port on 127.0.0.1 that nothing listens on now (the kernel's pick for port 0).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw Failure(description: "bind 127.0.0.1:0: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    func kill(_ signal: Int32) {
        guard !reaped else { return }
        Glibc.kill(pid, signal)
        if signal == SIGKILL { reap() }
    }

    /// SIGTERM (the proxy leaves the guest as it found it), then SIGKILL after 5 s.
    func stop() {
        guard !reaped else { return }
        Glibc.kill(pid, SIGTERM)
        let start = Date()
        var status: Int32 = 0
        while Date().timeIntervalSince(start) < 5 {
            if waitpid(pid, &status, WNOHANG) == pid {
                reaped = true
                return
            }
            usleep(20_000)
        }
        Glibc.kill(pid, SIGKILL)
        reap()
    }

    private func reap() {
        guard !reaped else { return }
        reaped = true
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    }
}
