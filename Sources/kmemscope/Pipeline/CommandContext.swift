import ArgumentParser

/// What a command runs in, handed to it explicitly (the pipeline's outer layer): from the
/// shell, where every command attaches on its own and puts the guest back when it ends, or
/// inside an `attach` console, whose one session every line reads through.
///
/// The consoles pass theirs to ``run(_:)``; ArgumentParser's `run()` is `run(in: .shell)`.
struct CommandContext {
    /// The bundled kernel's console (`attach`): its session, stopped for the command; offline,
    /// its snapshot.
    var console: ConsoleSession?
    /// The Linux console (`attach --kernel linux` on a live guest): its one connection.
    var linuxConsole: LinuxConsoleSession?
    /// What this command's Linux read found (memory source, settle stops, coverage, recorder).
    let linuxRead = LinuxReadFacts()

    /// A command run from the shell: no console.
    static var shell: CommandContext { CommandContext() }

    /// Runs a parsed command in this context: a ``GuestCommand`` gets it, any other command
    /// (one that reads no guest) runs as ArgumentParser runs it.
    func run(_ command: any ParsableCommand) throws {
        if let guest = command as? any GuestCommand {
            try guest.run(in: self)
        } else {
            var command = command
            try command.run()
        }
    }
}

/// A command that reads a guest (live, a snapshot or a vmcore): it runs in a
/// ``CommandContext`` given to it, never one it looks up.
protocol GuestCommand: ParsableCommand {
    /// Runs the command in `context`: the source it opens (a console's session, or its own).
    func run(in context: CommandContext) throws
}

extension GuestCommand {
    /// From the shell.
    func run() throws { try run(in: .shell) }
}
