import ArgumentParser
import Foundation

/// `kmemscope gdb-script`: prints a gdb Python script that adds a `kms` command to a gdb
/// connected straight to QEMU (no proxy): `kms verify` runs `kmemscope verify` on the memory
/// gdb reads, through a small stub the script serves from inside gdb while the command runs.
struct GDBScriptCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gdb-script",
        abstract: "Print a gdb Python script that adds `kms COMMAND` to a gdb connected directly to QEMU.",
        discussion: """
            kmemscope gdb-script > kms.py, then in gdb: source kms.py, and at any stop: kms verify, \
            kms zones, kms frame 0x1234. The command runs with gdb's memory reads (through gdb, \
            so at gdb's speed, a few MB/s), read-only: commands that resume the guest or need \
            QEMU's monitor are refused. docs/proxy.md compares it with the proxy.
            """)

    @Option(name: .long, help: ArgumentHelp("The kmemscope executable the script runs (default: this one).", valueName: "path"))
    var kmemscope: String?

    @Option(name: .long, help: ArgumentHelp("The kernel ELF the commands use (default: as every command finds it).", valueName: "path"))
    var elf: String?

    func run() throws {
        let executable = kmemscope ?? ((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
        print(GDBScriptText.script(kmemscope: executable, elf: elf))
    }
}
