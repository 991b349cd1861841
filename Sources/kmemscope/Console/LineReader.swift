import CLibEdit
import Foundation
import Glibc
import KernelSession

/// Reads the console's lines: through libedit (prompt, line editing, history kept in a file,
/// tab completion) when standard input is a terminal, plainly otherwise, so scripts can pipe
/// commands in.
final class LineReader {
    /// Whether lines come from a terminal (libedit) or a pipe or file (plain reads, no prompt).
    let interactive: Bool
    /// The history file (`~/.kmemscope_history`), read at start and written after every line.
    let historyPath: String?

    /// Lines from a pipe or file.
    private var plain = PlainLines()

    /// How many lines the history file keeps.
    static let historyLimit: Int32 = 1000

    init(historyPath: String?, completer: LineCompleter) {
        interactive = isatty(STDIN_FILENO) == 1
        self.historyPath = historyPath
        guard interactive else { return }
        keepOutputOnInterrupt()   // before libedit reads the terminal's modes
        LineCompleter.current = completer
        kmem_editline_setup(UnsafePointer(strdup("kmemscope")), { text, start, _ in
            kmem_editline_completion_over()   // no file-name completion when nothing matches
            LineCompleter.prepare(text: text.map { String(cString: $0) } ?? "", start: Int(start))
            return rl_completion_matches(text, { _, state in LineCompleter.next(state: state) })
        })
        stifle_history(Self.historyLimit)
        if let historyPath { _ = read_history(historyPath) }
    }

    /// Whether the terminal had NOFLSH before ``keepOutputOnInterrupt()`` set it (nil: not set here).
    private var hadNoFlush: Bool?

    /// Sets NOFLSH while commands run: by default a terminal that turns Ctrl-C into SIGINT
    /// also throws away the output not yet shown, so a Ctrl-C that lands as a command ends
    /// could swallow its last lines and the next prompt (the console then waited at a prompt
    /// nobody saw). libedit takes the terminal's modes for running commands from it as it is
    /// here; its own line-editing mode (at the prompt) clears the flag again, where a Ctrl-C
    /// ends the line and the prompt is drawn anew. ``close()`` puts the setting back.
    private func keepOutputOnInterrupt() {
        var settings = termios()
        guard tcgetattr(STDIN_FILENO, &settings) == 0 else { return }
        hadNoFlush = settings.c_lflag & tcflag_t(NOFLSH) != 0
        settings.c_lflag |= tcflag_t(NOFLSH)
        _ = tcsetattr(STDIN_FILENO, TCSANOW, &settings)
    }

    /// Gives the terminal back its own NOFLSH setting (once; also when the reader goes away).
    /// Only that flag: libedit restores the rest itself.
    func close() {
        guard let had = hadNoFlush else { return }
        hadNoFlush = nil
        var settings = termios()
        guard tcgetattr(STDIN_FILENO, &settings) == 0 else { return }
        if had { settings.c_lflag |= tcflag_t(NOFLSH) } else { settings.c_lflag &= ~tcflag_t(NOFLSH) }
        _ = tcsetattr(STDIN_FILENO, TCSANOW, &settings)
    }

    deinit { close() }

    /// The next line without its newline; nil at the end of input (Ctrl-D, end of the pipe).
    func next(prompt: String) -> String? {
        guard interactive else { return plain.next() }
        guard let raw = readline(prompt) else { return nil }
        defer { free(raw) }
        let line = String(cString: raw)
        if !line.trimmingCharacters(in: .whitespaces).isEmpty {
            add_history(raw)
            if let historyPath {
                _ = write_history(historyPath)
                _ = history_truncate_file(historyPath, Self.historyLimit)
            }
        }
        return line
    }

    /// `~/.kmemscope_history` (nil without a home directory).
    static var defaultHistoryPath: String? {
        guard let home = ProcessInfo.processInfo.environment["HOME"], !home.isEmpty else { return nil }
        return home + "/.kmemscope_history"
    }
}

/// Lines read with read(2) from standard input. Unlike `readLine`, a signal ends the wait
/// (SIGTERM or SIGHUP while a script's input is idle), so the console can put the guest back.
struct PlainLines {
    private var buffer: [UInt8] = []
    private var ended = false

    /// The next line without its newline; nil at the end of input or when a signal arrived.
    mutating func next() -> String? {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                return line
            }
            if ended {
                guard !buffer.isEmpty else { return nil }
                defer { buffer = [] }
                return String(decoding: buffer, as: UTF8.self)
            }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = chunk.withUnsafeMutableBytes { Glibc.read(STDIN_FILENO, $0.baseAddress, $0.count) }
            if n > 0 {
                buffer += chunk[..<n]
            } else if n == 0 {
                ended = true
            } else if errno == EINTR {
                if InterruptSignals.isPending { return nil }
            } else {
                ended = true
            }
        }
    }
}

/// Tab completion: command names for the first word, zone and migratetype names (and the
/// command's options) after it. libedit calls back through C function pointers, which cannot
/// capture, so the console's one completer lives in a static.
final class LineCompleter {
    /// The console's command names.
    let commands: [String]
    /// Words offered after a command name: zone names, migratetypes, options.
    let arguments: (_ command: String) -> [String]

    init(commands: [String], arguments: @escaping (_ command: String) -> [String]) {
        self.commands = commands
        self.arguments = arguments
    }

    // The console reads lines on one thread only; libedit calls back on that thread.
    nonisolated(unsafe) static var current: LineCompleter?
    nonisolated(unsafe) private static var matches: [String] = []
    nonisolated(unsafe) private static var index = 0

    /// Computes the candidates for the word `text` starting at `start` in libedit's line buffer.
    static func prepare(text: String, start: Int) {
        index = 0
        guard let completer = current else { matches = []; return }
        let line = kmem_editline_line_buffer().map { String(cString: $0) } ?? ""
        let before = String(line.utf8.prefix(max(0, start))) ?? ""
        let words = before.split(separator: " ").map(String.init)
        let pool = words.isEmpty ? completer.commands : completer.arguments(words[0])
        matches = pool.filter { $0.lowercased().hasPrefix(text.lowercased()) }.sorted()
    }

    /// libedit's generator: one malloc'd candidate per call, nil after the last.
    static func next(state: Int32) -> UnsafeMutablePointer<CChar>? {
        guard index < matches.count else { return nil }
        defer { index += 1 }
        return strdup(matches[index])
    }
}
