import ArgumentParser

extension Console {
    /// `help`: the console's own commands and the views; `help COMMAND`: that command's options.
    func help(_ arguments: [String]) throws -> String {
        if let name = arguments.first {
            if let own = Self.ownCommands.first(where: { $0.name == name }) { return "\(own.usage): \(own.summary)" }
            guard let type = Self.viewCommands.first(where: { $0._commandName == name }) else {
                throw ValidationError("no command '\(name)': `help` lists them")
            }
            return Kmemscope.helpMessage(for: type)
        }
        let width = 28
        func pad(_ s: String) -> String { s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count) }
        var lines = ["Run control (the guest is stopped while a command reads it):"]
        lines += Self.ownCommands.map { "  " + pad($0.usage) + $0.summary }
        lines.append("Views and checks (as from the shell, without --target or --elf: this session is used):")
        lines += Self.viewCommands.map { "  " + pad($0._commandName) + ($0.configuration.abstract) }
        lines.append("Tab completes command, zone and option names; history is kept in ~/.kmemscope_history.")
        return lines.joined(separator: "\n")
    }
}
