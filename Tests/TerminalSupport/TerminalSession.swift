import BrowserSupport
import Foundation
import Glibc

/// What went wrong with the terminal: tmux missing or failing, or a screen that never showed
/// what a test waited for.
public struct TerminalError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A real terminal: a detached tmux session on a private tmux server, driven with `send-keys`
/// and read with `capture-pane`, the way a person sees the console. `close()` kills it.
public final class TerminalSession {
    /// The tmux binary, if installed.
    public static let tmux: String? = ["/usr/bin/tmux", "/usr/local/bin/tmux", "/bin/tmux"].first { FileManager.default.isExecutableFile(atPath: $0) }

    public let server = "kmemscope-test-\(getpid())-\(UInt32.random(in: 0 ... .max))"
    public let name = "console"

    /// Starts `command` (a shell command line) in a 200×60 terminal.
    public init(_ command: String) throws {
        // no pipe for new-session: the tmux server it forks would hold it open forever
        // tmux keeps 2,000 lines by default (set when a pane is made): past that, old prompts
        // scroll away as new ones come and a count of prompts no longer grows
        try run(["start-server", ";", "set-option", "-g", "history-limit", "200000", ";",
                 "new-session", "-d", "-s", name, "-x", "200", "-y", "60", command], capture: false)
    }

    /// Types `keys` (tmux key names such as `Enter`, `Tab`, `Up`, `C-c`, or literal text).
    public func send(_ keys: String...) throws { try run(["send-keys", "-t", name] + keys) }

    /// Types `line` literally, then Enter.
    public func type(_ line: String) throws {
        try run(["send-keys", "-t", name, "-l", line])
        try send("Enter")
    }

    /// The whole screen and its scrollback, as text.
    public func screen() throws -> String {
        try run(["capture-pane", "-p", "-J", "-S", "-", "-t", name])
    }

    /// Waits (at most `timeout` seconds) until the screen satisfies `condition`; returns it.
    @discardableResult
    public func wait(timeout: Double = 30, until condition: (String) -> Bool) throws -> String {
        let start = Date()
        while true {
            let text = try screen()
            if condition(text) { return text }
            guard Date().timeIntervalSince(start) < timeout else {
                throw TerminalError("the terminal did not show what was expected within \(timeout) s:\n\(text.suffix(3000))\n\(processes())")
            }
            usleep(100_000)
        }
    }

    /// What the processes in the terminal are doing (state, kernel wait channel and each
    /// thread's stack through gdb when it is installed): a console that stopped answering
    /// is then explained by the failure report instead of only shown.
    public func processes() -> String {
        guard let shell = (try? run(["display-message", "-p", "-t", name, "#{pane_pid}"]))
            .flatMap({ Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) else { return "(no pane process)" }
        var lines: [String] = []
        for pid in [shell] + Self.children(of: shell) {
            let command = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8))?
                .replacingOccurrences(of: "\0", with: " ").prefix(160) ?? "?"
            let state = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8))?
                .split(separator: "\n").first { $0.hasPrefix("State:") } ?? "?"
            let wchan = (try? String(contentsOfFile: "/proc/\(pid)/wchan", encoding: .utf8)) ?? "?"
            lines.append("pid \(pid) \(state) wchan \(wchan): \(command)")
            if command.contains("kmemscope"), FileManager.default.isExecutableFile(atPath: "/usr/bin/gdb") {
                let (_, out) = Program.run("/usr/bin/gdb", ["-batch", "-p", "\(pid)", "-ex", "thread apply all bt 40"])
                lines += out.split(separator: "\n").filter { $0.hasPrefix("#") || $0.hasPrefix("Thread") }.map(String.init)
            }
        }
        return "processes in the terminal:\n" + lines.joined(separator: "\n")
    }

    /// The terminal's local-mode flags as `stty -a` names them (`noflsh` or `-noflsh`, …).
    public func localModes() throws -> [String] {
        let tty = try run(["display-message", "-p", "-t", name, "#{pane_tty}"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let (status, out) = Program.run("/bin/stty", ["-F", tty, "-a"])
        guard status == 0 else { throw TerminalError("stty -F \(tty) -a failed: \(out)") }
        return out.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == ";" }).map(String.init)
    }

    /// The descendants of `pid` (from /proc's parent links).
    static func children(of pid: Int32) -> [Int32] {
        let all = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { Int32($0) }
        var parents: [Int32: Int32] = [:]
        for p in all {
            guard let stat = try? String(contentsOfFile: "/proc/\(p)/stat", encoding: .utf8),
                  let close = stat.range(of: ")", options: .backwards) else { continue }
            let fields = stat[close.upperBound...].split(separator: " ")
            if fields.count > 1, let parent = Int32(fields[1]) { parents[p] = parent }
        }
        var found: [Int32] = []
        var frontier = [pid]
        while let next = frontier.popLast(), found.count < 64 {
            let kids = parents.filter { $0.value == next }.map(\.key).sorted()
            found += kids
            frontier += kids
        }
        return found
    }

    /// How many console prompts the screen shows (capture-pane trims the prompt's trailing blank).
    public static func prompts(_ text: String) -> Int { text.components(separatedBy: "kmemscope>").count - 1 }

    /// Types `line` and waits for the next prompt (or for `marker`); returns the screen.
    @discardableResult
    public func command(_ line: String, timeout: Double = 60, until marker: String? = nil) throws -> String {
        let before = Self.prompts(try screen())
        try type(line)
        return try wait(timeout: timeout) { text in
            marker.map { text.contains($0) } ?? (Self.prompts(text) > before)
        }
    }

    /// Types `line` and returns what the console printed for it, once the next prompt shows:
    /// the text after the (new) echo of the line, so a prompt a stray Ctrl-C printed a moment
    /// late cannot be taken for the answer.
    public func answer(to line: String, timeout: Double = 60) throws -> String {
        let echo = "kmemscope> " + line + "\n"
        let before = try screen().components(separatedBy: echo).count
        try type(line)
        let text = try wait(timeout: timeout) { text in
            let parts = text.components(separatedBy: echo)
            return parts.count > before && parts.last!.contains("kmemscope>")
        }
        let after = text.components(separatedBy: echo).last!
        return String(after[..<after.range(of: "kmemscope>")!.lowerBound])
    }

    /// Ends the session (its shell and the console in it) and with it the private server
    /// (`kill-server` alone left tmux 3.3a's server running here).
    public func close() {
        _ = try? run(["kill-session", "-t", name], capture: false)
        _ = try? run(["kill-server"], capture: false)
    }

    /// Runs tmux on this test's private server and returns its standard output. Spawned and
    /// reaped here (posix_spawn + waitpid): Foundation's Process never saw `new-session`'s
    /// client exit (it stayed a zombie) once the client had forked the tmux server.
    @discardableResult
    private func run(_ arguments: [String], capture: Bool = true) throws -> String {
        guard let tmux = Self.tmux else { throw TerminalError("tmux is not installed") }
        let output = NSTemporaryDirectory() + "kmemscope-tmux-\(getpid())-\(UInt32.random(in: 0 ... .max)).out"
        defer { unlink(output) }
        var actions: posix_spawn_file_actions_t = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, capture ? output : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv = ([tmux, "-L", server, "-f", "/dev/null"] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, tmux, &actions, nil, argv, environ)
        guard rc == 0 else { throw TerminalError("cannot start tmux: errno \(rc)") }
        var status: Int32 = 0
        var waited: pid_t
        repeat { waited = waitpid(pid, &status, 0) } while waited == -1 && errno == EINTR
        // ECHILD: another reaper (Foundation's) took it; the output file still tells
        if waited == pid, !(status & 0x7f == 0 && (status >> 8) & 0xff == 0) {
            throw TerminalError("tmux \(arguments.first ?? "") failed (wait status \(status))")
        }
        return capture ? ((try? String(contentsOfFile: output, encoding: .utf8)) ?? "") : ""
    }
}
