import Foundation
import KernelLayouts
import KernelMM
import Testing

/// The real kernel image: its allocator structures as DWARF describes them must be the ones
/// the host build of the same sources (KernelMM) lays out, and its symbols must resolve.
@Suite struct RealKernelTests {
    func image() throws -> KernelImage { try KernelImage(path: RealKernel.path()) }

    /// Checks one struct: DWARF's member names in order, size, alignment and every offset
    /// against `MemoryLayout` on the host.
    func check<T>(_ name: String, _ type: T.Type, _ members: KeyValuePairs<String, PartialKeyPath<T>>) throws {
        let layout = try image().structLayout(named: name)
        #expect(layout.qualifiedName == "Kernel." + name)
        #expect(layout.size == UInt64(MemoryLayout<T>.size), "\(name) size")
        #expect(layout.alignment == UInt64(MemoryLayout<T>.alignment), "\(name) alignment")
        #expect(layout.stride == UInt64(MemoryLayout<T>.stride), "\(name) stride")
        #expect(layout.members.map(\.name) == members.map(\.key), "\(name) members")
        for (member, keyPath) in members {
            let expected = try #require(MemoryLayout<T>.offset(of: keyPath))
            #expect(try layout.offset(of: member) == UInt64(expected), "\(name).\(member)")
        }
    }

    @Test func frameMetaMatchesTheHostBuild() throws {
        try check("FrameMeta", FrameMeta.self, [
            "next": \.next, "prev": \.prev, "flags": \.flags, "order": \.order, "migratetype": \.migratetype,
            "zone": \.zone, "_pad0": \._pad0, "refcount": \.refcount, "segment": \.segment, "_pad1": \._pad1,
            "owner": \.owner, "lastSeq": \.lastSeq, "slabFree": \.slabFree, "slabInfo": \.slabInfo,
        ])
        #expect(try image().structLayout(named: "FrameMeta").size == 64)  // the design's 64-byte record
    }

    @Test func zoneMatchesTheHostBuild() throws {
        try check("Zone", Zone.self, [
            "kind": \.kind, "segmentCount": \.segmentCount, "firstSegment": \.firstSegment, "startPFN": \.startPFN,
            "endPFN": \.endPFN, "spannedPages": \.spannedPages, "presentPages": \.presentPages,
            "managedPages": \.managedPages, "bootReservedPages": \.bootReservedPages, "reservedPages": \.reservedPages,
            "freePages": \.freePages, "allocatedPages": \.allocatedPages, "watermarkMin": \.watermarkMin,
            "watermarkLow": \.watermarkLow, "watermarkHigh": \.watermarkHigh, "lowmemReserve": \.lowmemReserve,
            "lock": \.lock,
        ])
        let zone = try image().structLayout(named: "Zone")
        #expect(try zone.offset(of: "lock.owner") == UInt64(MemoryLayout<Zone>.offset(of: \.lock.owner)!))
        #expect(try zone.member("lowmemReserve").array?.count == 3)
    }

    @Test func segmentMatchesTheHostBuild() throws {
        try check("Segment", Segment.self, [
            "startPFN": \.startPFN, "endPFN": \.endPFN, "zone": \.zone, "index": \.index, "freePages": \.freePages,
            "reservedPages": \.reservedPages, "freeHeads": \.freeHeads, "freeCounts": \.freeCounts,
            "parityBitmaps": \.parityBitmaps, "allocBitmap": \.allocBitmap, "pageblockTags": \.pageblockTags,
            "firstPageblock": \.firstPageblock, "pageblockCount": \.pageblockCount,
        ])
        let segment = try image().structLayout(named: "Segment")
        #expect(try segment.member("freeHeads").array?.count == UInt64(MemoryLayout<Segment>.size > 0 ? 48 : 0))
    }

    @Test func perCPUPagesAndKmemStateMatchTheHostBuild() throws {  // check-tests: asserts in check
        try check("PerCPUPages", PerCPUPages.self, [
            "count": \.count, "high": \.high, "batch": \.batch, "heads": \.heads, "counts": \.counts,
            "tails": \.tails, "drainCursor": \.drainCursor, "lock": \.lock,
        ])
        try check("KmemState", KmemState.self, [
            "magic": \.magic, "sequence": \.sequence, "directMapOffset": \.directMapOffset, "frameMeta": \.frameMeta,
            "frameCount": \.frameCount, "zones": \.zones, "segments": \.segments, "segmentCount": \.segmentCount,
            "dma32StartPFN": \.dma32StartPFN, "normalStartPFN": \.normalStartPFN, "bootMemStart": \.bootMemStart,
            "bootMemEnd": \.bootMemEnd, "options": \.options, "kernelStart": \.kernelStart, "kernelEnd": \.kernelEnd,
            "opLog": \.opLog, "opLogCapacity": \.opLogCapacity, "parentSequence": \.parentSequence, "heap": \.heap, "busy": \.busy,
            "perCPUPages": \.perCPUPages, "cpuOperations": \.cpuOperations,
        ])
        try check("CPUOperation", CPUOperation.self, [
            "busy": \.busy, "parentSequence": \.parentSequence, "_pad0": \._pad0, "_pad1": \._pad1, "_pad2": \._pad2,
            "_pad3": \._pad3, "_pad4": \._pad4, "_pad5": \._pad5,
        ])
    }

    @Test func heapAndLogStructuresMatchTheHostBuild() throws {  // check-tests: asserts in check
        try check("SlabCache", SlabCache.self, [
            "objectSize": \.objectSize, "objectsPerSlab": \.objectsPerSlab, "partialHead": \.partialHead,
            "fullHead": \.fullHead, "partialSlabs": \.partialSlabs, "fullSlabs": \.fullSlabs, "inUse": \.inUse,
            "allocations": \.allocations, "frees": \.frees,
        ])
        try check("HeapState", HeapState.self, [
            "cacheCount": \.cacheCount, "largeAllocations": \.largeAllocations, "largePages": \.largePages, "caches": \.caches,
            "lock": \.lock,
        ])
        try check("OpLogEntry", OpLogEntry.self, [
            "sequence": \.sequence, "kind": \.kind, "order": \.order, "migratetype": \.migratetype, "zone": \.zone,
            "status": \.status, "flags": \.flags, "cpu": \.cpu, "_pad": \._pad, "alignment": \.alignment, "size": \.size,
            "address": \.address, "result": \.result, "owner": \.owner, "parent": \.parent,
        ])
    }

    @Test func theVariantKernelWithTwoFieldsSwappedHasTheNewOffsets() throws {
        let variant = try DwarfTypes(path: RealKernel.variant.get()).structLayout(named: "FrameMeta")
        let (a, b) = RealKernel.swapped
        #expect(variant.members.map(\.name).firstIndex(of: b)! < variant.members.map(\.name).firstIndex(of: a)!)
        // Both are one byte: they trade places, everything else stays.
        let host: [String: Int] = [
            "migratetype": MemoryLayout<FrameMeta>.offset(of: \.migratetype)!,
            "zone": MemoryLayout<FrameMeta>.offset(of: \.zone)!,
            "owner": MemoryLayout<FrameMeta>.offset(of: \.owner)!,
        ]
        #expect(try variant.offset(of: a) == UInt64(host[b]!))
        #expect(try variant.offset(of: b) == UInt64(host[a]!))
        #expect(try variant.offset(of: "owner") == UInt64(host["owner"]!))
        #expect(variant.size == UInt64(MemoryLayout<FrameMeta>.size))
    }

    @Test func globalsAreFoundByMangledDemangledAndAddress() throws {
        let image = try image()
        let state = try image.symbol("Kernel.kmemStateAddress")
        #expect(state.kind == .object && state.size == 8)
        #expect(try image.symbol(state.name) == state)
        #expect(try image.symbol("kmemStateAddress") == state)
        #expect(try image.types().globalVariable(named: "Kernel.kmemStateAddress").address == state.address)
        let at = try image.symbolicate(state.address.advanced(by: 3))
        #expect(at.symbol == state && at.offset == 3)
        // Loaded at KERNEL_PHYS, linked at KERNEL_VMA + KERNEL_PHYS: the linker script's own symbols.
        let vma = try image.symbol("KERNEL_VMA").address.rawValue
        let phys = try image.symbol("KERNEL_PHYS").address.rawValue
        #expect(image.elf.physicalAddress(of: state.address)?.rawValue == state.address.rawValue - vma)
        #expect(image.elf.loadSegments.first?.physicalAddress.rawValue == phys)
    }

    @Test func buildIDEqualsReadelf() throws {
        let path = try RealKernel.path()
        let notes = try Fixtures.run("eu-readelf", ["-n", path])
        let line = try #require(notes.split(separator: "\n").first { $0.contains("Build ID:") })
        #expect(try KernelImage(path: path).elf.buildID?.description == line.split(separator: " ").last.map(String.init))
    }

    @Test func theKernelsEnumsListTheirCases() throws {
        let kinds = try image().types().enumLayout(named: "ZoneKind")
        #expect(kinds.rawTypeName == "UInt8")
        #expect(kinds.cases.count >= 3)
        for c in kinds.cases {
            // The case with stored value n is the ZoneKind whose in-memory byte is n.
            let host = try #require(ZoneKind(rawValue: UInt8(c.storedValue)))
            #expect(unsafeBitCast(host, to: UInt8.self) == UInt8(c.storedValue))
        }
    }
}
