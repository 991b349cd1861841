import AllocatorModel
import BundledChecks
import BundledState
import Testing

/// Where a post-mortem places the operations in progress and each violation, on hand-built
/// snapshots (frame `p` was last changed by operation `10 p`; SnapshotTests.table).
@Suite("Post-mortem attribution")
struct PostMortemAttributionTests {
    static func entry(_ sequence: UInt64, parent: UInt64 = 0, status: UInt8 = 0) -> OpLogRecord {
        OpLogRecord(sequence: sequence, rawKind: 1, order: 0, migratetype: 0, zone: 0, status: status, flags: 0,
                    alignment: 1, size: 0, address: 0, result: 0, owner: 0, parent: parent)
    }

    static func snapshot(sequence: UInt64) -> KernelSnapshot {
        var s = SnapshotTests.snapshot(SnapshotTests.table(count: 16, links: [:]), heads: [])
        s.sequence = sequence
        return s
    }

    /// Inside operation 120 (not logged), with 115 nested in it and logged: the operations in
    /// progress start after 110, the last completed top-level entry.
    @Test func anOperationInProgressAndWhatItChanged() {
        let bug = KernelBug(rawKind: 3, code: 9, pfn: 5, sequence: 120, busy: 1, text: "illegal frame state change pfn 0x5")
        let p = PostMortem(bug: bug, snapshot: Self.snapshot(sequence: 120),
                           log: [Self.entry(100), Self.entry(110), Self.entry(115, parent: 111)])
        #expect(p.operations == 111...120)
        #expect(p.changedFrames == [12])   // lastSeq 120
        #expect(p.entries.map(\.sequence) == [115])
        #expect(p.attribution(of: Violation(.tiling, zone: "DMA", segment: 0, pfn: 5, expected: "", found: "")) == .bugFrame)
        #expect(p.attribution(of: Violation(.refcount, zone: "DMA", segment: 0, pfn: 12, expected: "", found: "")) == .changedByOperation)
        #expect(p.attribution(of: Violation(.counters, zone: "DMA", segment: 0, expected: "", found: "")) == .operationLists)
        #expect(p.attribution(of: Violation(.parity, zone: "DMA", segment: 0, pfn: 3, expected: "", found: "")) == .before)
        #expect(bug.operationInProgress && bug.summary.contains("inside operation 120, which had not finished"))
        #expect(p.header[1].hasPrefix("in progress at the halt: operations 111…120 (1 logged so far); 1 frames changed by it: 0xc"))
    }

    /// A corruption found in nested operation 102 of 101: both logged `corrupt`, both part of
    /// what failed; 100 completed before.
    @Test func aFailedNestedOperationCountsFromItsTopLevelParent() {
        let bug = KernelBug(rawKind: 2, code: 19, pfn: nil, sequence: 102, busy: 0, text: "corrupted free list")
        let p = PostMortem(bug: bug, snapshot: Self.snapshot(sequence: 102),
                           log: [Self.entry(100), Self.entry(101, status: 3), Self.entry(102, parent: 101, status: 3)])
        #expect(p.operations == 101...102)
        #expect(p.changedFrames.isEmpty)
        #expect(!bug.operationInProgress && bug.summary.contains("at operation 102 (logged as corrupt)"))
        #expect(p.caughtLine == "kernel-bug: the kernel's own check stopped it: corrupted free list (operation 102)")
    }

    /// Sequences are guest data (issue 24): a logged entry at sequence 0 before the BUG puts the
    /// operations in progress at 0, and a snapshot at the last sequence there is has no next
    /// one; the post-mortem replay runs on both instead of trapping on `from - 1` or `sequence + 1`.
    @Test func sequencesAtTheEdgesDoNotTrapTheReplay() {
        let bug = KernelBug(rawKind: 3, code: 9, pfn: 5, sequence: 3, busy: 1, text: "illegal frame state change pfn 0x5")
        let early = PostMortem(bug: bug, snapshot: Self.snapshot(sequence: 3), log: [Self.entry(0, status: 2), Self.entry(2, status: 2)])
        #expect(early.operations == 0...3)
        #expect(PostMortemReplay(Self.snapshot(sequence: 3), log: [], operationsInProgress: early.operations).through == 0)
        let none = KernelBug(rawKind: 5, code: 14, pfn: nil, sequence: 0, busy: 0, rip: 0xffffffff80114b3b, text: "CPU exception vector 14")
        let last = Self.snapshot(sequence: .max)
        let p = PostMortem(bug: none, snapshot: last, log: [])
        #expect(PostMortemReplay(last, log: [], operationsInProgress: p.operations).through == UInt64.max - 1)
    }

    /// A BUG about no operation (an exception between operations) has none in progress.
    @Test func noOperation() {
        let bug = KernelBug(rawKind: 5, code: 14, pfn: nil, sequence: 0, busy: 0, rip: 0xffffffff80114b3b, text: "CPU exception vector 14")
        let p = PostMortem(bug: bug, snapshot: Self.snapshot(sequence: 40), log: [Self.entry(40)])
        #expect(p.operations == nil && p.changedFrames.isEmpty && p.header.count == 1)
        #expect(p.attribution(of: Violation(.counters, zone: "DMA", segment: 0, expected: "", found: "")) == .before)
        #expect(bug.summary.contains("rip 0xffffffff80114b3b"))
    }
}
