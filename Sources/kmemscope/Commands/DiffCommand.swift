import ArgumentParser
import BundledState
import BundledKernel
import KernelLayouts
import KernelSession

/// `kmemscope diff A B`: what changed between two snapshots of one run — per zone and order,
/// per slab cache, and the frames that changed state, each with the operations of the log
/// that explain it. Exit 1 when a frame changed that no operation in between stamped.
struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Show what changed between two snapshots: free blocks per zone and order, slab caches, and the frames that changed state with the operations that explain them.",
        discussion: """
            A and B are files `kmemscope snapshot -o` wrote from the same kernel build, A taken first. A frame's \
            state is its flags, order, migratetype, owner, refcount, zone and segment; consecutive frames that \
            changed the same way are one run, printed as `pfn FIRST +COUNT  BEFORE → AFTER`, followed by the \
            operations of B's log between the two sequences that name the frames or stamped them last (lastSeq). \
            A frame that changed while no operation since A stamped it is "unexplained" — something other than \
            the allocator wrote it. Exit status: 0 every change is explained, 1 some change is not, 2 a file \
            cannot be read or the two are not comparable.

            --kernel linux (two `snapshot --kernel linux` files or vmcores, or one of each, --symbols of their \
            build: a vmcore is recognised by its content, or named with --vmcore FILE, which comes after A and B \
            given plainly, as in `diff SNAP --vmcore DUMP`): per node and zone the free-page counter and nr_free \
            per order, the free blocks that appeared and went, and SLUB's caches whose objects or slabs moved. Exit 0 (Linux keeps no operation log to explain a change with), \
            2 when a file cannot be read or the two are of different builds.
            """)

    @Argument(help: ArgumentHelp("The earlier snapshot (with --kernel linux: or a vmcore).", valueName: "a"))
    var first: String?

    @Argument(help: ArgumentHelp("The later snapshot (with --kernel linux: or a vmcore).", valueName: "b"))
    var second: String?

    @Option(name: .long, help: ArgumentHelp(
        "--kernel linux: a vmcore to compare (QEMU's dump-guest-memory ELF core or a kdump-compressed file); twice for two dumps. "
        + "The files in order: A and B as given, then each --vmcore.", valueName: "file"))
    var vmcore: [String] = []

    /// The two files in order: the positional ones, then each `--vmcore`.
    var files: [String] { [first, second].compactMap { $0 } + vmcore }
    var before: String { files.first ?? "" }
    var after: String { files.dropFirst().first ?? "" }

    @Option(name: .long, help: "Print at most this many runs of changed frames (all are counted).")
    var limit = 40

    @Option(name: .long, help: "Print at most this many operations per run.")
    var operations = 4

    @OptionGroup var profile: KernelProfileOptions
    @OptionGroup var image: ImageOptions

    func validate() throws {
        guard limit >= 0, operations >= 0 else { throw ValidationError("--limit and --operations must be 0 or more") }
        if !vmcore.isEmpty && !profile.isLinux { throw ValidationError(TargetOptions.vmcoreNeedsLinux(vmcore[0])) }
        guard files.count == 2 else {
            throw ValidationError("diff compares two files, A then B (snapshots, or with --kernel linux vmcores: `--vmcore FILE` takes the place after A and B); \(files.count) given")
        }
    }

    func run() throws {
        if profile.isLinux {
            let diff = LinuxDiff(before: before, after: after, limit: limit)
            let a = try LinuxDiff.read(before, profile), b = try LinuxDiff.read(after, profile)
            guard a.buildID == b.buildID else {
                throw SessionError.other("\(before) (\(a.buildID)) and \(after) (\(b.buildID)) are of different kernel builds: not comparable")
            }
            let document = diff.document(a, b)
            return print(image.json ? try JSONOutput.string(document) : diff.text(document))
        }
        let kernel = try image.open()
        let (a, _, _, bootA) = try Self.open(before, kernel)
        let (b, log, names, bootB) = try Self.open(after, kernel)
        if let note = try BootCheck.requireOneRun(bootA, before, bootB, after) { StandardError.write(note) }
        guard a.sequence <= b.sequence else {
            throw SessionError.other("\(before) is at sequence \(a.sequence), after \(after) (\(b.sequence)): give the earlier one first "
                + "(after a reboot the sequences start again and the two are not comparable)")
        }
        let diff = SnapshotDiff(before: a, after: b, log: log)
        if image.json {
            print(try JSONOutput.string(DiffJSON(diff, before: before, after: after, flagNames: names)))
        } else {
            print(DiffText.text(diff, before: before, after: after, flagNames: names, limit: limit, operations: operations))
        }
        if !diff.explained { throw ExitCode(1) }
    }

    /// Decodes a snapshot file's state, its log ring and the flag names.
    static func open(_ path: String, _ kernel: KernelImage) throws -> (KernelSnapshot, [OpLogRecord], [(String, UInt32)], BootIdentity?) {
        let s = try SnapshotSession(path: path, kernel: kernel)
        do {
            let snapshot = try SnapshotDecoder(info: s.info, memory: s.memory).decode()
            let log = try OpLogDecoder.ring(info: s.info, memory: s.memory, upTo: snapshot.sequence)
            return (snapshot, log, s.info.flagNames, s.bootIdentity)
        } catch {
            throw SessionError(wrapping: error, address: path)
        }
    }
}
