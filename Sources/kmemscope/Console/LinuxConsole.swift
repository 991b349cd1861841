import ArgumentParser
import Foundation
import KernelSession

/// `attach --kernel linux`: a console over a stock Linux guest. Each line is a Linux view or
/// verify (`info`, `zones`, `buddyinfo`, `pagetypeinfo`, `zoneinfo`, `slabinfo`, `frame`,
/// `freelist`, `kmem`, `vtop`, `verify`, `report`, `snapshot`), run with the console's
/// `--kernel linux --symbols … --target …` (or `--snapshot …`) added, on the console's one
/// connection (``LinuxConsoleSession``): a running guest is stopped while a line reads it, at a
/// settled point, and runs again after. Run control as the bundled console's: `continue`, `stop`
/// (at a settled point); Linux keeps no operation log, so `until` and `next-checkpoint` say so,
/// exit status 2, and `log`, `watch`, `bisect` are refused as on the command line. `quit` (or
/// the end of input) leaves the guest as it was found and exits with the last command's status.
struct LinuxConsole {
    /// The commands a line may start with.
    static let commands = ["info", "zones", "buddyinfo", "pagetypeinfo", "zoneinfo", "slabinfo", "frame", "freelist",
                           "kmem", "vtop", "verify", "report", "snapshot"]
    /// Run control.
    static let runControl = ["continue", "stop", "quit"]

    /// What every line gets: `--kernel linux --symbols FILE` and where the guest is.
    var arguments: [String]
    let profile: KernelProfileOptions
    let stub: TargetOptions
    /// The live connection; nil offline (`--snapshot`).
    let live: LinuxConsoleSession?
    var lastStatus: Int32 = 0
    /// What each line runs in: the console's connection.
    var context: CommandContext { CommandContext(linuxConsole: live) }

    /// Runs until `quit` or the end of input; returns the exit status.
    mutating func run() -> Int32 {
        let interactive = isatty(0) != 0
        let state = live.map { $0.foundRunning ? "the guest was running; it is stopped now (`continue` runs it)" : "the guest is stopped, as it was found" }
            ?? "offline: no run control"
        print("kmemscope: Linux console (\(arguments.joined(separator: " "))); \(state); `help` lists the commands, `quit` ends")
        while true {
            if interactive { print("kmemscope> ", terminator: ""); fflush(nil) }
            let line = readLine()
            // Ctrl-C at the prompt drops the line (the read ends with EINTR, no line); a SIGINT
            // that interrupted no read (it came as the prompt was printed) leaves the line typed
            // after it to run, as in the bundled console
            if InterruptSignals.pending == SIGINT {
                InterruptSignals.clearPending()
                if line == nil {
                    if interactive { print("") }
                    continue
                }
            }
            if let status = signalled() { return status }
            guard let line else { return quit() }
            let words = ConsoleLine.words(line)
            guard let first = words.first else { continue }
            if ["quit", "exit", "q"].contains(first) { return quit() }
            lastStatus = execute(first, words)
            if InterruptSignals.pending == SIGINT {
                InterruptSignals.clearPending()
                print(live?.isRunning == true ? "interrupted; the guest runs on (it was running before the command)" : "interrupted; the guest is stopped")
                lastStatus = 130
            }
            fflush(nil)
            if let status = signalled() { return status }
        }
    }

    /// `quit`: the guest back as it was found; the last command's status.
    func quit() -> Int32 {
        if let live { print(live.detach()) }
        return lastStatus
    }

    /// SIGTERM or SIGHUP end the console (status 2) after the guest is put back.
    func signalled() -> Int32? {
        let signal = InterruptSignals.pending
        guard signal == SIGTERM || signal == SIGHUP else { return nil }
        InterruptSignals.clearPending()
        if let live { print(live.detach()) }
        StandardError.write("kmemscope: interrupted by \(signal == SIGHUP ? "SIGHUP" : "SIGTERM"); the guest was left as found")
        return InterruptSignals.exitStatus(for: signal)
    }

    /// Runs one line; its exit status.
    func execute(_ name: String, _ words: [String]) -> Int32 {
        defer { ProgressLine.finish() }
        do {
            switch name {
            case "help":
                print("commands: " + Self.commands.joined(separator: ", ") + "; continue (the guest runs), stop (at a settled point), quit. "
                      + "Each view stops a running guest while it reads, at a settled point, and lets it run again; "
                      + "until and next-checkpoint need the bundled kernel's operation log")
                return 0
            case "continue", "c":
                print(try requireLive(name).resume())
                return 0
            case "stop":
                print(try stop(try requireLive(name)))
                return 0
            case "until", "next-checkpoint":
                StandardError.write("kmemscope: \(name) stops at an operation of the bundled kernel's log; Linux keeps no operation log to stop at (`stop` stops the guest at a settled point)")
                return 2
            default:
                break
            }
        } catch let code as ExitCode {
            return code.rawValue
        } catch {
            StandardError.write("kmemscope: \(error)")
            return 2
        }
        let arguments = words + self.arguments
        if let refusal = OpLogOnly.refusal(arguments) {
            StandardError.write(refusal)
            return 2
        }
        guard Self.commands.contains(name) else {
            StandardError.write("kmemscope: unknown command '\(name)' on Linux: `help` lists them")
            return 2
        }
        do {
            try context.run(Kmemscope.parseAsRoot(arguments))
            return 0
        } catch let code as ExitCode {
            return code.rawValue
        } catch {
            return Kmemscope.status(after: error)
        }
    }

    /// The live session for run control; offline, the one-line refusal.
    func requireLive(_ command: String) throws -> LinuxConsoleSession {
        guard let live else {
            throw SessionError.other("this console reads the snapshot \(stub.snapshot ?? "") offline: there is no guest to run or stop (\(command) needs attach --target ADDRESS)")
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
