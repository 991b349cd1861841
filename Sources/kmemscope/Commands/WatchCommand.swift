import ArgumentParser
import AllocatorModel
import BundledChecks
import BundledState
import Foundation
import GDBRemote
import BundledKernel
import KernelLayouts
import KernelSession

/// `kmemscope watch`: lets the guest run and stops it at every `kmem_checkpoint` (or every N
/// operations, through `kmem_stop_seq`); at each stop it verifies the state and replays the
/// operations since the previous stop through the reference model, printing one line. At the
/// first failure it prints the window (last clean sequence, first failing one) and what failed,
/// and exits 1. Ctrl-C ends it; the guest is left as it was found.
struct WatchCommand: GuestCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Stop at every checkpoint (or every N operations), verify and replay since the last stop; report the first failure.",
        discussion: "Each line: the sequence, free pages, the verdict (verify and replay since the previous stop) and the time the stop took.")

    @Option(name: .long, help: "Stop every N allocator operations (through kmem_stop_seq) instead of at the workload's checkpoints. At most the log ring's size, so the replay has every entry.")
    var every: UInt64?

    @Option(name: .long, help: "End after this many stops (default: until Ctrl-C or a failure).")
    var stops: Int?

    @Option(name: .long, help: "Seconds to wait for the next stop before giving up.")
    var wait: Int = 60

    @Option(name: .long, help: ArgumentHelp(
        "At the first failure, save the last clean stop and the failing one as snapshots in this directory (`kmemscope diff` them to see what changed in the window).",
        valueName: "dir"))
    var keep: String?

    @OptionGroup var imageOptions: TextImageOptions
    var image: ImageOptions { imageOptions.options }
    @OptionGroup var stub: TargetOptions
    @OptionGroup var settling: SettleOptions

    func validate() throws {
        if image.json { throw ValidationError("watch prints a text line per stop: --json does not apply (the views, verify and log have it)") }
        if stub.snapshot != nil { throw ValidationError("watch follows a running guest: --snapshot does not apply (verify --snapshot reads one)") }
        if let every, every == 0 || every > 65536 { throw ValidationError("--every must be 1…65536 (the log ring holds 65536 entries)") }
        if let stops, stops < 1 { throw ValidationError("--stops must be at least 1") }
        if let keep {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: keep, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ValidationError("--keep \(keep) is not a directory")
            }
        }
        guard (1...86_400).contains(wait) else { throw ValidationError("--wait must be 1…86400 seconds, not \(wait)") }
    }

    func run(in context: CommandContext) throws {
        let session = try GuestSource(image, stub, in: context).attach()
        session.reportProgress(to: nil)   // a line per stop is watch's own progress
        var failed = false
        try session.read { s in
            // with --keep, each stop is read through a recorder so the last clean one and the
            // failing one can be saved as snapshots (one read either way)
            var kept: SnapshotCapture?
            func state(_ point: SettlePoint) throws -> KernelSnapshot {
                guard keep != nil else { return try SnapshotDecoder(info: s.info, memory: s.memory).decode() }
                let capture = try SnapshotCapture.take(s, at: point, tool: KmemscopeVersion.string)
                kept = capture
                return capture.snapshot
            }
            try FreeRunningGuest.refuse(s, command: "watch")
            let checkpoint = try s.kernel.symbol("kmem_checkpoint").address.rawValue
            let stopSeq = try s.info.number("STOP_SEQ")
            let start = try s.settle(runStoppedGuest: true)
            if let bug = start.bug { print(bug.summary) }   // a post-mortem: watch's first stop is its last
            var previous = try state(start)
            var clean = kept
            let first = Verifier(previous).run()
            print("seq \(previous.sequence): start, free \(free(previous)) pages, verify \(first.passed ? "ok" : "\(first.total) violations")")
            if !first.passed { print(first.text); failed = true; return }
            try s.addBreakpoint(at: checkpoint)
            // kmem_stop_seq is the one guest word watch writes: disarm it on every way out, so a
            // stop that was not reached (timeout, Ctrl-C, an error) leaves no checkpoint behind.
            defer {
                if every != nil { try? s.target.writeMemory(at: stopSeq, bytes: [UInt8](repeating: 0, count: 8)) }
            }
            var count = 0
            while stops.map({ count < $0 }) ?? true {
                if let every {
                    try s.target.writeMemory(at: stopSeq, bytes: withUnsafeBytes(of: (previous.sequence &+ every).littleEndian, Array.init))
                }
                do {
                    try s.runUntilStop(limit: .seconds(wait))
                } catch SessionError.haltedAtBug(let bug) {
                    // the kernel stopped itself between two stops: the failure is its own
                    let current = try state(try s.settle(runStoppedGuest: true))
                    let report = Verifier(current).run()
                    print("seq \(current.sequence): the kernel halted at its own \(bug.headline)")
                    print("first failure between seq \(previous.sequence) (last clean) and seq \(bug.sequence == 0 ? current.sequence : bug.sequence)")
                    print(bug.summary)
                    let recent = Int(min(current.sequence, current.opLogCapacity ?? 65536, UInt64(PostMortem.logWindow)))
                    let log = recent == 0 ? [] : (try? OpLogDecoder(info: s.info, memory: s.memory).last(recent, upTo: current.sequence)) ?? []
                    let postMortem = PostMortem(bug: bug, snapshot: current, log: log)
                    postMortem.header.dropFirst().forEach { print($0) }
                    print(report.text.split(separator: "\n", maxSplits: 1).first.map(String.init) ?? "")
                    postMortem.lines(report).forEach { print($0) }
                    print(postMortem.caughtLine)
                    failed = true
                    break
                } catch GDBRemoteError.timedOut(let request, _) where request == GuestSession.runTimeoutRequest {
                    // the guest ran the whole time (it is stopped again): no stop came, no stub is hung
                    let at = (try? s.memory.readU64(at: try s.info.number("SEQUENCE"))).map { "sequence \($0)" } ?? "an unknown sequence"
                    let goal = every.map { "sequence \(previous.sequence &+ $0) not reached" } ?? "no checkpoint"
                    throw SessionError.other("\(goal) within \(wait) s: the guest ran on to \(at) (has the workload ended? --wait sets how long to wait)")
                }
                let started = ContinuousClock.now
                let current = try state(try s.settle(runStoppedGuest: true))
                let report = Verifier(current).run()
                let span = current.sequence &- previous.sequence
                let capacity = current.opLogCapacity ?? 65536
                let log = span == 0 ? [] : try OpLogDecoder(info: s.info, memory: s.memory).last(Int(min(span, capacity)), upTo: current.sequence)
                let replay = Replay.verify(from: previous, to: current, log: log)
                let ms = Int((ContinuousClock.now - started) / .milliseconds(1))
                count += 1
                // a window longer than the ring cannot be replayed: say so, it is no failure
                var gap = false
                if case .missing = replay.replay.stop { gap = true }
                let ok = report.passed && (replay.passed || gap)
                let verdict = gap ? "replay skipped: \(span) operations, more than the log ring holds (use --every)"
                    : "replay \(replay.passed ? "ok" : "FAILED") (\(span) operations)"
                print("seq \(current.sequence): free \(free(current)) pages, verify \(report.passed ? "ok" : "\(report.total) violations"), "
                      + "\(verdict), \(ms) ms")
                if !ok {
                    print("first failure between seq \(previous.sequence) (last clean) and seq \(current.sequence)")
                    if !report.passed { print(report.text) }
                    print(replay.text)
                    if let keep, let clean, let kept {
                        let paths = ["\(keep)/seq-\(previous.sequence)-clean.snap", "\(keep)/seq-\(current.sequence)-failing.snap"]
                        try clean.write(to: paths[0], force: true)
                        try kept.write(to: paths[1], force: true)
                        print("saved \(paths[0]) and \(paths[1]): `kmemscope diff \(paths[0]) \(paths[1])` shows what changed between them")
                    }
                    failed = true
                    break
                }
                previous = current
                clean = kept
            }
            try s.removeBreakpoint(at: checkpoint)
        }
        if failed { throw ExitCode(1) }
    }

    func free(_ s: KernelSnapshot) -> UInt64 { s.zones.reduce(0) { $0 + $1.freePages } }
}
