import BundledState
import ArgumentParser
import Foundation
import Glibc
import BundledKernel
import KernelLayouts
import KernelSession

/// The bundled kernel's `attach` console: its commands, run against the console's session
/// (the loop, the line reading and the error reports are ``AttachConsole``'s, shared with
/// ``LinuxConsole``).
///
/// Console-only commands (run control, `help`, `reconnect`, `quit`) are handled here; every
/// other line is parsed by the `kmemscope` command types themselves and run as from the shell,
/// in a ``CommandContext`` that carries the console's session instead of a connection of their own.
struct Console: AttachConsole {
    let session: ConsoleSession
    let reader: LineReader
    /// The exit status of the last command (0 passed, 1 violations, 2 no verdict).
    var lastStatus: Int32 = 0

    /// The console-only commands and what they do, as `help` lists them.
    static let ownCommands: [ConsoleHelp.Entry] = [
        ("continue", "continue", "let the guest run (views stop it while they read, then let it run again)"),
        ("stop", "stop", "stop the guest (at an allocator operation boundary)"),
        ("until", "until SEQ [SECONDS]", "run until the allocator reaches sequence SEQ (kmem_stop_seq; the first operation boundary at or after it), at most SECONDS (60)"),
        ("next-checkpoint", "next-checkpoint [SECONDS]", "run until the next kmem_checkpoint, at most SECONDS (60)"),
        ConsoleHelp.reconnect, ConsoleHelp.help, ConsoleHelp.quit,
    ]

    /// The one-shot commands that make sense inside the console (all but `attach` itself).
    static var viewCommands: [ParsableCommand.Type] {
        Kmemscope.configuration.subcommands.filter { $0 != AttachCommand.self }
    }

    init(session: ConsoleSession, historyPath: String?) {
        self.session = session
        let names = Self.ownCommands.map(\.name) + Self.viewCommands.map { $0._commandName } + ["exit"]
        reader = LineReader(historyPath: historyPath, completer: LineCompleter(commands: names) { command in
            Console.completions(after: command)
        })
    }

    /// Words Tab offers after `command`: zone and migratetype names, then the command's options.
    static func completions(after command: String) -> [String] {
        var words = SnapshotDecoder.zoneNames + MigratetypeName.names
        if let type = viewCommands.first(where: { $0._commandName == command }) {
            words += optionNames(of: type)
        }
        return words
    }

    /// Options that mean nothing inside a session: the console's one connection (target, memory
    /// source, image, snapshot or vmcore, restore policy) serves every command, and help is `help`.
    static let sessionOptions: Set<String> = [
        "--target", "--timeout", "--leave-stopped", "--resume", "--memory-source", "--memory-file", "--qemu-pid", "--qmp",
        "--snapshot", "--vmcore", "--elf", "--kernel", "--symbols", "--help", "--version",
    ]

    /// The `--options` a command's help defines (ArgumentParser has no public list of them):
    /// the names at the start of its OPTIONS lines, not words of the prose, less `excluded`
    /// (``sessionOptions`` by default).
    static func optionNames(of type: ParsableCommand.Type, excluding excluded: Set<String> = sessionOptions) -> [String] {
        let help = Kmemscope.helpMessage(for: type)
        var names: Set<String> = []
        for line in help.split(separator: "\n") {
            let trimmed = line.drop { $0 == " " }
            guard line.hasPrefix("  "), trimmed.hasPrefix("-") else { continue }
            // "-o, --output <file>  The …" or "--json  Print …": the option names before the help text
            for word in trimmed.split(separator: " ").prefix(3) {
                let name = String(word.prefix { $0.isLetter || $0.isNumber || $0 == "-" })
                if name.hasPrefix("--"), name.count > 2, !excluded.contains(name) { names.insert(name) }
            }
        }
        return names.sorted()
    }

    // what the shared loop asks of this console's session
    func commandEnded() { session.commandEnded() }
    func detach() -> String { session.detach() }
    var resumesAfterCommand: Bool { session.resumesAfterCommand }
    var stubAddress: String { session.stub.target }
    func drop() { session.drop() }

    /// Runs one command line.
    mutating func execute(_ name: String, _ arguments: [String]) {
        defer { ProgressLine.finish() }
        do {
            switch name {
            case "help": say(try help(arguments)); lastStatus = 0
            case "reconnect":
                session.drop()
                try session.connect()
                say(banner()); lastStatus = 0
            case "continue", "c": say(try resume()); lastStatus = 0
            case "stop": say(try stop()); lastStatus = 0
            case "until": say(try until(arguments)); lastStatus = 0
            case "next-checkpoint": say(try nextCheckpoint(arguments)); lastStatus = 0
            case "attach": throw ValidationError("already attached: every command here runs on this session")
            default:
                guard Self.viewCommands.contains(where: { $0._commandName == name }) else {
                    throw ValidationError("unknown command '\(name)': `help` lists them")
                }
                lastStatus = try runView([name] + arguments)
            }
        } catch {
            lastStatus = report(error)
        }
    }

    /// Parses `words` with kmemscope's own command types and runs the command on this session.
    func runView(_ words: [String]) throws -> Int32 {
        let command = try Kmemscope.parseAsRoot(words)
        do {
            try CommandContext(console: session).run(command)
        } catch let code as ExitCode {
            return code.rawValue
        }
        return 0
    }

    /// What the console says when it attaches.
    func banner() -> String {
        if let snapshot = session.snapshot {
            return "reading the snapshot \(snapshot.file.path) offline (sequence \(snapshot.file.header.sequence), taken \(snapshot.file.header.taken)): "
                + "every view and verify run on it; continue, stop, until and next-checkpoint need a live guest. `help` lists the commands; `quit` ends."
        }
        if let waiting = session.unbooted {
            return "attached to \(session.stub.target) (the guest was \(waiting.found.rawValue)); the kernel has not booted yet "
                + "(started stopped, QEMU -S): `continue`, `until SEQ` or `next-checkpoint` runs it. `help` lists the commands; `quit` detaches."
        }
        guard let guest = session.guest else { return "not attached" }
        let sequence = (try? guest.info.number("SEQUENCE")).flatMap { try? guest.memory.readU64(at: $0) }
        return "attached to \(session.stub.target) (the guest was \(guest.found.rawValue); it is stopped now"
            + (sequence.map { ", at sequence \($0)" } ?? "") + "). `help` lists the commands; `quit` detaches."
    }
}
