import ArgumentParser

/// `help` in both `attach` consoles: the console's own commands, then the views it runs;
/// `help COMMAND`: that command's line, or a view's whole help.
enum ConsoleHelp {
    /// A console command as `help` lists it.
    typealias Entry = (name: String, usage: String, summary: String)

    /// The commands both consoles have, in the same words.
    static let reconnect: Entry = ("reconnect", "reconnect",
                                   "drop the connection and attach again to the same target (after the stub went away), checking the kernel again; `quit` then leaves the guest as this attach found it")
    static let help: Entry = ("help", "help [COMMAND]", "this list, or a command's options")
    static let quit: Entry = ("quit", "quit", "detach (the guest is left as it was found) and exit with the last command's status")

    /// The answer to `help ARGUMENTS`.
    /// - Parameters:
    ///   - own: the console's own commands (run control, `reconnect`, `help`, `quit`).
    ///   - views: the views and checks its lines may start with.
    ///   - headings: the titles of the two lists; `footer`: the last line.
    static func text(_ arguments: [String], own: [Entry], views: [ParsableCommand.Type],
                     headings: (own: String, views: String), footer: String) throws -> String {
        if let name = arguments.first {
            if let entry = own.first(where: { $0.name == name }) { return "\(entry.usage): \(entry.summary)" }
            guard let type = views.first(where: { $0._commandName == name }) else {
                throw ValidationError("no command '\(name)': `help` lists them")
            }
            return Kmemscope.helpMessage(for: type)
        }
        let width = 28
        func pad(_ s: String) -> String { s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count) }
        var lines = [headings.own]
        lines += own.map { "  " + pad($0.usage) + $0.summary }
        lines.append(headings.views)
        lines += views.map { "  " + pad($0._commandName) + ($0.configuration.abstract) }
        lines.append(footer)
        return lines.joined(separator: "\n")
    }
}

extension Console {
    /// `help`: the console's own commands and the views; `help COMMAND`: that command's options.
    func help(_ arguments: [String]) throws -> String {
        try ConsoleHelp.text(arguments, own: Self.ownCommands, views: Self.viewCommands,
                             headings: ("Run control (the guest is stopped while a command reads it):",
                                        "Views and checks (as from the shell, without --target or --elf: this session is used):"),
                             footer: "Tab completes command, zone and option names; history is kept in ~/.kmemscope_history.")
    }
}
