import ArgumentParser
import Foundation
import KernelSession

/// `kmemscope attach`: connects once and opens a console (prompt, line editing, history in
/// `~/.kmemscope_history`, tab completion) where every view runs against that one session,
/// plus run control: `continue`, `stop`, `until SEQ`, `next-checkpoint`, `reconnect`, `quit`;
/// with `--kernel linux` the same console over a Linux guest (``LinuxConsole``).
struct AttachCommand: GuestCommand {
    static let configuration = CommandConfiguration(
        commandName: "attach",
        abstract: "Attach once and open a console: every view, plus continue, stop, until SEQ, next-checkpoint, quit.",
        discussion: """
            Lines come from the terminal through libedit (history in ~/.kmemscope_history, Tab completes \
            command and zone names), or plainly from a pipe or file (no prompt), so scripts can pipe commands in. \
            The guest is stopped while a command reads it; `continue` lets it run, `stop` stops it. \
            `quit` (or the end of input) detaches and leaves the guest as it was found on attach \
            (--resume or --leave-stopped override), with the exit status of the last command: \
            0 passed, 1 violations found, 2 no verdict. With --snapshot FILE the console reads a snapshot \
            offline, as crash reads a dump: every view and verify, no run control.

            --kernel linux: the same console (line editing, history, Tab, Ctrl-C), each line a Linux view or verify \
            run with the console's --kernel, --symbols and --target (or --snapshot) added, on the console's one \
            connection: a running guest is stopped while a line reads it, at a settled point, and runs again after. \
            `continue`, `stop` (at a settled point) and `reconnect` (attach again, the kernel's banner and BTF \
            checked again) as for the bundled kernel; `until` and `next-checkpoint` exit 2: Linux keeps no \
            operation log to stop at.
            """)

    @OptionGroup var profile: KernelProfileOptions
    @OptionGroup var image: ImageOptions
    @OptionGroup var stub: TargetOptions

    @Option(name: .long, help: ArgumentHelp("The history file (default ~/.kmemscope_history).", valueName: "path"))
    var history: String?

    func run(in context: CommandContext) throws {
        guard context.console == nil && context.linuxConsole == nil else {
            throw ValidationError("already attached: this console is the session")
        }
        if profile.isLinux {
            var session = ["--kernel", "linux", "--symbols", profile.symbols ?? ""]
            session += stub.snapshot.map { ["--snapshot", $0] } ?? ["--target", stub.target]
            if profile.allowPartial { session.append("--allow-partial") }
            if let limit = profile.listLimit { session += ["--list-limit", String(limit)] }
            var live: LinuxConsoleSession?
            if stub.snapshot == nil {
                let attached = LinuxConsoleSession(profile: profile, stub: stub)
                do { try attached.connect() } catch let code as ExitCode { throw code } catch {
                    StandardError.write("kmemscope: \(error)")
                    throw ExitCode(2)
                }
                live = attached
            }
            var console = LinuxConsole(arguments: session, profile: profile, stub: stub, live: live,
                                       historyPath: history ?? LineReader.defaultHistoryPath)
            return try open(&console)
        }
        let session = ConsoleSession(image: image, stub: stub)
        try session.connect()
        var console = Console(session: session, historyPath: history ?? LineReader.defaultHistoryPath)
        try open(&console)
    }

    /// Runs `console` until it ends, holding signals for its whole life (Ctrl-C comes back to
    /// the prompt); its last command's status is the exit status.
    func open<C: AttachConsole>(_ console: inout C) throws {
        InterruptSignals.setHolding(true)
        let status = console.run()
        InterruptSignals.setHolding(false)
        if status != 0 { throw ExitCode(status) }
    }
}
