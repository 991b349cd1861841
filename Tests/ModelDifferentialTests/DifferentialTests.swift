import AllocatorModel
import Foundation
import KernelHarness
import KernelMM
import Testing

/// The reference model (AllocatorModel) and the kernel's allocator (KernelMM) on the same
/// random operation sequences: identical results, identical final states (compared through
/// the snapshot types the CLI decodes), and the replay of KernelMM's own log through the model
/// without a divergence. The seed is in every failure message.
///
/// `KMEMSCOPE_DIFF_SEEDS=N` (and optionally `KMEMSCOPE_DIFF_OPS=N`) runs N seeds per
/// configuration instead of the default, for a long run from a script.
@Suite("Model against KernelMM")
struct DifferentialTests {
    static let environment = ProcessInfo.processInfo.environment
    static let seedsPerBatch = Int(environment["KMEMSCOPE_DIFF_SEEDS"] ?? "").map { max(1, $0 / 8) } ?? 25
    static let operations = Int(environment["KMEMSCOPE_DIFF_OPS"] ?? "") ?? 400

    /// Boot: the state at sequence 0 built from the segments (start a) is the state KernelMM
    /// boots into, and the snapshot's watermarks, lowmem reserve and per-CPU parameters are the
    /// contract's formulas.
    @Test(arguments: [false, true])
    func bootIsTheContractsBoot(large: Bool) throws {
        let arena = try HostArena.differential(large: large)
        let snapshot = try arena.snapshot()
        let (model, disagreements) = ModelState.boot(like: snapshot)
        #expect(disagreements.isEmpty, "\(disagreements)")
        let c = ModelComparison(model: model, snapshot: snapshot)
        #expect(c.matches, "\(c.text)")
        // Start (b): the model read from the snapshot is the same state.
        #expect(ModelComparison(model: ModelState(snapshot: snapshot), snapshot: snapshot).matches)
    }

    /// 8 batches of seeds (small and large memory maps, poisoning off and on with scribbled
    /// pages), `operations` operations each.
    @Test(arguments: 0..<8)
    func randomSequences(batch: Int) throws {
        let options = Storm.Options(large: batch % 2 == 1, poison: batch >= 4, scribbles: batch >= 4 ? 20 : 0,
                                    hotAdd: batch % 4 >= 2)
        var failures: [String] = []
        var total = Outcome()
        for i in 0..<Self.seedsPerBatch {
            let seed = UInt64(batch * 100_000 + i)
            let outcome = try Self.run(seed: seed, options: options, operations: Self.operations)
            total.add(outcome)
            if let f = outcome.failure { failures.append(f) }
        }
        print("differential batch \(batch): \(Self.seedsPerBatch) seeds, \(total.operations) operations, \(total.entries) log entries "
              + "(\(total.misuses) misuse, \(total.quarantines) quarantines), \(total.divergences) replay divergences, \(failures.count) seeds differ; model paths: \(total.events)")
        #expect(failures.isEmpty, "\(failures.count) of \(Self.seedsPerBatch) seeds differ; first: \(failures.first ?? "")")
        if Self.seedsPerBatch >= 10 {
            let e = total.events
            // (The small map's one Normal pageblock is soon split, so whole-pageblock steals are the
            // large map's.)
            #expect(e.secondPassDrains > 0 && e.watermarkSkips > 0 && e.claimSteals > 0 && e.highDrains > 0 && e.misuses > 0
                        && (!options.large || e.retagSteals > 0) && (options.large || e.loneSteals > 0)
                        && (!options.hotAdd || e.hotAddedSegments > 0),
                    "batch \(batch) did not reach every path: \(e)")
        }
    }

    /// Free pages scribbled on every other step: the kernel quarantines what it would hand out,
    /// the model (told which frames were overwritten) quarantines the same frames in the same
    /// operations and starts them again, and `allocateFrame`/`reserveRange` fail on them.
    @Test(arguments: [false, true])
    func scribbledPagesAreQuarantinedAlike(large: Bool) throws {
        var quarantines = 0
        for seed in 0..<8 as Range<UInt64> {
            let outcome = try Self.run(seed: 900 + seed, options: Storm.Options(large: large, poison: true, scribbles: 500), operations: 300)
            #expect(outcome.failure == nil, "\(outcome.failure ?? "")")
            quarantines += outcome.quarantines
        }
        #expect(quarantines > 20, "\(quarantines) quarantines")
    }

    struct Outcome {
        var failure: String?
        var divergences = 0
        var operations = 0
        var entries = 0
        var misuses = 0
        var quarantines = 0
        var events = ModelEvents()

        mutating func add(_ o: Outcome) {
            events.add(o.events)
            divergences += o.divergences
            operations += o.operations
            entries += o.entries
            misuses += o.misuses
            quarantines += o.quarantines
        }
    }

    /// One seed: the side-by-side run (with a snapshot half way), then the final comparison,
    /// then the replay of the log from the boot snapshot and from the half-way one.
    static func run(seed: UInt64, options: Storm.Options, operations: Int) throws -> Outcome {
        var storm = try Storm(seed: seed, options: options)
        storm.run(operations: operations / 2)
        if let f = storm.failure { return Outcome(failure: f) }
        // Start (b): the model read from a snapshot taken while blocks are cached, slabs partly
        // used and pageblocks stolen is the model that got there.
        let middle = try storm.arena.snapshot()
        let m = ModelComparison(model: storm.model, snapshot: middle)
        if !m.matches { return Outcome(failure: "\(storm.context): half-way state differs:\n\(m.text)") }
        storm.run(operations: operations)
        if let f = storm.failure { return Outcome(failure: f) }
        let end = try storm.arena.snapshot()
        if end.busy != 0 { return Outcome(failure: "\(storm.context): busy \(end.busy.map(String.init) ?? "unpublished") between operations") }
        let c = ModelComparison(model: storm.model, snapshot: end)
        if !c.matches { return Outcome(failure: "\(storm.context): final state differs:\n\(c.text)") }
        // The replay of KernelMM's own log from the snapshot taken after boot (start b).
        let log = try storm.arena.log(from: storm.start.sequence + 1, through: end.sequence)
        let (report, replayed) = Replay().run(from: ModelState(snapshot: storm.start), log: log, through: end.sequence)
        if report.divergences != 0 || report.stop != nil {
            return Outcome(failure: "\(storm.context): replay:\n\(report.text)", divergences: report.divergences)
        }
        let r = ModelComparison(model: replayed, snapshot: end)
        if !r.matches { return Outcome(failure: "\(storm.context): replayed state differs:\n\(r.text)") }
        let half = Replay.verify(from: middle, to: end, log: log)
        if !half.passed { return Outcome(failure: "\(storm.context): replay from seq \(middle.sequence):\n\(half.text)", divergences: half.replay.divergences) }
        // The rule level judged every operation of KernelMM's log and compared the free frames
        // (up to a memory hot-add, where it stops: segments and watermarks change).
        let rules = half.replay.rules
        if !rules.judged || rules.stoppedAt == nil && (rules.operations != half.replay.operations || half.ruleDifferences == nil) {
            return Outcome(failure: "\(storm.context): the rule level did not judge the whole replay:\n\(half.text)")
        }
        return Outcome(operations: storm.operations, entries: log.count, misuses: log.filter { $0.status == 2 }.count,
                       quarantines: log.filter { $0.kind == .quarantine }.count, events: storm.model.events)
    }
}
