import ArgumentParser
import AllocatorModel
import KernelLayouts
import KernelSession
import LinuxKernel

/// `kmemscope verify`: checks the guest's allocator state against the contract, from guest
/// memory read at an operation boundary. Exit status 1 when any check fails.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check the guest's allocator state: tiling, free lists, buddies, counters, per-CPU lists.",
        discussion: Check.allCases.map { "\($0.rawValue): \($0.summary)" }.joined(separator: "\n")
            + "\n\nWith --kernel linux: the twelve checks of Linux's rules in docs/linux-checks.md.\n\n"
            + "Exit status: 0 every check passed (with --replay, also the replay and the final comparison), 1 violations "
            + "found (one line each, or the JSON's violations), 2 no verdict: usage, connection, ELF, descriptor or decode "
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

    func run() throws {
        if profile.isLinux {
            guard !replay else { throw ValidationError("--replay needs the bundled kernel's operation log; Linux has none") }
            let report = try LinuxAttach.run(profile, stub) { linux in try LinuxVerifier.verify(linux) }
            print(image.json ? try JSONOutput.string(LinuxVerifyJSON(report)) : LinuxViews.verify(report))
            if !report.passed { throw ExitCode(1) }
            return
        }
        let clock = ContinuousClock()
        let start = clock.now
        var attached = start
        var source = stub.origin ?? ""
        var usageAtAttach = ProcessUsage.now()
        var usageAtCheck = usageAtAttach
        // Read (and, for --replay, the whole log ring), then let the guest go before the checks
        // run; heldReport, or with the FrameMeta array checked in place in the memory file's
        // mapping (no copy), the checks run while the guest is held (they read guest RAM).
        var heldReport: VerifyReport?
        var checked = clock.now
        var boot: BootIdentity?
        let (snapshot, log) = try stub.read(image, settling: settling) { s -> (KernelSnapshot, [OpLogRecord]) in
            attached = clock.now
            boot = s.info.bootIdentity
            usageAtAttach = ProcessUsage.now()
            if let live = s as? GuestSession { source = live.memorySource.description }
            if streaming, let n = try? s.info.number("FRAME_COUNT"), let size = try? s.info.boundedSize(of: "FrameMeta") {
                ProgressLine.expect(Int(clamping: n) &* size)
            }
            var snapshot = try SnapshotDecoder(info: s.info, memory: s.memory).decode(streaming: streaming, inPlace: !replay)
            if freePagePoison && snapshot.poisoning == true {
                snapshot.poisonDamage = try FreePagePoisonScan(info: s.info, memory: s.memory).scan(snapshot).damage
            }
            if snapshot.frames.isLive {
                checked = clock.now
                usageAtCheck = ProcessUsage.now()
                heldReport = Verifier(snapshot).run()
                if let failure = snapshot.frames.readFailure { throw failure }
            }
            guard replay else { return (snapshot, []) }
            let capacity = snapshot.opLogCapacity ?? 65536
            let count = Int(min(snapshot.sequence, capacity))
            if let size = try? s.info.boundedSize(of: "OpLogEntry") { ProgressLine.expect(count &* size) }
            let log = count == 0 ? [] : try OpLogDecoder(info: s.info, memory: s.memory).last(count, upTo: snapshot.sequence)
            return (snapshot, log)
        }
        let read = heldReport != nil ? checked : clock.now
        if heldReport == nil { usageAtCheck = ProcessUsage.now() }
        let report = heldReport ?? Verifier(snapshot).run()
        if timing {
            StandardError.write(VerifyTiming.text(source: source, snapshot: snapshot, attach: attached - start,
                                                  read: read - attached, verify: clock.now - read,
                                                  readUsage: usageAtCheck - usageAtAttach, verifyUsage: ProcessUsage.now() - usageAtCheck))
        }
        let verification = try replay ? replayed(snapshot, log, boot: boot) : nil
        // a replay the ring cannot feed (entries overwritten) is no verdict, not a violation:
        // exit 2 unless the checks found violations
        var unfed = false
        if let verification, case .missing = verification.replay.stop { unfed = true }
        var passed = report.passed
        if image.json {
            print(try JSONOutput.string(VerifyJSON(snapshot, report, replay: verification)))
            if report.passed && unfed { throw ExitCode(2) }
            if !(report.passed && (verification?.passed ?? true)) { throw ExitCode(1) }
            return
        } else {
            print("sequence \(snapshot.sequence)\n" + VerifySummary.text(snapshot, report) + "\n" + report.text)
            if snapshot.poisoning == true && snapshot.poisonDamage == nil {
                print("note: free-page-poison did not read the free pages' contents (pass --free-page-poison)")
            }
        }
        if let verification {
            print(verification.text)
            if passed && unfed {
                StandardError.write("kmemscope: no replay verdict: the operation log no longer holds the entries it needs (the checks passed)")
                throw ExitCode(2)
            }
            passed = passed && verification.passed
        }
        if !passed { throw ExitCode(1) }
    }
}
