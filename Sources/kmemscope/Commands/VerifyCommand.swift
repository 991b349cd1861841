import ArgumentParser
import AllocatorModel
import BundledChecks
import BundledState
import BundledKernel
import KernelLayouts
import KernelSession
import LinuxKernel

/// `kmemscope verify`: checks the guest's allocator state against the contract, from guest
/// memory read at an operation boundary. Exit status 1 when any check fails.
struct VerifyCommand: GuestCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check the guest's allocator state: tiling, free lists, buddies, counters, per-CPU lists.",
        discussion: Check.allCases.map { "\($0.rawValue): \($0.summary)" }.joined(separator: "\n")
            + "\n\nWith --kernel linux: the sixteen checks of Linux's rules in docs/linux-checks.md (the buddy allocator and SLUB).\n\n"
            + "Exit status: 0 every check passed (with --replay, also the replay and the final comparison), 1 violations "
            + "found (one line each, or the JSON's violations) — also on a kernel halted at its own BUG (a post-mortem: the BUG, "
            + "the operation in progress, each violation marked; --replay replays to the operation before), 2 no verdict: usage, connection, ELF, descriptor or decode "
            + "error, a stuck guest, SIGTERM or SIGHUP, or (--replay) a log ring that no longer holds the entries the replay needs while the checks passed; 130 after Ctrl-C.")

    @Flag(name: .long, help: "Also replay the operation log through the reference model from the boot and compare the result with guest memory.")
    var replay = false

    @Flag(name: .long, help: "Read the FrameMeta array window by window while checking (the guest stays stopped meanwhile): memory that does not grow with the guest's RAM.")
    var streaming = false

    @Flag(name: .long, help: "Print on standard error how long attaching, reading and checking took, and the memory source.")
    var timing = false

    @Flag(name: .long, help: "With page poisoning on, also read every free page and check its poison (free-page-poison): as much data as the free memory, fast when guest RAM is read from the QEMU process or a memory file.")
    var freePagePoison = false

    @OptionGroup var profile: KernelProfileOptions
    @OptionGroup var image: ImageOptions
    @OptionGroup var stub: TargetOptions
    @OptionGroup var settling: SettleOptions

    @Option(name: .long, help: ArgumentHelp(
        "With --replay: start the model from this earlier snapshot (`kmemscope snapshot -o`) instead of the boot, and replay the log from its sequence.",
        valueName: "snapshot"))
    var from: String?

    func validate() throws {
        if from != nil && !replay { throw ValidationError("--from SNAPSHOT goes with --replay") }
        if streaming && replay { throw ValidationError("--streaming and --replay: the replay needs the whole FrameMeta array; give one") }
    }

    /// The replay: from the boot, or from `--from SNAPSHOT` (which must be the same build and
    /// an earlier moment of the same run).
    func replayed(_ end: KernelSnapshot, _ log: [OpLogRecord], boot: BootIdentity?) throws -> Replay.Verification {
        guard let from else { return ReplayFromBoot.verify(end, log: log) }
        let earlier = try SnapshotSession(path: from, kernel: try image.open())
        if let note = try BootCheck.requireOneRun(earlier.bootIdentity, from, boot, stub.snapshot ?? "the guest") {
            StandardError.write(note)
        }
        let start: KernelSnapshot
        do {
            start = try SnapshotDecoder(info: earlier.info, memory: earlier.memory).decode()
        } catch {
            throw SessionError(wrapping: error, address: from)
        }
        guard start.sequence <= end.sequence else {
            throw SessionError.other("--from \(from) is at sequence \(start.sequence), after the state verified (\(end.sequence)): "
                + "give an earlier snapshot of the same run (after a reboot the sequences start again)")
        }
        StandardError.write("replaying from \(from) (sequence \(start.sequence)) to sequence \(end.sequence)")
        return Replay.verify(from: start, to: end, log: log)
    }

    /// The pipeline: source → decode (and, with the FrameMeta array checked in place, the
    /// checks, while the guest is held) → analyse → render → exit status; the timing wraps it.
    func run(in context: CommandContext) throws {
        if profile.isLinux { return try runLinux(in: context) }
        let source = GuestSource(image, stub, in: context)
        let clock = StageClock()
        let held = try read(from: source, clock: clock)
        let report = held.report ?? Verifier(held.snapshot).run()
        if timing { StandardError.write(clock.line(source: held.source, snapshot: held.snapshot)) }
        if let postMortem = held.snapshot.bug.map({ PostMortem(bug: $0, snapshot: held.snapshot, log: held.log) }) {
            return try reportPostMortem(postMortem, held.snapshot, report, log: held.log)
        }
        let verdict = try analyse(held, report)
        print(try render(verdict))
        try exitStatus(verdict)
    }

    /// `verify --kernel linux`: the Linux source, `LinuxVerifier`, its coverage, the same exit rule.
    func runLinux(in context: CommandContext) throws {
        if replay { StandardError.write(OpLogOnly.refusal("verify --replay")); throw ExitCode(2) }
        let report = try LinuxAttach.run(profile, stub, in: context, settling: settling) { linux in
            try LinuxVerifier.verify(linux, nodes: try LinuxAttach.allNodes(linux, in: context))
        }
        let coverage = Coverage.linuxChecks(report, base: context.linuxRead.coverage)
        if image.json {
            var document = LinuxVerifyJSON(report)
            document.covered = coverage.covered
            document.skipped = coverage.skipped
            print(try JSONOutput.string(document))
        } else {
            print(LinuxViews.verify(report))
            coverage.text.forEach { print($0) }
        }
        if !report.passed { throw ExitCode(1) }
        try coverage.enforce(allowPartial: profile.allowPartial)
    }

    /// A kernel halted at its own BUG: the BUG and the operation in progress first, every
    /// violation marked with where it lies, the kernel's caught violation counted; with
    /// --replay the log up to the operation before and what the operation in progress had
    /// done. Always exit 1: the kernel itself found a violation (or a misuse) and stopped.
    func reportPostMortem(_ postMortem: PostMortem, _ snapshot: KernelSnapshot, _ report: VerifyReport, log: [OpLogRecord]) throws {
        let replayed = replay && from == nil ? PostMortemReplay(snapshot, log: log, operationsInProgress: postMortem.operations) : nil
        if replay && from != nil {
            StandardError.write("verify --replay --from: a halted kernel is replayed from the boot only; --from is ignored")
        }
        if image.json {
            var document = VerifyJSON(snapshot, report, replay: nil)
            document.postMortem = PostMortemJSON(postMortem, report, replayed)
            print(try JSONOutput.string(document))
        } else {
            print(postMortem.header.joined(separator: "\n"))
            print("sequence \(snapshot.sequence)\n" + VerifySummary.text(snapshot, report))
            let first = report.text.split(separator: "\n", maxSplits: 1).first.map(String.init) ?? ""
            print(first)
            postMortem.lines(report).forEach { print($0) }
            for c in report.failedChecks where report.counts[c]! > report.violations.filter({ $0.check == c }).count {
                print("(\(report.counts[c]! - report.violations.filter { $0.check == c }.count) more \(c.rawValue) violations)")
            }
            print(postMortem.caughtLine)
            if let replayed { print(replayed.text) }
        }
        throw ExitCode(1)
    }

    /// Most damaged free pages the poison scan names before it stops reading.
    static let damageLimit = 1024
}
