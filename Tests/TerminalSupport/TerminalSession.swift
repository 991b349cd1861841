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
        try run(["new-session", "-d", "-s", name, "-x", "200", "-y", "60", command], capture: false)
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
                throw TerminalError("the terminal did not show what was expected within \(timeout) s:\n\(text.suffix(3000))")
            }
            usleep(100_000)
        }
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
