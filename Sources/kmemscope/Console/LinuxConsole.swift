import ArgumentParser
import Foundation

/// `attach --kernel linux`: a console over a stock Linux guest. Each line is a Linux view or
/// verify (`info`, `zones`, `buddyinfo`, `pagetypeinfo`, `zoneinfo`, `slabinfo`, `frame`,
/// `freelist`, `kmem`, `vtop`, `verify`, `report`, `snapshot`), run with the console's
/// `--kernel linux --symbols … --target …` (or `--snapshot …`) added; each attaches, reads at a
/// settled point and leaves the guest as it was found. Linux keeps no operation log, so there is
/// no `until` or `next-checkpoint`; `log`, `watch`, `bisect` are refused as on the command line.
/// `quit` (or the end of input) exits with the last command's status.
struct LinuxConsole {
    /// The commands a line may start with.
    static let commands = ["info", "zones", "buddyinfo", "pagetypeinfo", "zoneinfo", "slabinfo", "frame", "freelist",
                           "kmem", "vtop", "verify", "report", "snapshot"]

    /// What every line gets: `--kernel linux --symbols FILE` and where the guest is.
    var session: [String]
    var lastStatus: Int32 = 0

    mutating func run() -> Int32 {
        let interactive = isatty(0) != 0
        print("kmemscope: Linux console (\(session.joined(separator: " "))); `help` lists the commands, `quit` ends")
        while true {
            if interactive { print("kmemscope> ", terminator: ""); fflush(nil) }
            guard let line = readLine() else { return lastStatus }
            let words = ConsoleLine.words(line)
            guard let first = words.first else { continue }
            switch first {
            case "quit", "exit", "q": return lastStatus
            case "help":
                print("commands: " + Self.commands.joined(separator: ", ") + ", quit; each reads the guest anew, settled, and leaves it as found")
                lastStatus = 0
            default:
                lastStatus = execute(words)
            }
            fflush(nil)
        }
    }

    /// Runs one line as the command line would, with the session's arguments; its exit status.
    func execute(_ words: [String]) -> Int32 {
        defer { ProgressLine.finish() }
        let arguments = words + session
        if let refusal = OpLogOnly.refusal(arguments) {
            StandardError.write(refusal)
            return 2
        }
        guard Self.commands.contains(words[0]) else {
            StandardError.write("kmemscope: unknown command '\(words[0])' on Linux: `help` lists them")
            return 2
        }
        do {
            var command = try Kmemscope.parseAsRoot(arguments)
            try command.run()
            return 0
        } catch let code as ExitCode {
            return code.rawValue
        } catch {
            return Kmemscope.status(after: error)
        }
    }
}
