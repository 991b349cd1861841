/// The commands that read the bundled kernel's operation log (`log`, `watch`, `bisect`,
/// `verify --replay`): Linux keeps no such log, so `--kernel linux` is refused in one line,
/// exit 2 — before parsing, so that neither an unknown option nor a missing bundled-only
/// argument (bisect's `--memory`) answers first with the whole usage.
enum OpLogOnly {
    /// The commands, as the first word after `kmemscope`.
    static let commands: Set<String> = ["log", "watch", "bisect"]

    /// The refusal for `arguments` (without the program name), nil when it is not one.
    static func refusal(_ arguments: [String]) -> String? {
        guard let command = arguments.first else { return nil }
        let linux = zip(arguments, arguments.dropFirst()).contains { $0 == "--kernel" && $1 == "linux" }
            || arguments.contains("--kernel=linux")
        guard linux else { return nil }
        if commands.contains(command) { return refusal(command) }
        if command == "verify" && arguments.contains("--replay") { return refusal("verify --replay") }
        return nil
    }

    /// The line: what is missing and where it exists.
    static func refusal(_ command: String) -> String {
        "kmemscope: \(command) reads the bundled kernel's operation log; Linux keeps no operation log, so \(command) has nothing to read with --kernel linux"
    }
}
