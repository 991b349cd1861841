import ArgumentParser
import Foundation
import KernelSession

/// `attach --kernel linux`: a console over a stock Linux guest. Each line is a Linux view or
/// verify (`info`, `zones`, `buddyinfo`, `pagetypeinfo`, `zoneinfo`, `slabinfo`, `frame`,
/// `freelist`, `kmem`, `vtop`, `verify`, `report`, `snapshot`), run with the console's
/// `--kernel linux --symbols … --target …` (or `--snapshot …`) added, on the console's one
/// connection (``LinuxConsoleSession``): a running guest is stopped while a line reads it, at a
/// settled point, and runs again after. Run control as the bundled console's: `continue`, `stop`
/// (at a settled point), `reconnect`; Linux keeps no operation log, so `until` and
/// `next-checkpoint` say so, exit status 2, and `log`, `watch`, `bisect` are refused as on the
/// command line. `quit` (or the end of input) leaves the guest as it was found and exits with
/// the last command's status. The loop, the line reading (libedit: history, Tab, Ctrl-C) and
/// the error reports are ``AttachConsole``'s, shared with the bundled console.
struct LinuxConsole: AttachConsole {
    /// The views and checks a line may start with.
    static let views = ["info", "zones", "buddyinfo", "pagetypeinfo", "zoneinfo", "slabinfo", "frame", "freelist",
                        "kmem", "vtop", "verify", "report", "snapshot"]

    /// Their command types, in `help`'s order.
    static var viewCommands: [ParsableCommand.Type] { Console.viewCommands.filter { views.contains($0._commandName) } }

    /// The console's own commands, as `help` lists them.
    static let ownCommands: [ConsoleHelp.Entry] = [
        ("continue", "continue", "let the guest run (views stop it while they read, at a settled point, then let it run again)"),
        ("stop", "stop", "stop the guest at a settled point (no CPU inside the page or slab allocator, their locks free)"),
        ConsoleHelp.reconnect, ConsoleHelp.help, ConsoleHelp.quit,
    ]

    /// Linux's zone names (`zone_names[]`) and migratetypes (`migratetype_names[]`), which Tab
    /// offers after a command (`freelist DMA32 3 Movable`).
    static let argumentWords = ["DMA", "DMA32", "Normal", "Movable", "Device",
                                "Unmovable", "Reclaimable", "HighAtomic", "CMA", "Isolate"]

    /// Options Tab does not offer: the console's connection's, and the bundled kernel's own
    /// that a Linux line refuses or ignores (`--replay` and its `--from`: Linux keeps no operation
    /// log; `--streaming` and `--free-page-poison` read the bundled kernel's FrameMeta array).
    static let notOffered = Console.sessionOptions.union(["--replay", "--from", "--streaming", "--free-page-poison"])

    /// What every line gets: `--kernel linux --symbols FILE` and where the guest is.
    let arguments: [String]
    let profile: KernelProfileOptions
    let stub: TargetOptions
    /// The live connection; nil offline (`--snapshot`).
    let live: LinuxConsoleSession?
    let reader: LineReader
    var lastStatus: Int32 = 0
    /// What each line runs in: the console's connection.
    var context: CommandContext { CommandContext(linuxConsole: live) }

    init(arguments: [String], profile: KernelProfileOptions, stub: TargetOptions, live: LinuxConsoleSession?, historyPath: String?) {
        self.arguments = arguments
        self.profile = profile
        self.stub = stub
        self.live = live
        let names = Self.ownCommands.map(\.name) + Self.views + ["exit"]
        reader = LineReader(historyPath: historyPath, completer: LineCompleter(commands: names) { command in
            LinuxConsole.completions(after: command)
        })
    }

    /// Words Tab offers after `command`: zone and migratetype names, then the command's options
    /// that mean something on a line of this console.
    static func completions(after command: String) -> [String] {
        var words = argumentWords
        if let type = viewCommands.first(where: { $0._commandName == command }) {
            words += Console.optionNames(of: type, excluding: notOffered)
        }
        return words
    }

    func banner() -> String {
        let state: String
        if let live {
            state = live.kernel + "; " + (live.foundRunning ? "the guest was running; it is stopped now (`continue` runs it)" : "the guest is stopped, as it was found")
        } else {
            state = "offline: no run control"
        }
        return "kmemscope: Linux console (\(arguments.joined(separator: " "))); \(state); `help` lists the commands, `quit` ends"
    }

    // what the shared loop asks of this console's session
    func commandEnded() { live?.commandEnded() }
    func detach() -> String { live?.detach() ?? "closed the snapshot \(stub.snapshot ?? "")" }
    var resumesAfterCommand: Bool { live?.resumesAfterCommand ?? false }
    var stubAddress: String { stub.target }
    func drop() { live?.drop() }

    /// Runs one line.
    mutating func execute(_ name: String, _ arguments: [String]) {
        defer { ProgressLine.finish() }
        do {
            lastStatus = try run(name, arguments)
        } catch {
            lastStatus = report(error)
        }
    }

    /// Runs one line; its exit status.
    func run(_ name: String, _ rest: [String]) throws -> Int32 {
        switch name {
        case "help":
            say(try ConsoleHelp.text(rest, own: Self.ownCommands, views: Self.viewCommands,
                                     headings: ("Run control (a running guest is stopped while a line reads it, at a settled point):",
                                                "Linux views and checks (as from the shell; the console adds \(arguments.joined(separator: " "))):"),
                                     footer: "until and next-checkpoint, log, watch, bisect and verify --replay need the bundled kernel's operation log: Linux keeps none. "
                                        + "Tab completes command, zone, migratetype and option names; history is kept in ~/.kmemscope_history."))
            return 0
        case "continue", "c":
            say(try requireLive(name).resume())
            return 0
        case "stop":
            say(try stop(try requireLive(name)))
            return 0
        case "reconnect":
            let live = try requireLive(name)
            live.drop()
            try live.connect()
            say(banner())
            return 0
        case "until", "next-checkpoint":
            StandardError.write("kmemscope: \(name) stops at an operation of the bundled kernel's log; Linux keeps no operation log to stop at (`stop` stops the guest at a settled point)")
            return 2
        case "attach":
            throw ValidationError("already attached: every command here runs on this session")
        default:
            break
        }
        let arguments = [name] + rest + self.arguments
        if let refusal = OpLogOnly.refusal(arguments) {
            StandardError.write(refusal)
            return 2
        }
        guard Self.views.contains(name) else {
            StandardError.write("kmemscope: unknown command '\(name)' on Linux: `help` lists them")
            return 2
        }
        try context.run(Kmemscope.parseAsRoot(arguments))
        return 0
    }

    /// The live session for run control; offline, the one-line refusal.
    func requireLive(_ command: String) throws -> LinuxConsoleSession {
        guard let live else {
            throw SessionError.other("this console reads the snapshot \(stub.snapshot ?? "") offline: there is no guest to run, stop or attach to (\(command) needs attach --target ADDRESS)")
        }
        return live
    }

    /// `stop`: stops the guest, at a settled point (it may run on a few milliseconds to get
    /// there, as every view's read does), and says where CPU 0 is.
    func stop(_ live: LinuxConsoleSession) throws -> String {
        let ran = try live.stopGuest()
        var settling = SettleOptions()
        settling.settle = true
        let context = self.context
        let rip = try LinuxAttach.run(profile, stub, in: context, settling: settling) { _, registers in try registers("rip") }
        let stops = context.linuxRead.settleStops
        return (ran ? "stopped" : "the guest was already stopped")
            + " at a settled point: no CPU inside the page or slab allocator, their locks free"
            + (stops > 1 ? " (it ran on \(stops - 1) time\(stops == 2 ? "" : "s") to get there)" : "")
            + "; rip 0x\(String(rip, radix: 16))"
    }
}
