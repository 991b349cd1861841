/// The field table of every structure whose layout `kmem_info` publishes (``PublishedLayout``):
/// one line per published field, in the order the descriptor writes them, each naming the
/// section it is written in. Adding a field to the descriptor is adding its line here; the host
/// tests (Tests/KernelMMTests/PublishedLayoutTests.swift, Tests/KernelLayoutsTests/
/// PublishedLayoutDWARFTests.swift) then require the toolkit's `DescriptorFields.layouts` and
/// the kernel ELF's DWARF to agree with it.

extension FrameMeta: PublishedLayout {
    public static var publishedName: StaticString { "FrameMeta" }
    public static func publishedFields(of p: UnsafeMutablePointer<FrameMeta>,
                                       _ field: (StaticString, LayoutSection, UnsafeMutableRawPointer) -> Void) {
        field("next", .allocator, &p.pointee.next)
        field("prev", .allocator, &p.pointee.prev)
        field("flags", .allocator, &p.pointee.flags)
        field("order", .allocator, &p.pointee.order)
        field("migratetype", .allocator, &p.pointee.migratetype)
        field("zone", .allocator, &p.pointee.zone)
        field("refcount", .allocator, &p.pointee.refcount)
        field("segment", .allocator, &p.pointee.segment)
        field("owner", .allocator, &p.pointee.owner)
        field("lastSeq", .allocator, &p.pointee.lastSeq)
        field("slabFree", .allocator, &p.pointee.slabFree)
        field("slabInfo", .allocator, &p.pointee.slabInfo)
    }
}

extension Zone: PublishedLayout {
    public static var publishedName: StaticString { "Zone" }
    public static func publishedFields(of p: UnsafeMutablePointer<Zone>,
                                       _ field: (StaticString, LayoutSection, UnsafeMutableRawPointer) -> Void) {
        field("kind", .allocator, &p.pointee.kind)
        field("segmentCount", .allocator, &p.pointee.segmentCount)
        field("firstSegment", .allocator, &p.pointee.firstSegment)
        field("startPFN", .allocator, &p.pointee.startPFN)
        field("endPFN", .allocator, &p.pointee.endPFN)
        field("spannedPages", .allocator, &p.pointee.spannedPages)
        field("presentPages", .allocator, &p.pointee.presentPages)
        field("managedPages", .allocator, &p.pointee.managedPages)
        field("bootReservedPages", .allocator, &p.pointee.bootReservedPages)
        field("reservedPages", .allocator, &p.pointee.reservedPages)
        field("freePages", .allocator, &p.pointee.freePages)
        field("allocatedPages", .allocator, &p.pointee.allocatedPages)
        field("watermarkMin", .allocator, &p.pointee.watermarkMin)
        field("watermarkLow", .allocator, &p.pointee.watermarkLow)
        field("watermarkHigh", .allocator, &p.pointee.watermarkHigh)
        field("lowmemReserve", .allocator, &p.pointee.lowmemReserve)
        field("lock", .zoneLocks, &p.pointee.lock)
    }
}

extension PerCPUPages: PublishedLayout {
    public static var publishedName: StaticString { "PerCPUPages" }
    public static func publishedFields(of p: UnsafeMutablePointer<PerCPUPages>,
                                       _ field: (StaticString, LayoutSection, UnsafeMutableRawPointer) -> Void) {
        field("count", .allocator, &p.pointee.count)
        field("high", .allocator, &p.pointee.high)
        field("batch", .allocator, &p.pointee.batch)
        field("heads", .allocator, &p.pointee.heads)
        field("counts", .allocator, &p.pointee.counts)
        field("tails", .allocator, &p.pointee.tails)
        field("drainCursor", .allocator, &p.pointee.drainCursor)
        field("lock", .perCPULocks, &p.pointee.lock)
    }
}

extension Segment: PublishedLayout {
    public static var publishedName: StaticString { "Segment" }
    public static func publishedFields(of p: UnsafeMutablePointer<Segment>,
                                       _ field: (StaticString, LayoutSection, UnsafeMutableRawPointer) -> Void) {
        field("startPFN", .allocator, &p.pointee.startPFN)
        field("endPFN", .allocator, &p.pointee.endPFN)
        field("zone", .allocator, &p.pointee.zone)
        field("index", .allocator, &p.pointee.index)
        field("freePages", .allocator, &p.pointee.freePages)
        field("reservedPages", .allocator, &p.pointee.reservedPages)
        field("freeHeads", .allocator, &p.pointee.freeHeads)
        field("freeCounts", .allocator, &p.pointee.freeCounts)
        field("parityBitmaps", .allocator, &p.pointee.parityBitmaps)
        field("allocBitmap", .allocator, &p.pointee.allocBitmap)
        field("pageblockTags", .allocator, &p.pointee.pageblockTags)
        field("firstPageblock", .allocator, &p.pointee.firstPageblock)
        field("pageblockCount", .allocator, &p.pointee.pageblockCount)
    }
}

extension KmemState: PublishedLayout {
    public static var publishedName: StaticString { "KmemState" }
    public static func publishedFields(of p: UnsafeMutablePointer<KmemState>,
                                       _ field: (StaticString, LayoutSection, UnsafeMutableRawPointer) -> Void) {
        field("magic", .allocator, &p.pointee.magic)
        field("sequence", .allocator, &p.pointee.sequence)
        field("directMapOffset", .allocator, &p.pointee.directMapOffset)
        field("frameMeta", .allocator, &p.pointee.frameMeta)
        field("frameCount", .allocator, &p.pointee.frameCount)
        field("zones", .allocator, &p.pointee.zones)
        field("segments", .allocator, &p.pointee.segments)
        field("segmentCount", .allocator, &p.pointee.segmentCount)
        field("opLog", .allocator, &p.pointee.opLog)
        field("opLogCapacity", .allocator, &p.pointee.opLogCapacity)
        field("heap", .allocator, &p.pointee.heap)
        field("parentSequence", .allocator, &p.pointee.parentSequence)
        field("busy", .allocator, &p.pointee.busy)
        field("cpuOperations", .cpuOperations, &p.pointee.cpuOperations)
    }
}

extension HeapState: PublishedLayout {
    public static var publishedName: StaticString { "HeapState" }
    public static func publishedFields(of p: UnsafeMutablePointer<HeapState>,
                                       _ field: (StaticString, LayoutSection, UnsafeMutableRawPointer) -> Void) {
        field("cacheCount", .allocator, &p.pointee.cacheCount)
        field("largeAllocations", .allocator, &p.pointee.largeAllocations)
        field("largePages", .allocator, &p.pointee.largePages)
        field("caches", .allocator, &p.pointee.caches)
        field("lock", .cpuOperations, &p.pointee.lock)
    }
}

extension SlabCache: PublishedLayout {
    public static var publishedName: StaticString { "SlabCache" }
    public static func publishedFields(of p: UnsafeMutablePointer<SlabCache>,
                                       _ field: (StaticString, LayoutSection, UnsafeMutableRawPointer) -> Void) {
        field("objectSize", .allocator, &p.pointee.objectSize)
        field("objectsPerSlab", .allocator, &p.pointee.objectsPerSlab)
        field("partialHead", .allocator, &p.pointee.partialHead)
        field("fullHead", .allocator, &p.pointee.fullHead)
        field("partialSlabs", .allocator, &p.pointee.partialSlabs)
        field("fullSlabs", .allocator, &p.pointee.fullSlabs)
        field("inUse", .allocator, &p.pointee.inUse)
        field("allocations", .allocator, &p.pointee.allocations)
        field("frees", .allocator, &p.pointee.frees)
    }
}

extension OpLogEntry: PublishedLayout {
    public static var publishedName: StaticString { "OpLogEntry" }
    public static func publishedFields(of p: UnsafeMutablePointer<OpLogEntry>,
                                       _ field: (StaticString, LayoutSection, UnsafeMutableRawPointer) -> Void) {
        field("sequence", .allocator, &p.pointee.sequence)
        field("kind", .allocator, &p.pointee.kind)
        field("order", .allocator, &p.pointee.order)
        field("migratetype", .allocator, &p.pointee.migratetype)
        field("zone", .allocator, &p.pointee.zone)
        field("status", .allocator, &p.pointee.status)
        field("flags", .allocator, &p.pointee.flags)
        field("cpu", .perCPU, &p.pointee.cpu)
        field("alignment", .allocator, &p.pointee.alignment)
        field("size", .allocator, &p.pointee.size)
        field("address", .allocator, &p.pointee.address)
        field("result", .allocator, &p.pointee.result)
        field("owner", .allocator, &p.pointee.owner)
        field("parent", .allocator, &p.pointee.parent)
    }
}

extension TicketLockWord: PublishedLayout {
    public static var publishedName: StaticString { "TicketLockWord" }
    public static var sizeSection: LayoutSection { .zoneLocks }
    public static func publishedFields(of p: UnsafeMutablePointer<TicketLockWord>,
                                       _ field: (StaticString, LayoutSection, UnsafeMutableRawPointer) -> Void) {
        field("next", .zoneLocks, &p.pointee.next)
        field("owner", .zoneLocks, &p.pointee.owner)
    }
}

extension BugRecord: PublishedLayout {
    public static var publishedName: StaticString { "BugRecord" }
    public static var sizeSection: LayoutSection { .bugRecord }
    public static func publishedFields(of p: UnsafeMutablePointer<BugRecord>,
                                       _ field: (StaticString, LayoutSection, UnsafeMutableRawPointer) -> Void) {
        field("magic", .bugRecord, &p.pointee.magic)
        field("kind", .bugRecord, &p.pointee.kind)
        field("code", .bugRecord, &p.pointee.code)
        field("pfn", .bugRecord, &p.pointee.pfn)
        field("sequence", .bugRecord, &p.pointee.sequence)
        field("busy", .bugRecord, &p.pointee.busy)
        field("rip", .bugRecord, &p.pointee.rip)
        field("detail", .bugRecord, &p.pointee.detail)
        field("detail2", .bugRecord, &p.pointee.detail2)
        field("textLength", .bugRecord, &p.pointee.textLength)
        field("text", .bugRecord, &p.pointee.text)
    }
}

extension CPUOperation: PublishedLayout {
    public static var publishedName: StaticString { "CPUOperation" }
    public static var sizeSection: LayoutSection { .cpuOperations }
    public static func publishedFields(of p: UnsafeMutablePointer<CPUOperation>,
                                       _ field: (StaticString, LayoutSection, UnsafeMutableRawPointer) -> Void) {
        field("busy", .cpuOperations, &p.pointee.busy)
        field("parentSequence", .cpuOperations, &p.pointee.parentSequence)
    }
}
