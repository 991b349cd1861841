import ArgumentParser
import Foundation
import KernelLayouts
import KernelSession

/// `kmemscope snapshot -o FILE`: saves what the views and `verify` read from the guest (the
/// descriptor, the allocator's state, the operation-log ring, the page tables, the registers)
/// in a snapshot file (docs/snapshot-format.md), so they run on it later with `--snapshot
/// FILE`, offline, and `diff` compares two of them.
struct SnapshotCommand: GuestCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Save the guest's allocator state to a file that every view, verify and diff read offline (--snapshot FILE).",
        discussion: """
            The guest is settled to an operation boundary first, as for verify. The file holds guest memory as it \
            was read (the layout descriptor, zones, segments, the FrameMeta array, bitmaps, the slab heap, the whole \
            operation-log ring, the page tables reachable from CR3), the registers, the build-id and where it was \
            taken from; each region carries a CRC-32. Its format is documented in docs/snapshot-format.md.

            --kernel linux: every byte the Linux views and verify read (BTF, each node's zones, free lists and \
            their struct pages, pageblock flags, zoneinfo's counters, per-CPU lists, SLUB's caches and slabs), \
            recorded while the settled guest is read once; read it back with --snapshot FILE --kernel linux \
            --symbols FILE (the same symbols).
            """)

    @Option(name: .shortAndLong, help: ArgumentHelp("The snapshot file to write.", valueName: "file"))
    var output: String

    @Flag(name: .long, help: "Overwrite the file if it exists.")
    var force = false

    @Flag(name: .long, help: "Also keep every free page's contents (as much as the guest's free memory), for `verify --free-page-poison --snapshot`.")
    var freePages = false

    @OptionGroup var profile: KernelProfileOptions
    @OptionGroup var image: ImageOptions
    @OptionGroup var stub: TargetOptions
    @OptionGroup var settling: SettleOptions

    func validate() throws {
        if stub.snapshot != nil { throw ValidationError("snapshot reads a guest: --snapshot does not apply (copy the file instead)") }
        do { try OutputFile.check(output, force: force) } catch { throw ValidationError("--output \(error)") }
    }

    func run(in context: CommandContext) throws {
        if profile.isLinux {
            if freePages { throw ValidationError("--free-pages goes with the bundled kernel (its page poisoning)") }
            return print(try LinuxSnapshot.take(profile, stub, settling, in: context, output: output, force: force))
        }
        let clock = ContinuousClock()
        let start = clock.now
        let source = GuestSource(image, stub, in: context)
        let session = try source.attach()
        let capture = try source.settledRead(session, settling) { s, point in
            try SnapshotCapture.take(s, at: point, tool: KmemscopeVersion.string, freePages: freePages)
        }
        let regions = try capture.write(to: output, force: force)
        let bytes = regions.reduce(UInt64(0)) { $0 + $1.length }
        let seconds = Double((clock.now - start).components.attoseconds) / 1e18 + Double((clock.now - start).components.seconds)
        var parts = ["\(regions.count) regions", String(format: "%.1f MiB of guest memory", Double(bytes) / 1048576), "\(capture.pageTables) page tables"]
        if freePages { parts.append("\(capture.freePages) free pages") }
        print("snapshot \(output): sequence \(capture.header.sequence)\(capture.header.betweenOperations ? " (between operations)" : ""), "
              + parts.joined(separator: ", ") + ", read from \(capture.header.source) in " + String(format: "%.2f s", seconds))
    }
}
