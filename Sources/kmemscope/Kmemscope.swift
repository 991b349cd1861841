import ArgumentParser
import Foundation
import KernelSession

/// The root command. Exit status, for scripts: 0 all checks passed, 1 violations found,
/// 2 no verdict (usage, connection, ELF, decode error, a stuck guest, SIGTERM, SIGHUP), 130 SIGINT.
@main
struct Kmemscope: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kmemscope",
        abstract: "See and check the physical memory allocator of a kernel running in QEMU.",
        discussion: """
            Exit status: 0 all checks passed, 1 violations found, 2 usage, connection, ELF or \
            decode error (no verdict), 130 interrupted by SIGINT (2 for SIGTERM or SIGHUP). The guest is \
            left as it was found (running or stopped) unless --resume or --leave-stopped says otherwise.
            """,
        version: KmemscopeVersion.string,
        subcommands: [InfoCommand.self, ZonesCommand.self, VerifyCommand.self, LogCommand.self, SymCommand.self, LayoutCommand.self,
                      BuddyinfoCommand.self, PagetypeinfoCommand.self, ZoneinfoCommand.self, SlabinfoCommand.self,
                      WatchCommand.self, FrameCommand.self, FreelistCommand.self, ReportCommand.self,
                      BootCommand.self, BisectCommand.self, KmemCommand.self, VtopCommand.self, AttachCommand.self,
                      DumpCommand.self, SnapshotCommand.self, DiffCommand.self, ProxyCommand.self, GDBScriptCommand.self])

    static func main() {
        InterruptSignals.install()
        if let refusal = VmcoreOnly.refusal(Array(CommandLine.arguments.dropFirst())) ?? OpLogOnly.refusal(Array(CommandLine.arguments.dropFirst())) {
            StandardError.write(refusal)
            Foundation.exit(2)
        }
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let code as ExitCode {
            ProgressLine.finish()
            Foundation.exit(code.rawValue)
        } catch {
            Foundation.exit(Self.status(after: error))
        }
        ProgressLine.finish()
        Foundation.exit(0)
    }

    /// Prints what `error` says and returns the exit status for it.
    static func status(after error: Error) -> Int32 {
        ProgressLine.finish()
        let code = exitCode(for: error)
        if code == .success { exit(withError: error) }   // --help, --version
        if code == .validationFailure {
            // ArgumentParser's usage errors (64 by its default) are 2, as every other
            // error that gives no verdict, and one line, as every other error.
            StandardError.write(usageLine(for: error))
            return 2
        }
        StandardError.write("kmemscope: \(error)")
        if case SessionError.interrupted(let signal) = error { return InterruptSignals.exitStatus(for: signal) }
        if case SessionError.haltedAtBug = error { return 1 }   // the kernel's own caught violation, shown
        return 2
    }

    /// A usage error as one line: `kmemscope: MESSAGE (see 'kmemscope CMD --help')`, not
    /// ArgumentParser's block of Error, Help and Usage lines.
    static func usageLine(for error: Error) -> String {
        let message = self.message(for: error).split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: "; ")
        let see = fullMessage(for: error).split(whereSeparator: \.isNewline)
            .compactMap { line -> Substring? in
                guard let start = line.range(of: "See '"), let end = line[start.upperBound...].firstIndex(of: "'") else { return nil }
                return line[start.upperBound..<end]
            }.first
        return "kmemscope: " + message + (see.map { " (see '\($0)')" } ?? "")
    }
}
