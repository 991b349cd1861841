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

    func run() throws {
        if profile.isLinux {
            if replay { StandardError.write(OpLogOnly.refusal("verify --replay")); throw ExitCode(2) }
            let report = try LinuxAttach.run(profile, stub, settling: settling) { linux in
                try LinuxVerifier.verify(linux, nodes: try LinuxAttach.allNodes(linux))
            }
            let coverage = Coverage.linuxChecks(report, base: LinuxAttach.coverage)
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
        var freePagesRead = 0
        var poisonNotHeld: String?
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
            if snapshot.bug != nil, let seen = try? s.haltedAtBug() {
                snapshot.bug?.haltedAtBugHalt = seen.haltedAtBugHalt   // the CPU's RIP, live or as the snapshot saved it
            }
            if freePagePoison && snapshot.poisoning == true {
                do {
                    let scan = try FreePagePoisonScan(info: s.info, memory: s.memory).scan(snapshot, limit: Self.damageLimit)
                    snapshot.poisonDamage = scan.damage
                    freePagesRead = scan.pagesRead
                } catch let error as SnapshotFileError {
                    guard case .notHeld = error else { throw error }
                    // a snapshot taken without --free-pages: the other checks still run
                    poisonNotHeld = "\(error)"
                }
            }
            if snapshot.frames.isLive {
                checked = clock.now
                usageAtCheck = ProcessUsage.now()
                heldReport = Verifier(snapshot).run()
                if let failure = snapshot.frames.readFailure { throw failure }
            }
            let capacity = snapshot.opLogCapacity ?? 65536
            guard replay else {
                // a post-mortem needs the last entries: where the operation in progress began
                guard snapshot.bug != nil, snapshot.sequence > 0 else { return (snapshot, []) }
                let recent = Int(min(snapshot.sequence, capacity, UInt64(PostMortem.logWindow)))
                return (snapshot, (try? OpLogDecoder(info: s.info, memory: s.memory).last(recent, upTo: snapshot.sequence)) ?? [])
            }
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
        let postMortem = snapshot.bug.map { PostMortem(bug: $0, snapshot: snapshot, log: log) }
        if let postMortem {
            try reportPostMortem(postMortem, snapshot, report, log: log)
            return
        }
        let verification = try replay ? replayed(snapshot, log, boot: boot) : nil
        // a replay the ring cannot feed (entries overwritten) is no verdict, not a violation
        var unfed = false
        if let verification, case .missing = verification.replay.stop { unfed = true }
        let coverage = coverage(snapshot, report, verification: verification, unfed: unfed,
                                freePagesRead: freePagesRead, poisonNotHeld: poisonNotHeld)
        let passed = report.passed && (unfed || (verification?.passed ?? true))
        if image.json {
            var document = VerifyJSON(snapshot, report, replay: verification)
            document.covered = coverage.covered
            document.skipped = coverage.skipped
            print(try JSONOutput.string(document))
        } else {
            print("sequence \(snapshot.sequence)\n" + VerifySummary.text(snapshot, report) + "\n" + report.text)
            coverage.text.forEach { print($0) }
            if let verification { print(verification.text) }
        }
        if !passed { throw ExitCode(1) }
        try coverage.enforce(allowPartial: profile.allowPartial)
    }

    /// A kernel halted at its own BUG: the BUG and the operation in progress first, every
    /// violation marked with where it lies, the kernel's caught violation counted; with
    /// --replay the log up to the operation before and what the operation in progress had
    /// done. Always exit 1: the kernel itself found a violation (or a misuse) and stopped.
    func reportPostMortem(_ postMortem: PostMortem, _ snapshot: KernelSnapshot, _ report: VerifyReport, log: [OpLogRecord]) throws {
        let replayed = replay && from == nil ? PostMortemReplay(snapshot, log: log, postMortem: postMortem) : nil
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

    /// What this run of verify covered, and what it did not (docs/checks.md, "Partial verdicts").
    func coverage(_ snapshot: KernelSnapshot, _ report: VerifyReport, verification: Replay.Verification?, unfed: Bool,
                  freePagesRead: Int, poisonNotHeld: String?) -> Coverage {
        var c = Coverage.bundledChecks(snapshot, report)
        if snapshot.poisoning == true {
            if let poisonNotHeld {
                c.skip("free-page-poison: the free pages' contents", poisonNotHeld)
            } else if snapshot.poisonDamage == nil {
                c.skip("free-page-poison: the free pages' contents", "not read (pass --free-page-poison)", asked: false)
            } else if (snapshot.poisonDamage?.count ?? 0) >= Self.damageLimit {
                c.covered.append("free-page-poison: \(freePagesRead) free pages read")
                c.skip("free-page-poison: the free pages after the \(Self.damageLimit)th damaged one",
                       "the scan stops at \(Self.damageLimit) damaged pages", asked: false)
            } else {
                c.covered.append("free-page-poison: \(freePagesRead) free pages read")
            }
        } else if freePagePoison {
            c.skip("free-page-poison: the free pages' contents", "page poisoning is off in the guest (boot it with poison=1): free pages hold no pattern")
        }
        if let verification {
            if unfed {
                c.skip("replay from \(from == nil ? "the boot" : "the snapshot") (no replay verdict; the checks passed)",
                       "the log ring no longer holds the entries it needs: \(verification.replay.operations) operations replayed")
            } else {
                c.covered.append("replay of \(verification.replay.operations) operations")
            }
        }
        return c
    }
}
