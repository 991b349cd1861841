import KernelHarness
import Testing
@testable import KernelMM

/// The kernel's self-measured layout descriptor (the same code runs in the kernel) must
/// agree with `MemoryLayout` on the host.
@Suite("Layout descriptor")
struct LayoutDescriptorTests {
    func descriptor() throws -> [String: String] {
        let a = try HostArena()
        var s = TextCollector()
        a.allocator.writeLayoutDescriptor(to: &s)
        var d: [String: String] = [:]
        for line in s.text.split(separator: "\n") {
            let kv = line.split(separator: "=", maxSplits: 1)
            d[String(kv[0])] = String(kv[1])
        }
        return d
    }

    @Test func offsetsMatchMemoryLayout() throws {
        let d = try descriptor()
        func check<T>(_ type: T.Type, _ name: String, _ fields: [(String, PartialKeyPath<T>)]) {
            #expect(d["SIZE(\(name))"] == "\(MemoryLayout<T>.size)")
            for (f, path) in fields {
                #expect(d["OFFSET(\(name).\(f))"] == "\(MemoryLayout<T>.offset(of: path)!)", "\(name).\(f)")
            }
        }
        check(FrameMeta.self, "FrameMeta", [("next", \.next), ("prev", \.prev), ("flags", \.flags), ("order", \.order),
            ("migratetype", \.migratetype), ("zone", \.zone), ("refcount", \.refcount), ("segment", \.segment),
            ("owner", \.owner), ("lastSeq", \.lastSeq), ("slabFree", \.slabFree), ("slabInfo", \.slabInfo)])
        check(Zone.self, "Zone", [("kind", \.kind), ("segmentCount", \.segmentCount), ("firstSegment", \.firstSegment),
            ("startPFN", \.startPFN), ("endPFN", \.endPFN), ("spannedPages", \.spannedPages), ("presentPages", \.presentPages),
            ("managedPages", \.managedPages), ("bootReservedPages", \.bootReservedPages), ("reservedPages", \.reservedPages),
            ("freePages", \.freePages), ("allocatedPages", \.allocatedPages), ("watermarkMin", \.watermarkMin),
            ("watermarkLow", \.watermarkLow), ("watermarkHigh", \.watermarkHigh), ("lowmemReserve", \.lowmemReserve)])
        #expect(d["OFFSET(Zone.pcp)"] == nil, "the per-CPU caches are in their own table")
        check(PerCPUPages.self, "PerCPUPages", [("count", \.count), ("high", \.high), ("batch", \.batch), ("heads", \.heads), ("counts", \.counts)])
        check(Segment.self, "Segment", [("startPFN", \.startPFN), ("endPFN", \.endPFN), ("zone", \.zone), ("index", \.index),
            ("freePages", \.freePages), ("reservedPages", \.reservedPages), ("freeHeads", \.freeHeads), ("freeCounts", \.freeCounts),
            ("parityBitmaps", \.parityBitmaps), ("allocBitmap", \.allocBitmap), ("pageblockTags", \.pageblockTags),
            ("firstPageblock", \.firstPageblock), ("pageblockCount", \.pageblockCount)])
        check(KmemState.self, "KmemState", [("magic", \.magic), ("sequence", \.sequence), ("directMapOffset", \.directMapOffset),
            ("frameMeta", \.frameMeta), ("frameCount", \.frameCount), ("zones", \.zones), ("segments", \.segments),
            ("segmentCount", \.segmentCount), ("opLog", \.opLog), ("opLogCapacity", \.opLogCapacity), ("heap", \.heap)])
        check(HeapState.self, "HeapState", [("cacheCount", \.cacheCount), ("largeAllocations", \.largeAllocations),
            ("largePages", \.largePages), ("caches", \.caches)])
        check(SlabCache.self, "SlabCache", [("objectSize", \.objectSize), ("objectsPerSlab", \.objectsPerSlab),
            ("partialHead", \.partialHead), ("fullHead", \.fullHead), ("partialSlabs", \.partialSlabs), ("fullSlabs", \.fullSlabs),
            ("inUse", \.inUse), ("allocations", \.allocations), ("frees", \.frees)])
        check(OpLogEntry.self, "OpLogEntry", [("sequence", \.sequence), ("kind", \.kind), ("order", \.order),
            ("migratetype", \.migratetype), ("zone", \.zone), ("status", \.status), ("flags", \.flags), ("alignment", \.alignment),
            ("size", \.size), ("address", \.address), ("result", \.result), ("owner", \.owner), ("parent", \.parent)])
    }

    @Test func constantsAndAddresses() throws {
        let d = try descriptor()
        #expect(d["PAGE_SIZE"] == "4096" && d["MAX_ORDER"] == "11" && d["PAGEBLOCK_ORDER"] == "9")
        #expect(d["FLAG(head)"] == "0x400" && d["LINK_NONE"] == "0xffffffffffffffff")
        #expect(d["SEGMENT_COUNT"] == "5" && d["OPLOG_CAPACITY"] == "4096")
        #expect(d["STATE"] != nil && d["SLAB_CACHES"] != nil && d["FRAME_META"] != nil)
    }
}
