import Foundation
import Synchronization
import Testing

/// Every command line argument of every kmemscope command, at its extremes (issue 24). The
/// commands and their arguments come from the binary's own tree (`kmemscope
/// --experimental-dump-help`, ArgumentParser's description of every subcommand), so a command
/// or an option added later is fuzzed without a line here; a new *required* argument needs a
/// valid value in ``CommandTreeFuzz/defaults`` (the pass fails naming it until it has one).
struct CommandTreeFuzz {
    /// One argument of one command, as the tree describes it.
    struct Argument {
        var command: String
        var kind: String           // "positional", "option" or "flag"
        var name: String           // the long name, or the positional's value name
        var isOptional: Bool
        var allValues: [String]?   // an enumeration's choices
        var abstract: String
        /// What makes two commands' arguments the same one (an option group they share).
        var identity: String { "\(kind) \(name) \(abstract)" }
    }

    /// The whole pass (`KMEMSCOPE_ARGUMENT_FUZZ=full`), or `make test`'s short one: every command
    /// and every argument still, with fewer values each (0, negative, max, huge, malformed).
    static let full = ProcessInfo.processInfo.environment["KMEMSCOPE_ARGUMENT_FUZZ"] == "full"

    /// 0, max, max-1, negative, huge, malformed: decimal and hex, the signed and unsigned limits.
    static let numbers = full
        ? ["0", "-1", "9223372036854775806", "9223372036854775807", "18446744073709551614",
           "18446744073709551615", "0xffffffffffffffff", "-9223372036854775808", "99999999999999999999999", "", "abc"]
        : ["0", "-1", "18446744073709551615", "99999999999999999999999", "abc"]

    /// A valid value for each argument a command requires, so that the one fuzzed is reached.
    static func defaults(snapshot: String, scratch: String, directory: String) -> [String: String] {
        ["pfn": "0x100", "count": "1", "zone": "DMA32", "order": "0", "query": "kmem_info", "structs": "FrameMeta",
         "address": "0xffff888000100000", "a": snapshot, "b": snapshot, "memory": "256M", "append": "seed=1",
         "output": scratch, "listen": "unix:" + directory + "/proxy.sock"]
    }

    let commands: [(name: String, arguments: [Argument])]

    /// Reads the tree from `binary --experimental-dump-help`.
    init(binary: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = ["--experimental-dump-help"]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let command = try #require(root["command"] as? [String: Any])
        let subcommands = try #require(command["subcommands"] as? [[String: Any]])
        commands = subcommands.compactMap { sub in
            guard let name = sub["commandName"] as? String, name != "help" else { return nil }
            let arguments = (sub["arguments"] as? [[String: Any]] ?? []).compactMap { a -> Argument? in
                guard let kind = a["kind"] as? String,
                      let argName = (a["preferredName"] as? [String: Any])?["name"] as? String ?? a["valueName"] as? String,
                      !["help", "version"].contains(argName) else { return nil }
                return Argument(command: name, kind: kind, name: argName, isOptional: a["isOptional"] as? Bool ?? true,
                                allValues: a["allValues"] as? [String], abstract: a["abstract"] as? String ?? "")
            }
            return (name, arguments)
        }
    }

    /// The command lines of the pass: every value-taking argument of every command with each of
    /// ``numbers`` and `paths` (an enumeration: its own choices and three wrong words); an
    /// argument an earlier command shares (the same option group) is fuzzed there, and each
    /// command is also run once with nothing fuzzed (so one of only shared options runs). Each line
    /// reads the snapshot where the command can (else a stub that does not exist), so a value
    /// that parses goes on to the command's own checks and lookups.
    func lines(snapshot: String, elf: String, scratch: String, directory: String, paths: [String]) throws -> [[String]] {
        let defaults = Self.defaults(snapshot: snapshot, scratch: scratch, directory: directory)
        let nowhere = "unix:" + directory + "/no-such.sock"
        let sources: Set = ["snapshot", "target", "memory-source", "memory-file", "qemu-pid", "qmp"]
        var seen = Set<String>()
        var lines: [[String]] = []
        for (command, arguments) in commands {
            let names = Set(arguments.map(\.name))
            let bare = Argument(command: command, kind: "none", name: "", isOptional: true, allValues: nil, abstract: "")
            for fuzzed in [bare] + arguments where fuzzed.kind != "flag" {
                let values = fuzzed.kind == "none" ? [""] : !seen.insert(fuzzed.identity).inserted ? []
                    : fuzzed.allValues.map { $0 + ["", "-1", "18446744073709551615"] } ?? Self.numbers + paths
                for value in values {
                    var options: [String] = [], positionals: [String] = []
                    for other in arguments where other.kind != "flag" {
                        if other.name == fuzzed.name && other.kind == fuzzed.kind {
                            if other.kind == "positional" { positionals.append(value) } else { options.append("--\(other.name)=\(value)") }
                        } else if !other.isOptional {
                            let given = try #require(defaults[other.name], "kmemscope \(command): no value for its required argument \(other.name) in CommandTreeFuzz.defaults")
                            if other.kind == "positional" { positionals.append(given) } else { options.append("--\(other.name)=\(given)") }
                        } else if other.kind == "positional", fuzzed.kind == "positional",
                                  let o = arguments.firstIndex(where: { $0.name == other.name }),
                                  let f = arguments.firstIndex(where: { $0.name == fuzzed.name }), o < f {
                            positionals.append(defaults[other.name] ?? "0")   // an earlier positional, to reach the fuzzed one
                        }
                    }
                    // Where the command reads from: the snapshot, never a guest someone else runs.
                    var context: [String] = []
                    if names.contains("snapshot") && !sources.contains(fuzzed.name) {
                        context = ["--snapshot", snapshot]
                    } else if names.contains("target") && fuzzed.name != "target" {
                        context = ["--target", nowhere]
                    }
                    if names.contains("elf") && fuzzed.name != "elf" {
                        // boot and bisect launch QEMU: an image that does not exist stops them first
                        context += ["--elf", ["boot", "bisect"].contains(command) ? directory + "/no-such.elf" : elf]
                    }
                    if command == "boot" && fuzzed.name != "run-directory" { context += ["--run-directory", directory + "/boot"] }
                    if names.contains("force") && fuzzed.name != "output" { context.append("--force") }
                    if command == "verify" && fuzzed.name == "from" { context.append("--replay") }
                    lines.append([command] + options + context + ["--"] + positionals)
                }
            }
        }
        return lines
    }

    /// What one run of kmemscope did wrong, or nil: a signal or a status outside 0…2, or an
    /// exit 2 whose standard error is not one `kmemscope:` line (besides the snapshot's own
    /// `from snapshot …` line).
    static func fault(_ r: RobustInputTests.Run) -> String? {
        if r.trapped || ![0, 1, 2].contains(r.status) { return "ended \(r.reason) \(r.status): \(r.err.prefix(300))" }
        guard r.status == 2 else { return nil }
        let lines = r.err.split(whereSeparator: \.isNewline).filter { !$0.hasPrefix("from snapshot ") }
        if lines.count != 1 || !lines[0].hasPrefix("kmemscope: ") { return "exit 2 with \(lines.count) lines: \(r.err.prefix(300))" }
        return nil
    }

    /// Runs every line, `workers` at a time (each in its own process: a trap is seen, not
    /// suffered); returns each line's fault and how many got past argument checking (0 or 1).
    /// Runs start in `directory`: an output path the pass gives (`-o 0`) is written there.
    static func runAll(_ lines: [[String]], workers: Int, directory: String) -> (faults: [String], answered: Int) {
        final class Shared: Sendable {
            let next = Atomic<Int>(0)
            let results = Mutex<(faults: [String], answered: Int)>(([], 0))
        }
        let shared = Shared()
        let group = DispatchGroup()
        for _ in 0..<workers {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                while true {
                    let i = shared.next.wrappingAdd(1, ordering: .relaxed).oldValue
                    guard i < lines.count else { return }
                    let line = lines[i]
                    let fault: String?, answered: Bool
                    do {
                        let r = try RobustInputTests.run(line, directory: URL(fileURLWithPath: directory))
                        fault = Self.fault(r)
                        answered = r.status == 0 || r.status == 1
                    } catch {
                        fault = "could not run: \(error)"
                        answered = false
                    }
                    shared.results.withLock {
                        if let fault { $0.faults.append("kmemscope \(line.joined(separator: " ")) → \(fault)") }
                        if answered { $0.answered += 1 }
                    }
                }
            }
        }
        group.wait()
        return shared.results.withLock { $0 }
    }
}
