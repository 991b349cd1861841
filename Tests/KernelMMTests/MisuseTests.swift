import KernelHarness
import Testing
@testable import KernelMM

/// Misuse is caught, reported with the PFN, and changes nothing.
@Suite("Misuse detection")
struct MisuseTests {
    @Test func doubleFree() throws {
        let a = try HostArena()
        let p = try #require(try a.allocator.allocate(AllocationRequest(order: 3)))
        try a.allocator.free(p, order: 3)
        #expect(throws: KmemError.doubleFree(pfn: p)) { try a.allocator.free(p, order: 3) }
        // order 0: the frame sits on the per-CPU list; a second free is still a double free
        let q = try #require(try a.allocator.allocate(AllocationRequest(order: 0)))
        try a.allocator.free(q, order: 0)
        #expect(a.allocator.meta(q).pointee.state.contains(.pcp))
        #expect(throws: KmemError.doubleFree(pfn: q)) { try a.allocator.free(q, order: 0) }
        #expect(a.check().passed, "\(a.check().text)")
    }

    @Test func wrongOrder() throws {
        let a = try HostArena()
        let p = try #require(try a.allocator.allocate(AllocationRequest(order: 2)))
        #expect(throws: KmemError.wrongOrder(pfn: p, allocated: 2, freed: 1)) { try a.allocator.free(p, order: 1) }
        #expect(throws: KmemError.wrongOrder(pfn: p, allocated: 2, freed: 3)) { try a.allocator.free(p, order: 3) }
        #expect(a.check().passed, "\(a.check().text)")
        try a.allocator.free(p, order: 2)
    }

    @Test func outsideManagedMemory() throws {
        let a = try HostArena()
        for pfn: PFN in [0x600 /* hole */, 0x1800 /* past the end */, 0x10 /* firmware */, 0x100 /* kernel image */, PFN(1 << 40)] {
            #expect(throws: KmemError.outsideManagedMemory(pfn: pfn)) { try a.allocator.free(pfn, order: 0) }
        }
        #expect(throws: KmemError.outsideManagedMemory(pfn: 0x650)) { try a.allocator.allocateFrame(0x650) }
    }

    @Test func frameInsideABlock() throws {
        let a = try HostArena()
        let p = try #require(try a.allocator.allocate(AllocationRequest(order: 2)))
        #expect(throws: KmemError.notBlockHead(pfn: p + 1)) { try a.allocator.free(p + 1, order: 0) }
        #expect(a.check().passed, "\(a.check().text)")
    }

    @Test func freeOfReservedFrame() throws {
        let a = try HostArena()
        #expect(try a.allocator.reserveRange(start: 0x700, count: 4))
        #expect(throws: KmemError.freeReserved(pfn: 0x701)) { try a.allocator.free(0x701, order: 0) }
        #expect(a.check().passed, "\(a.check().text)")
    }

    @Test func slabPagesAreFreedOnlyThroughTheHeap() throws {
        let a = try HostArena()
        let o = try a.allocator.kmalloc(size: 64)
        let pfn = PFN((o - a.allocator.state.pointee.directMapOffset) >> 12)
        #expect(throws: KmemError.freeSlabPage(pfn: pfn)) { try a.allocator.free(pfn, order: 0) }
        #expect(a.check().passed, "\(a.check().text)")
    }

    @Test func neverAllocatedFrameIsADoubleFree() throws {
        let a = try HostArena()
        #expect(throws: KmemError.doubleFree(pfn: 0x900)) { try a.allocator.free(0x900, order: 0) }
    }

    @Test func errorTextNamesThePFN() {
        var s = TextCollector()
        KmemError.wrongOrder(pfn: 0x1234, allocated: 2, freed: 1).write(to: &s)
        #expect(s.text == "free with wrong order pfn 0x1234 (allocated order 2, freed as order 1)")
        s = TextCollector()
        KmemError.doubleFree(pfn: 0x99).write(to: &s)
        #expect(s.text == "double free pfn 0x99")
    }
}

extension KmemError: Equatable {
    public static func == (l: KmemError, r: KmemError) -> Bool {
        var a = TextCollector(), b = TextCollector()
        l.write(to: &a)
        r.write(to: &b)
        return a.text == b.text
    }
}
