@testable import AllocatorModel
@testable import BundledState
import Testing

/// The rule level of a replay (`RuleModel`): rules any buddy allocator keeps, judged on every
/// operation on a state of its own, so a mistake the kernel and the exact model share is caught.
@Suite("Replay: the rule level")
struct RuleModelTests {
    static func entry(_ seq: UInt64, _ kind: OpLogRecord.Kind, order: UInt8 = 0, zone: UInt8 = 2, flags: UInt8 = 0,
                      alignment: UInt64 = 1, size: UInt64 = 0, address: UInt64 = 0, result: UInt64 = 0) -> OpLogRecord {
        OpLogRecord(sequence: seq, rawKind: kind.rawValue, order: order, migratetype: 1, zone: zone, status: 0, flags: flags,
                    alignment: alignment, size: size, address: address, result: result, owner: 5, parent: 0)
    }

    /// The rules a clean run keeps: every operation of the model's own workloads judged, none broken,
    /// and the frames the log leaves free are the final state's.
    @Test(arguments: 0..<12 as Range<UInt64>)
    func everyOperationOfACleanRunIsJudgedAndHolds(seed: UInt64) throws {
        let start = ReplayTests.boot()
        let end = ReplayTests.workload(seed: seed, operations: 2000, from: start)
        let (report, _, rules) = Replay().judged(from: start, log: end.log)
        #expect(report.rules.judged && report.rules.operations == report.operations && report.operations > 1000, "\(report.text)")
        #expect(report.rules.broken == 0 && report.divergences == 0, "seed \(seed): \(report.text)")
        let d = try #require(rules).differences(from: end)
        #expect(d.count == 0, "seed \(seed): \(d.first)")
        #expect(report.text.contains("rule level (") && report.text.contains("every rule held"), "\(report.text)")
    }

    /// The exact model hands out a block its own state also counts as allocated (a state both
    /// transcriptions got wrong the same way): no divergence, yet the rule level names it.
    @Test func aMistakeTheModelSharesWithTheKernelIsIllegal() throws {
        var start = ReplayTests.boot()
        var probe = start
        let first = probe.allocate(order: 2, migratetype: 1, zone: 2, alignment: 1, owner: 5, ignoreWatermarks: false)
        #expect(first.status == .ok)
        // The same block held as allocated too: the model will still take it from its free list.
        start.allocated[first.value] = ModelState.AllocatedBlock(order: 2, migratetype: 1, owner: 9, lastSeq: 0)
        var m = start
        #expect(m.allocate(order: 2, migratetype: 1, zone: 2, alignment: 1, owner: 5, ignoreWatermarks: false) == first)
        let (report, _) = Replay().run(from: start, log: m.log)
        let d = try #require(report.firstIllegal, "\(report.text)")
        #expect(d.kernel == "as the model" && d.reason.contains("was allocated, not free") && d.reason.contains("the reference model did the same"), "\(d)")
        #expect(d.frames.contains(first.value))
        #expect(report.rules.broken >= 1 && report.rules.conflicts == 4, "\(report.rules.text)")
        // Without the rule level this replay agrees: the model's own comparison finds nothing.
        #expect(report.policyCount == 0)
    }

    @Test func aBlockHandedOutUnderTheMinWatermarkBreaksARule() throws {
        var start = ReplayTests.boot()
        start.zones[2].watermarkMin = 100
        var rules = try #require(RuleModel(start))
        // 512 frames free in Normal: an order-9 block leaves none, under min 100.
        let broken = rules.step([Self.entry(1, .allocate, order: 9, result: 0x400)][...])
        #expect(broken.contains { $0.rule.contains("under min 100") }, "\(broken)")
        // With "watermarks ignored" the same request keeps the rules.
        var ignoring = try #require(RuleModel(start))
        #expect(ignoring.step([Self.entry(1, .allocate, order: 9, flags: 1, result: 0x400)][...]).isEmpty)
    }

    @Test func blocksHandedOutMustBeFreeAlignedInOneSegmentOfAnAllowedZone() throws {
        var rules = try #require(RuleModel(ReplayTests.boot()))
        let misaligned = rules.step([Self.entry(1, .allocate, order: 2, result: 0x402)][...])
        #expect(misaligned.contains { $0.rule.contains("not aligned to its order 2") }, "\(misaligned)")
        let acrossAHole = rules.step([Self.entry(2, .allocate, order: 6, result: 0x80)][...])
        #expect(acrossAHole.contains { $0.rule.contains("does not lie inside one segment") }, "\(acrossAHole)")
        let tooHigh = rules.step([Self.entry(3, .allocate, order: 0, zone: 1, result: 0x500)][...])
        #expect(tooHigh.contains { $0.rule.contains("above the request's highest zone 1") }, "\(tooHigh)")
        let twice = rules.step([Self.entry(4, .allocate, order: 0, result: 0x500)][...])
        #expect(twice.contains { $0.rule.contains("was allocated, not free") }, "\(twice)")
    }

    @Test func freesMustBeOfAllocatedBlocksAtTheirOrder() throws {
        var rules = try #require(RuleModel(ReplayTests.boot()))
        #expect(rules.step([Self.entry(1, .allocate, order: 2, result: 0x400)][...]).isEmpty)
        let wrongOrder = rules.step([Self.entry(2, .free, order: 1, address: 0x400)][...])
        #expect(wrongOrder.contains { $0.rule.contains("the head of an order-2 block") }, "\(wrongOrder)")
        let double = rules.step([Self.entry(3, .free, order: 1, address: 0x400)][...])
        #expect(double.contains { $0.rule.contains("no allocated block's head (free)") }, "\(double)")
        let unreserve = rules.step([Self.entry(4, .unreserve, size: 2, address: 0x500)][...])
        #expect(unreserve.contains { $0.rule.contains("which was free, not reserved") }, "\(unreserve)")
        let lastPut = rules.step([Self.entry(5, .put, address: 0x510, result: 0)][...])
        #expect(lastPut.contains { $0.rule.contains("no allocated block's head") }, "\(lastPut)")
    }

    /// A free block lost from memory's lists (as `fault=lost-block` does) is a frame the log left
    /// free that memory does not hold free.
    @Test func memoryIsComparedWithTheLogFrameByFrame() throws {
        let start = ReplayTests.boot()
        var end = ReplayTests.workload(seed: 4, operations: 800, from: start)
        let (_, _, rules) = Replay().judged(from: start, log: end.log)
        let (head, block) = try #require(end.freeBlocks.first { $0.value.order >= 1 })
        end.freeBlocks[head] = nil
        let d = try #require(rules).differences(from: end)
        #expect(d.count == 1 << block.order, "\(d)")
        #expect(d.first.first?.pfn == head && d.first.first?.rules == "free" && d.first.first?.memory == "not free")
    }
}
