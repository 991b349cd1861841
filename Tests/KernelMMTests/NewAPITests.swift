import KernelHarness
import Testing
@testable import KernelMM

/// Reference counts, count-based allocation and unreserve (kernel/README.md, Rules).
@Suite("get/put, allocateCount/freeCount, unreserve")
struct NewAPITests {
    @Test func sharedBlockIsFreedByTheLastPut() throws {
        let a = try HostArena()
        let pa = a.allocator
        let free0 = pa.zone(2).pointee.freePages
        let p = try #require(try pa.allocate(AllocationRequest(order: 2)))
        #expect(try pa.get(p) == 2)
        #expect(try pa.get(p) == 3)
        #expect(a.check().passed, "\(a.check().text)")
        #expect(throws: KmemError.badRefcount(pfn: p, refcount: 3)) { try pa.free(p, order: 2) }
        #expect(try pa.put(p) == 2)
        #expect(try pa.put(p) == 1)
        #expect(pa.meta(p).pointee.state.contains(.allocated))
        #expect(try pa.put(p) == 0)
        #expect(pa.meta(p).pointee.state.contains(.free))
        #expect(pa.zone(2).pointee.freePages == free0)
        #expect(throws: KmemError.notReferenceable(pfn: p, flags: pa.meta(p).pointee.flags)) { try pa.put(p) }
        #expect(a.check().passed, "\(a.check().text)")
    }

    @Test(arguments: [1, 3, 5, 12, 100, 513, 1024] as [UInt64])
    func countAllocationKeepsCountAndGivesTheTailBack(count: UInt64) throws {
        let a = try HostArena()
        let pa = a.allocator
        let before = (0..<3).map { pa.zone($0).pointee.freePages + pa.perCPUCount(zone: $0) }
        guard let p = try pa.allocateCount(count, migratetype: .movable) else {
            Issue.record("no room for \(count) frames"); return
        }
        let zone = a.zoneOf(p)
        let after = pa.zone(zone).pointee.freePages + pa.perCPUCount(zone: zone)
        #expect(before[zone] - after == count, "exactly count frames left the free lists")
        for f in p..<(p + count) { #expect(pa.meta(f).pointee.state.contains(.allocated)) }
        #expect(a.check().passed, "\(a.check().text)")
        try pa.freeCount(p, count: count)
        let back = pa.zone(zone).pointee.freePages + pa.perCPUCount(zone: zone)
        #expect(back == before[zone])
        #expect(a.check().passed, "\(a.check().text)")
    }

    @Test func freeCountMustMatchTheAllocation() throws {
        let a = try HostArena()
        let pa = a.allocator
        let p = try #require(try pa.allocateCount(5))
        #expect(throws: KmemError.countMismatch(pfn: p + 4, count: 6)) { try pa.freeCount(p, count: 6) }
        #expect(throws: KmemError.invalidCount(count: 0)) { try pa.freeCount(p, count: 0) }
        #expect(throws: KmemError.invalidCount(count: 4096)) { _ = try pa.allocateCount(4096) }
        try pa.freeCount(p, count: 5)
    }

    @Test func unreserveGivesFramesBack() throws {
        let a = try HostArena()
        let pa = a.allocator
        let free0 = pa.zone(1).pointee.freePages
        #expect(try pa.reserveRange(start: 0x700, count: 4))
        #expect(throws: KmemError.notReserved(pfn: 0x704, flags: pa.meta(0x704).pointee.flags)) {
            try pa.unreserve(start: 0x700, count: 5)
        }
        try pa.unreserve(start: 0x700, count: 4)
        #expect(pa.zone(1).pointee.freePages == free0 && pa.zone(1).pointee.reservedPages == 0)
        #expect(a.check().passed, "\(a.check().text)")
    }
}

/// Memory hot-add: RAM held back at boot becomes new segments, in PFN order.
@Suite("addMemory (hot-add)")
struct HotAddTests {
    /// The default arena with [8M, 10M) of DMA32 held back.
    func arena(poison: Bool = false) throws -> HostArena {
        try HostArena(poison: poison, heldBack: PhysRange(start: 0x800000, end: 0xA00000))
    }

    @Test func heldBackRAMIsAddedAsASegmentInOrder() throws {
        let a = try arena()
        let pa = a.allocator
        #expect(pa.segmentCount == 6)   // the held range splits DMA32's [0x680, 0xC00)
        #expect(pa.segmentIndex(containing: 0x900) == nil)
        let present = pa.zone(1).pointee.presentPages, managed = pa.zone(1).pointee.managedPages
        let p = try #require(try pa.allocate(AllocationRequest(order: 1)))   // state to keep across the move
        #expect(try pa.addMemory(start: 0x800, count: 0x200) == 1)
        #expect(pa.segmentCount == 7)
        let s = try #require(pa.segmentIndex(containing: 0x900))
        #expect(pa.segment(s).pointee.startPFN == 0x800 && pa.segment(s).pointee.zone == 1)
        for i in 1..<pa.segmentCount { #expect(pa.segment(i - 1).pointee.startPFN < pa.segment(i).pointee.startPFN) }
        #expect(pa.zone(1).pointee.presentPages == present + 0x200)
        #expect(pa.zone(1).pointee.managedPages > managed + 0x1F0)
        #expect(a.check().passed, "\(a.check().text)")
        try pa.free(p, order: 1)
        // the new frames are allocatable
        #expect(try pa.allocateFrame(0x900))
        #expect(a.check().passed, "\(a.check().text)")
    }

    @Test func addingMemoryTheAllocatorHasIsMisuse() throws {
        let a = try arena()
        let pa = a.allocator
        #expect(throws: KmemError.memoryOverlap(pfn: 0x700)) { try pa.addMemory(start: 0x700, count: 0x200) }
        #expect(throws: KmemError.outsideManagedMemory(pfn: 0x600)) { try pa.addMemory(start: 0x600, count: 0x10) }  // a hole
        #expect(throws: KmemError.outsideManagedMemory(pfn: 0x1800)) { try pa.addMemory(start: 0x1800, count: 0x10) }
        #expect(throws: KmemError.invalidRange(start: 0x800, count: 0)) { try pa.addMemory(start: 0x800, count: 0) }
        try pa.addMemory(start: 0x800, count: 0x200)
        #expect(throws: KmemError.memoryOverlap(pfn: 0x800)) { try pa.addMemory(start: 0x800, count: 0x200) }
        #expect(a.check().passed, "\(a.check().text)")
    }
}
