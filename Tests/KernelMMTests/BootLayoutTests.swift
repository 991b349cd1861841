import KernelHarness
import Testing
@testable import KernelMM

@Suite("Boot layout over a memory map with holes")
struct BootLayoutTests {
    @Test func segmentsAvoidHolesReservationsAndZoneLimits() throws {
        let a = try HostArena()
        let pa = a.allocator
        #expect(pa.segmentCount == 5)
        var segs: [(UInt64, UInt64, UInt32)] = []
        for i in 0..<pa.segmentCount {
            let s = pa.segment(i).pointee
            segs.append((s.startPFN, s.endPFN, s.zone))
        }
        // DMA starts after the kernel image (first MiB and image reserved).
        #expect(segs[0].0 == 0x140 && segs[0].1 == 0x400 && segs[0].2 == 0)
        // DMA32 is split by the hole at [6M, 6.5M).
        #expect(segs[1].0 == 0x400 && segs[1].1 == 0x600 && segs[1].2 == 1)
        #expect(segs[2].0 == 0x680 && segs[2].1 == 0xC00 && segs[2].2 == 1)
        // Normal is split by the reserved range at [14M, 15M).
        #expect(segs[3].0 == 0xC00 && segs[3].1 == 0xE00 && segs[3].2 == 2)
        // The allocator's own metadata is carved top-down from the top of Normal (memblock),
        // and what the bump allocator did not use went back to the segment below it.
        #expect(segs[4].0 == 0xF00 && segs[4].2 == 2)
        #expect(segs[4].1 == pa.state.pointee.bootMemStart >> 12)
        #expect(pa.state.pointee.bootMemEnd == 0x1800 << 12)
        let state = UInt64(UInt(bitPattern: pa.state)) - pa.state.pointee.directMapOffset
        #expect(state >= pa.state.pointee.bootMemStart && state < pa.state.pointee.bootMemEnd)
        #expect(a.check().passed, "\(a.check().text)")
    }

    @Test func zoneAccounting() throws {
        let a = try HostArena()
        let pa = a.allocator
        let dma = pa.zone(0).pointee, dma32 = pa.zone(1).pointee, normal = pa.zone(2).pointee
        // present = usable RAM pages in the zone by the map
        #expect(dma.presentPages == 0x9F + (0x400 - 0x100))
        #expect(dma32.presentPages == (0x600 - 0x400) + (0xC00 - 0x680))
        #expect(normal.presentPages == (0xE00 - 0xC00) + (0x1800 - 0xF00))
        #expect(dma.spannedPages == 0x400 && normal.spannedPages == 0x1800 - 0xC00)
        for z in [dma, dma32, normal] {
            #expect(z.presentPages == z.managedPages + z.bootReservedPages)
            #expect(z.freePages == z.managedPages)
            #expect(z.watermarkMin > 0 && z.watermarkMin <= z.watermarkLow && z.watermarkLow <= z.watermarkHigh)
        }
        // lowmem reserve: lower zones keep pages back from requests that could go higher
        #expect(dma.lowmemReserve[0] == 0 && dma.lowmemReserve[1] == dma32.managedPages / 256)
        #expect(dma.lowmemReserve[2] == (dma32.managedPages + normal.managedPages) / 256)
        #expect(dma32.lowmemReserve[2] == normal.managedPages / 256)
    }

    @Test func frameMetaDescribesEveryFrame() throws {
        let a = try HostArena()
        let pa = a.allocator
        #expect(pa.frameCount == 0x1800)
        // the hole is not RAM: no zone, no state
        #expect(pa.meta(0x600).pointee.flags == 0 && pa.meta(0x600).pointee.zone == 0xFF)
        // the kernel image is reserved and tagged KERNEL
        let k = pa.meta(0x100).pointee.state
        #expect(k.contains(.reserved) && k.contains(.kernel))
        #expect(pa.meta(0x100).pointee.owner == BootOwner.kernelImage)
        // the first MiB is reserved firmware memory
        #expect(pa.meta(0x10).pointee.state == .reserved && pa.meta(0x10).pointee.owner == BootOwner.firmware)
        // metadata pages are reserved boot memory
        let boot = PFN(pa.state.pointee.bootMemStart >> 12)
        #expect(pa.meta(boot).pointee.owner == BootOwner.bootMemory)
        // managed frames are free, in their segment
        #expect(pa.meta(0x400).pointee.state.contains([.free, .head]))
        #expect(pa.meta(0x401).pointee.state == .free)
        #expect(pa.meta(0x401).pointee.segment == 1)
    }

    @Test func buddyinfoWalksTheLists() throws {
        let a = try HostArena()
        let lines = a.buddyinfo.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines[0].hasPrefix("Node 0, zone      DMA "))
        for (z, line) in lines.enumerated() {
            let counts = line.split(separator: " ").dropFirst(4).map { UInt64($0)! }
            #expect(counts.count == 12)
            let pages = counts.enumerated().reduce(UInt64(0)) { $0 + $1.element << UInt64($1.offset) }
            #expect(pages == a.free(zone: z))
        }
    }

    @Test func bootFailsClearlyWithoutRAM() throws {
        #expect(throws: KmemError.self) {
            _ = try HostArena(map: ArenaMap(regions: [MemoryRegion(base: 0, length: 0x9F000, type: 2)]))
        }
        do {
            _ = try HostArena(map: ArenaMap(regions: [MemoryRegion(base: 0x100000, length: 0x40000, type: 1)]))
            Issue.record("boot must fail when reservations cover all RAM")
        } catch {
            #expect(error.summary.description == "no RAM left after boot reservations")
        }
    }
}

/// A memory map of very many small ranges boots: the largest ranges become segments (as
/// many as the allocator has room for), the rest stay unmanaged.
@Suite("Boot over many small ranges")
struct ManyRangesBootTests {
    @Test func mapOfThreeHundredRangesBoots() throws {
        // 300 usable ranges of 48 KiB with 16 KiB holes above 1 MiB, one larger at the top.
        var regions: [MemoryRegion] = [MemoryRegion(base: 0, length: 0x9F000, type: 1)]
        var base: UInt64 = 0x100000
        for i in 0..<300 {
            regions.append(MemoryRegion(base: base, length: i == 299 ? 0x600000 : 0xC000, type: 1))
            base += 0x10000
        }
        let a = try HostArena(map: ArenaMap(regions: regions, bytes: 32 << 20))
        let pa = a.allocator
        #expect(pa.segmentCount == Kmem.segmentCapacity)
        #expect(a.check().passed, "\(a.check().text)")
        // some small range was left out and is tagged so
        let unmanaged = (0x100..<(base >> 12)).contains { pa.meta(PFN($0)).pointee.owner == BootOwner.unmanaged }
        #expect(unmanaged)
        let p = try #require(try pa.allocate(AllocationRequest(order: 0)))
        try pa.free(p, order: 0)
    }
}

/// Metadata that no single usable range can hold boots: the FrameMeta array is carved alone
/// and the rest from another range (kernel/README.md, Boot step 2).
@Suite("Boot metadata over two ranges")
struct SplitMetadataBootTests {
    @Test func frameMetaAndTheRestTakeTwoRanges() throws {
        // 640 KiB usable ranges with 64 KiB holes from 2 MiB to 32 MiB: the FrameMeta array
        // (8192 frames, 512 KiB) fits in one, the rest (log, segments, bitmaps) in another,
        // both together in none.
        var regions: [MemoryRegion] = [MemoryRegion(base: 0, length: 0x9F000, type: 1),
                                       MemoryRegion(base: 0x100000, length: 0x60000, type: 1)]
        var base: UInt64 = 0x200000
        while base + 0xA0000 <= 32 << 20 {
            regions.append(MemoryRegion(base: base, length: 0xA0000, type: 1))
            base += 0xB0000
        }
        let a = try HostArena(map: ArenaMap(regions: regions, bytes: 32 << 20))
        let pa = a.allocator
        #expect(a.check().passed, "\(a.check().text)")
        let st = pa.state.pointee
        let metaStart = PhysicalAddress(st.frameMeta - st.directMapOffset).pfn
        let metaEnd = metaStart &+ (pa.frameCount * 64 + 4095) / 4096
        let bootStart = PhysicalAddress(st.bootMemStart).pfn, bootEnd = PhysicalAddress(st.bootMemEnd).pfn
        #expect(metaEnd <= bootStart || metaStart >= bootEnd, "the array lies outside the other carve")
        // The two carves are in different usable ranges.
        let rangeOf = { (p: PFN) in regions.firstIndex { $0.type == 1 && p.address.raw >= $0.base && p.address.raw < $0.base + $0.length } }
        #expect(rangeOf(metaStart) != rangeOf(bootStart))
        for p in metaStart..<metaEnd { #expect(pa.meta(p).pointee.owner == BootOwner.bootMemory && pa.meta(p).pointee.state == .reserved) }
        for p in bootStart..<bootEnd { #expect(pa.meta(p).pointee.owner == BootOwner.bootMemory) }
        // Nothing else is lost: every other usable frame above the kernel is managed.
        let p = try #require(try pa.allocate(AllocationRequest(order: 3)))
        try pa.free(p, order: 3)
        #expect(a.check().passed, "\(a.check().text)")
    }
}
