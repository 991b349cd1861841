import AllocatorModel
import BundledState
import Foundation
import Testing

/// Replay of an operation log through the model: the model's own log replays without a
/// divergence; a tampered log gives an illegal or a policy divergence with the operation, both
/// results and the frames; corruption and overwritten ring entries stop the replay and say so.
@Suite("Replay")
struct ReplayTests {
    /// The small map of the KernelMM property tests: three zones, a hole.
    static let specs: [ModelState.SegmentSpec] = [
        .init(startPFN: 0x0, endPFN: 0x9F, zone: 0), .init(startPFN: 0x140, endPFN: 0x180, zone: 0),
        .init(startPFN: 0x180, endPFN: 0x300, zone: 1), .init(startPFN: 0x340, endPFN: 0x400, zone: 1),
        .init(startPFN: 0x400, endPFN: 0x600, zone: 2),
    ]

    static func boot(poisoning: Bool = false) -> ModelState {
        ModelState(boot: specs, directMap: 0xffff_8880_0000_0000, poisoning: poisoning)
    }

    /// A random workload run on the model alone: every operation kind, misuse included (a step
    /// with nothing to free does nothing).
    static func workload(seed: UInt64, operations: Int, from start: ModelState) -> ModelState {
        var m = start
        var rng = Rng(state: seed)
        var live: [(UInt64, Int)] = []
        var objects: [UInt64] = []
        for _ in 0..<operations {
            switch rng.next() % 20 {
            case 0..<7:
                var order = 0
                while order < 11 && rng.next() % 3 == 0 { order += 1 }
                let r = m.allocate(order: order, migratetype: Int(rng.next() % 2), zone: Int(rng.next() % 3),
                                   alignment: rng.next() % 5 == 0 ? 1 << (rng.next() % 4) : 1, owner: seed, ignoreWatermarks: rng.next() % 8 == 0)
                if r.status == .ok { live.append((r.value, order)) }
            case 7..<12:
                guard !live.isEmpty else { continue }
                let (p, k) = live.remove(at: Int(rng.next() % UInt64(live.count)))
                m.free(p, order: k)
            case 12:
                if m.allocateFrame(rng.next() % 0x600, migratetype: Int(rng.next() % 2), owner: seed).status == .ok {
                    live.append((m.log.last!.address, 0))
                }
            case 13: m.reserveRange(start: rng.next() % 0x600, count: rng.next() % 4, owner: seed)
            case 14: m.drainPerCPU(zone: Int(rng.next() % 3), all: rng.next() % 2 == 0)
            case 15, 16:
                let r = m.kmalloc(size: rng.next() % 8 == 0 ? 2049 + rng.next() % 30000 : rng.next() % 2049, alignment: 16)
                if r.status == .ok { objects.append(r.value) }
            case 17, 18:
                guard !objects.isEmpty else { continue }
                m.kfree(objects.remove(at: Int(rng.next() % UInt64(objects.count))))
            default:
                if let (p, _) = live.first { m.free(p, order: 12) }   // misuse: nothing changes
            }
        }
        return m
    }

    struct Rng {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func body(_ m: ModelState) -> ModelState {
        var b = m
        b.log = []
        b.poisonOracle = .none
        b.poisoning = false
        return b
    }

    @Test(arguments: 0..<20 as Range<UInt64>)
    func theModelsOwnLogReplaysWithoutDivergence(seed: UInt64) {
        let start = Self.boot()
        let end = Self.workload(seed: seed, operations: 2000, from: start)
        let (report, replayed) = Replay().run(from: start, log: end.log)
        #expect(report.divergences == 0 && report.stop == nil, "seed \(seed): \(report.text)")
        #expect(report.endSequence == end.sequence)
        #expect(Self.body(replayed) == Self.body(end), "seed \(seed)")
    }

    @Test func quarantineEntriesAreTheOracle() {
        var start = Self.boot(poisoning: true)
        start.poisonOracle.overwritten = [0x401: .init(pfn: 0x401, offset: 12, byte: 0), 0x500: .init(pfn: 0x500, offset: 0, byte: 1)]
        let end = Self.workload(seed: 77, operations: 1500, from: start)
        #expect(end.log.contains { $0.kind == .quarantine })
        var fresh = start
        fresh.poisonOracle = .none
        let (report, replayed) = Replay().run(from: fresh, log: end.log)
        #expect(report.divergences == 0, "\(report.text)")
        #expect(Self.body(replayed) == Self.body(end))
    }

    @Test func aBlockThatIsNotFreeIsIllegal() throws {
        let start = Self.boot()
        var log = Self.workload(seed: 3, operations: 600, from: start).log
        // The 50th allocation hands out a block the model has allocated: the first one's.
        let allocations = log.indices.filter { log[$0].kind == .allocate && log[$0].status == 0 && log[$0].parent == 0 }
        let first = log[allocations[0]]
        let i = try #require(allocations.dropFirst(49).first { log[$0].order == first.order && log[$0].zone >= first.zone })
        log[i].result = first.result
        let (report, _) = Replay().run(from: start, log: log)
        let d = try #require(report.firstIllegal, "\(report.text)")
        #expect(d.sequence == log[i].sequence && d.operation == log[i].text && d.frames.contains(first.result))
        #expect(d.reason.contains("is not free"), "\(d.reason)")
    }

    @Test func anotherFreeBlockIsPolicyAndTheModelFollowsIt() throws {
        let start = Self.boot()
        var m = start
        #expect(m.allocate(order: 2, migratetype: 1, zone: 2, alignment: 1, owner: 5, ignoreWatermarks: false) == .ok(0x400))
        var log = m.log
        log[0].result = 0x5f0    // free too, and legal: but not the smallest fit
        let (report, replayed) = Replay().run(from: start, log: log)
        #expect(report.illegalCount == 0 && report.policyCount == 1)
        let d = try #require(report.firstPolicy)
        #expect(d.sequence == 1 && d.frames.contains(0x5f0) && d.frames.contains(0x400))
        #expect(d.kernel.contains("0x5f0") && d.model.contains("0x400"))
        #expect(replayed.allocated[0x5f0]?.order == 2 && replayed.allocated[0x400] == nil, "the model took the kernel's block")
    }

    /// A logged block at the top of the PFN space (guest data): an illegal divergence the model
    /// cannot follow, not a trap on the block's end (issue 24).
    @Test func aBlockThatWrapsThePFNSpaceIsIllegalNotATrap() {
        let start = Self.boot()
        var m = start
        #expect(m.allocate(order: 2, migratetype: 1, zone: 2, alignment: 1, owner: 5, ignoreWatermarks: false) == .ok(0x400))
        var log = m.log
        log[0].result = UInt64.max - 1
        let (report, _) = Replay().run(from: start, log: log)
        #expect(report.illegalCount == 1)
    }

    /// A model at the last sequence there is (an overwritten KmemState.sequence) replays nothing.
    @Test func aStartAtTheLastSequenceReplaysNothing() {
        var start = Self.boot()
        start.sequence = .max
        let (report, _) = Replay().run(from: start, log: [])
        #expect(report.operations == 0 && report.stop == nil)
    }

    @Test func aDoubleFreeAcceptedIsIllegal() throws {
        let start = Self.boot()
        var m = start
        m.allocate(order: 1, migratetype: 0, zone: 2, alignment: 1, owner: 5, ignoreWatermarks: false)
        m.free(0x400, order: 1)
        m.free(0x400, order: 1)
        var log = m.log
        #expect(log[2].status == 2)
        log[2].status = 0
        log[2].result = 1
        let (report, _) = Replay().run(from: start, log: log)
        let d = try #require(report.firstIllegal)
        #expect(d.sequence == 3 && d.reason.contains("double free accepted"), "\(d)")
    }

    @Test func corruptionStopsTheReplay() {
        let start = Self.boot()
        var log = Self.workload(seed: 9, operations: 300, from: start).log
        let i = log.firstIndex { $0.sequence == 100 }!
        log[i].status = 3
        let (report, _) = Replay().run(from: start, log: log)
        guard case .corrupt(let r)? = report.stop else { Issue.record("\(report.text)"); return }
        #expect(r.sequence == 100 && report.endSequence < 100)
        #expect(report.text.contains("the kernel found corruption there and halted"))
    }

    @Test func overwrittenEntriesAreNamedNotSkipped() {
        let start = Self.boot()
        let end = Self.workload(seed: 11, operations: 400, from: start)
        // A ring of 256 entries keeps only the newest.
        let ring = end.log.filter { $0.sequence > end.sequence - 256 }
        let (report, _) = Replay(capacity: 256).run(from: start, log: ring, through: end.sequence)
        #expect(report.stop == .missing(first: 1, last: end.sequence - 256, capacity: 256))
        #expect(report.operations == 0)
        #expect(report.text.contains("replay from a snapshot taken at sequence \(end.sequence - 256) or later")
                && report.text.contains("kmemscope watch"))
    }

    @Test func anOperationTheModelLacksStopsTheReplay() {
        let start = Self.boot()
        var log = Self.workload(seed: 5, operations: 100, from: start).log
        let i = log.firstIndex { $0.sequence == 40 }!
        log[i] = OpLogRecord(sequence: 40, rawKind: 99, order: 0, migratetype: 0, zone: 0, status: 0,
                             flags: 0, alignment: 0, size: 0x100, address: 0x800, result: 1, owner: 0, parent: 0)
        let (report, _) = Replay().run(from: start, log: log)
        #expect(report.stop == .unreadable(log[i]) && report.endSequence == 39)
        #expect(report.text.contains("the model cannot run seq 40"), "\(report.text)")
    }

    /// A hot-add the kernel accepted of memory that was never held back (here: managed memory)
    /// breaks the contract: illegal, not a policy difference.
    @Test func anAcceptedHotAddOfManagedMemoryIsIllegal() {
        let start = Self.boot()
        var log = Self.workload(seed: 5, operations: 100, from: start).log
        let i = log.firstIndex { $0.sequence == 40 }!
        log[i] = OpLogRecord(sequence: 40, rawKind: OpLogRecord.Kind.addMemory.rawValue, order: 0, migratetype: 0, zone: 0, status: 0,
                             flags: 0, alignment: 0, size: 0x100, address: 0x800, result: 1, owner: 0, parent: 0)
        let (report, _) = Replay().run(from: start, log: log)
        #expect(report.firstIllegal?.sequence == 40, "\(report.text)")
    }

    /// Replay speed on a 100,000-operation sequence (printed; the number in the report).
    @Test func replaySpeed() {
        let start = Self.boot()
        let end = Self.workload(seed: 2024, operations: 100_000, from: start)
        let clock = ContinuousClock()
        var result: (report: ReplayReport, state: ModelState)?
        let elapsed = clock.measure { result = Replay().run(from: start, log: end.log) }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let ops = Double(result!.report.operations) / seconds
        print("replay: \(result!.report.operations) operations (\(result!.report.entries) entries) in \(seconds) s: \(Int(ops)) operations/s")
        #expect(result!.report.divergences == 0 && result!.report.operations == end.log.filter { $0.parent == 0 }.count)
        #expect(result!.report.operations > 95_000)
    }
}

/// The other illegal outcomes the replay names.
@Suite("Replay: illegal outcomes")
struct ReplayIllegalTests {
    @Test func aMisuseReportedForALegalFreeIsIllegal() throws {
        let start = ReplayTests.boot()
        var m = start
        m.allocate(order: 1, migratetype: 0, zone: 2, alignment: 1, owner: 5, ignoreWatermarks: false)
        m.free(0x400, order: 1)
        var log = m.log
        log[1].status = 2
        let (report, replayed) = Replay().run(from: start, log: log)
        let d = try #require(report.firstIllegal)
        #expect(d.sequence == 2 && d.reason.contains("reported misuse for a legal operation"), "\(d)")
        #expect(replayed.allocated[0x400] != nil, "the model follows: the misuse changed nothing")
    }

    @Test func anObjectHandedOutTwiceIsIllegal() throws {
        let start = ReplayTests.boot()
        var m = start
        let a = m.kmalloc(size: 100, alignment: 16)
        m.kmalloc(size: 100, alignment: 16)
        var log = m.log
        let i = log.lastIndex { $0.kind == .heapAllocate }!
        log[i].result = a.value
        let (report, _) = Replay().run(from: start, log: log)
        let d = try #require(report.firstIllegal)
        #expect(d.reason.contains("handed out while not free"), "\(d)")
    }

    @Test func aBlockOutsideTheAllowedZonesIsIllegal() throws {
        let start = ReplayTests.boot()
        var m = start
        m.allocate(order: 0, migratetype: 0, zone: 0, alignment: 2, owner: 5, ignoreWatermarks: false)
        var log = m.log
        log[0].result = 0x500    // free, but in Normal
        let (report, _) = Replay().run(from: start, log: log)
        let d = try #require(report.firstIllegal)
        #expect(d.reason.contains("above the constraint"), "\(d)")
        #expect(d.frames.contains(0x500))
    }
}
