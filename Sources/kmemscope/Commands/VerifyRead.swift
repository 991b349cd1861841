import BundledChecks
import BundledState
import BundledKernel
import KernelLayouts
import KernelSession

/// What `verify` reads while the guest is held (the pipeline's decode stage): the decoded
/// state, the log entries the replay or the post-mortem needs, and — when the FrameMeta array
/// is checked in place in the memory file's mapping — the checks' report, made before the
/// guest is let go.
struct VerifyHeld {
    var snapshot: KernelSnapshot
    var log: [OpLogRecord]
    /// The checks, when they ran while the guest was held; nil when they run after.
    var report: VerifyReport?
    /// The boot the state belongs to (for `--replay --from`).
    var boot: BootIdentity?
    /// Where the state came from (the memory source, or the snapshot), for `--timing`.
    var source: String
    /// How many free pages the poison scan read.
    var freePagesRead = 0
    /// Why the poison scan could not run on a snapshot without the free pages.
    var poisonNotHeld: String?
}

extension VerifyCommand {
    /// Reads (and, for --replay, the whole log ring) from `source`, then lets the guest go
    /// before the checks run; with the FrameMeta array checked in place in the memory file's
    /// mapping (no copy), the checks run while the guest is held (they read guest RAM).
    func read(from source: GuestSource, clock: StageClock) throws -> VerifyHeld {
        var origin = source.origin ?? ""
        var boot: BootIdentity?
        var report: VerifyReport?
        var freePagesRead = 0
        var poisonNotHeld: String?
        let (snapshot, log) = try source.read(settling: settling) { s -> (KernelSnapshot, [OpLogRecord]) in
            clock.attached()
            boot = s.info.bootIdentity
            if let live = s as? GuestSession { origin = live.memorySource.description }
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
                clock.readEnded()
                report = Verifier(snapshot).run()
                if let failure = snapshot.frames.readFailure { throw failure }
            }
            return (snapshot, try logEntries(for: snapshot, s))
        }
        if report == nil { clock.readEnded() }
        return VerifyHeld(snapshot: snapshot, log: log, report: report, boot: boot, source: origin,
                          freePagesRead: freePagesRead, poisonNotHeld: poisonNotHeld)
    }

    /// The log entries the verdict needs: with --replay every entry the ring holds up to the
    /// state's sequence; on a kernel halted at its BUG the last ones (where the operation in
    /// progress began); else none.
    func logEntries(for snapshot: KernelSnapshot, _ s: any GuestView) throws -> [OpLogRecord] {
        let capacity = snapshot.opLogCapacity ?? 65536
        guard replay else {
            // a post-mortem needs the last entries: where the operation in progress began
            guard snapshot.bug != nil, snapshot.sequence > 0 else { return [] }
            let recent = Int(min(snapshot.sequence, capacity, UInt64(PostMortem.logWindow)))
            return (try? OpLogDecoder(info: s.info, memory: s.memory).last(recent, upTo: snapshot.sequence)) ?? []
        }
        let count = Int(min(snapshot.sequence, capacity))
        if let size = try? s.info.boundedSize(of: "OpLogEntry") { ProgressLine.expect(count &* size) }
        return count == 0 ? [] : try OpLogDecoder(info: s.info, memory: s.memory).last(count, upTo: snapshot.sequence)
    }
}
