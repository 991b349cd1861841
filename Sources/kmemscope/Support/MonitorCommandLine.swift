import ArgumentParser
import Foundation
import GDBProxy

/// How `kmemscope proxy` runs `monitor kms WORDS`: this executable with WORDS, plus
/// `--target` (the proxy), `--elf` and `--qemu-pid` (QEMU's memory, read directly) when the
/// subcommand takes them and the words do not give them already.
enum MonitorCommandLine {
    static func make(elf: String?, qemuPid: Int32?, timeout: Duration) -> MonitorCommand {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return MonitorCommand(timeout: timeout) { words, proxy in
            guard let name = words.first, !name.hasPrefix("-") else {
                return .failure(MonitorUsage(helpText))
            }
            if ["proxy", "attach", "boot", "bisect", "gdb-script"].contains(name) {
                return .failure(MonitorUsage("kmemscope: monitor kms \(name) is not available inside gdb (run it from a shell)"))
            }
            var arguments = words
            let given = Set(words)
            let extras: [[String]] = [["--target", proxy]]
                + (elf.map { [["--elf", $0]] } ?? [])
                + (qemuPid.map { [["--qemu-pid", String($0)]] } ?? [])
            for extra in extras where !given.contains(extra[0]) {
                if extra[0] == "--qemu-pid" && (given.contains("--memory-source") || given.contains("--memory-file")) { continue }
                if (try? Kmemscope.parseAsRoot(arguments + extra)) != nil { arguments += extra }
            }
            do {
                _ = try Kmemscope.parseAsRoot(arguments)
            } catch {
                return .failure(MonitorUsage(Kmemscope.fullMessage(for: error)))
            }
            return .success((executable, arguments))
        }
    }

    static let helpText = """
        monitor kms COMMAND [OPTIONS]: runs `kmemscope COMMAND` on the guest this gdb holds stopped, \
        through the proxy, e.g.
          monitor kms verify
          monitor kms zones
          monitor kms buddyinfo
          monitor kms frame 0x1234
        `monitor kms help COMMAND` shows a command's options; other monitor commands go to QEMU.
        """
}
