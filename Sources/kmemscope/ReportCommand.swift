import AllocatorModel
import ArgumentParser
import Foundation
import KernelLayouts
import KernelSession
import LinuxKernel

/// `kmemscope report -o FILE.html`: one self-contained HTML page of the guest's memory — the
/// zone tables, buddyinfo, the verify result and a picture of physical memory.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write one self-contained HTML page: zones, buddyinfo, verify, and a map of physical memory.",
        discussion: """
            Every pageblock (every frame, for guests of at most 256 MiB) is a cell coloured by what it holds: \
            free (by order), allocated (unmovable or movable), slab, large heap block, per-CPU cached, reserved, \
            quarantined, boot-reserved, hole; a cell with a verify violation is red. Hovering a cell names its \
            frames, zone and class. The page loads nothing from the network. Exit status 1 when verify finds \
            violations (the page is written all the same).
            """)

    @Option(name: .shortAndLong, help: ArgumentHelp("The HTML file to write.", valueName: "file"))
    var output: String

    @Flag(help: "Overwrite the file if it exists.")
    var force = false

    @OptionGroup var profile: KernelProfileOptions
    @OptionGroup var imageOptions: TextImageOptions
    var image: ImageOptions { imageOptions.options }
    @OptionGroup var stub: TargetOptions
    @OptionGroup var settling: SettleOptions

    func validate() throws {
        if image.json { throw ValidationError("report writes an HTML page: --json does not apply (the views, verify and log have it)") }
        do { try OutputFile.check(output, force: force) } catch { throw ValidationError("--output \(error)") }
    }

    func run() throws {
        if profile.isLinux {
            let (html, report) = try LinuxAttach.run(profile, stub, settling: settling) { linux in try LinuxReport.html(linux) }
            do {
                try Data(html.utf8).write(to: URL(fileURLWithPath: output), options: force ? [.atomic] : [.withoutOverwriting])
            } catch {
                StandardError.write("kmemscope: cannot write \(output): \(error.localizedDescription)")
                throw ExitCode(2)
            }
            print("report: \(output) (Linux, \(report.passed ? "verify passed" : "\(report.findings.count) violation(s)"))")
            if !report.passed { throw ExitCode(1) }
            return
        }
        let snapshot = try stub.read(image, settling: settling) { s in try SnapshotDecoder(info: s.info, memory: s.memory).decode() }
        let report = Verifier(snapshot).run()
        let title = "kmemscope report: \(URL(fileURLWithPath: image.elf ?? "kernel.elf").lastPathComponent) at sequence \(snapshot.sequence)"
        let html = MemoryMapReport.html(snapshot, report: report, title: title)
        do {
            try Data(html.utf8).write(to: URL(fileURLWithPath: output), options: force ? [.atomic] : [.withoutOverwriting])
        } catch {
            StandardError.write("kmemscope: cannot write \(output): \(error.localizedDescription)")
            throw ExitCode(2)
        }
        print("report: \(output) (\(snapshot.frames.count) frames, \(report.passed ? "verify passed" : "\(report.total) violation(s)"))")
        if !report.passed { throw ExitCode(1) }
    }
}
