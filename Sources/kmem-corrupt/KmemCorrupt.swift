import BundledChecks
import ArgumentParser
import CorruptionTool
import Foundation
import GDBRemote
import BundledKernel
import KernelLayouts
import KernelSession

/// A test tool, not part of kmemscope: writes corruption into a guest through QEMU's gdbstub
/// and reports which `verify` check notices it (scripts/fault-matrix.sh builds
/// docs/fault-matrix.md from its output). Every write is undone before the next.
@main
struct KmemCorrupt: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kmem-corrupt",
        abstract: "Write a wrong value into each allocator field of a stopped guest and report the check that notices it.",
        subcommands: [Fields.self, Observe.self])
}

struct Connection: ParsableArguments {
    @Option(help: "QEMU's gdbstub (HOST:PORT or unix:PATH).") var target = "127.0.0.1:1234"
    @Option(help: "The kernel image.") var elf: String?

    func session() throws -> GuestSession {
        let kernel = try KernelImage(path: try elf ?? KernelImageLocator.locate())
        return try GuestSession.attach(kernel: kernel, to: try RemoteAddress.parse(target))
    }
}

extension KmemCorrupt {
    /// Every field of the catalogue, one after the other.
    struct Fields: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Corrupt each field in turn; exit 1 if one goes unnoticed that a check should notice.")
        @OptionGroup var connection: Connection
        @Flag(help: "Print markdown table rows instead of lines.") var markdown = false

        func run() throws {
            let session = try connection.session()
            let results = try session.read { s in
                _ = try s.settle()
                let runner = CorruptionRunner(target: s.target, info: s.info, memory: s.memory)
                let results = try runner.run(FieldCorruption.catalogue)
                let (_, after) = try runner.verify()
                guard after.passed else { throw ValidationError("the guest is not clean after restoring every field:\n\(after.text)") }
                return results
            }
            for r in results { print(markdown ? FaultMatrix.row(r) : r.line) }
            if results.contains(where: { !$0.asPromised }) { throw ExitCode(1) }
        }
    }

    /// Verify as it is (a guest booted with `fault=KIND@SEQ`): one row.
    struct Observe: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Verify the guest as it is and print one matrix row labelled LABEL.")
        @OptionGroup var connection: Connection
        @Argument(help: "The row's label (the fault kind).") var label: String
        @Option(help: "Where the kernel said it corrupted the state (from its serial line).") var at: String = ""
        @Option(help: "The frame the kernel corrupted (0x…): the row names the first violation there.") var pfn: String?

        func run() throws {
            let session = try connection.session()
            let report = try session.read { s in
                _ = try s.settle()
                return Verifier(try SnapshotDecoder(info: s.info, memory: s.memory).decode()).run()
            }
            let frame = pfn.flatMap { UInt64($0.hasPrefix("0x") ? String($0.dropFirst(2)) : $0, radix: 16) }
            print(FaultMatrix.row(label: label, at: at, report: report, pfn: frame))
            if report.passed { throw ExitCode(1) }
        }
    }
}
