import KernelHarness
import Testing
@testable import KernelMM

@Suite("Operation log")
struct OpLogTests {
    @Test func everyOperationIsRecordedInOrder() throws {
        let a = try HostArena()
        let pa = a.allocator
        let s0 = pa.state.pointee.sequence
        let p = try #require(try pa.allocate(AllocationRequest(order: 2, migratetype: .movable, zone: .dma32, alignment: 8, owner: 42)))
        let e1 = try #require(pa.logEntry(s0 + 1))
        #expect(e1.kind == OpKind.allocate.rawValue && e1.order == 2 && e1.migratetype == 1 && e1.zone == 1)
        #expect(e1.alignment == 8 && e1.owner == 42 && e1.result == p.raw && e1.status == OpStatus.ok.rawValue)
        try pa.free(p, order: 2)
        let e2 = try #require(pa.logEntry(s0 + 2))
        #expect(e2.kind == OpKind.free.rawValue && e2.address == p.raw && e2.order == 2)
        #expect(throws: KmemError.self) { try pa.free(p, order: 2) }
        let e3 = try #require(pa.logEntry(s0 + 3))
        #expect(e3.status == OpStatus.misuse.rawValue, "misuse is logged too")
        #expect(try pa.allocateFrame(0x900))
        #expect(pa.logEntry(s0 + 4)?.kind == OpKind.allocateFrame.rawValue)
        #expect(try pa.reserveRange(start: 0x901, count: 3))
        #expect(pa.logEntry(s0 + 5)?.size == 3)
        #expect(pa.state.pointee.sequence == s0 + 5)
        // FrameMeta remembers the operation that last changed a frame
        #expect(pa.meta(0x902).pointee.lastSeq == s0 + 5)
    }

    @Test func heapOperationsNestPageOperations() throws {
        let a = try HostArena()
        let pa = a.allocator
        let s0 = pa.state.pointee.sequence
        let obj = try pa.kmalloc(size: 100)
        // kmalloc (s0+1) grew its cache with a page allocation (s0+2) run inside it
        let k = try #require(pa.logEntry(s0 + 1))
        let page = try #require(pa.logEntry(s0 + 2))
        #expect(k.kind == OpKind.heapAllocate.rawValue && k.size == 100 && k.result == obj)
        #expect(page.kind == OpKind.allocate.rawValue && page.parent == s0 + 1)
        #expect(page.owner == Kmem.slabOwnerBase + 3)
        try pa.kfree(obj)
        // the empty slab went back: kfree (s0+3) and the page free inside it (s0+4)
        #expect(pa.logEntry(s0 + 3)?.kind == OpKind.heapFree.rawValue)
        #expect(pa.logEntry(s0 + 4)?.kind == OpKind.free.rawValue && pa.logEntry(s0 + 4)?.parent == s0 + 3)
    }

    @Test func theRingWrapsAndOldEntriesAreGone() throws {
        let a = try HostArena(opLogCapacity: 16)
        let pa = a.allocator
        for _ in 0..<40 { _ = try pa.allocate(AllocationRequest(order: 0)) }
        let s = pa.state.pointee.sequence
        #expect(pa.logEntry(s)?.sequence == s)
        #expect(pa.logEntry(s - 15) != nil)
        #expect(pa.logEntry(s - 16) == nil, "overwritten by the ring")
    }
}
