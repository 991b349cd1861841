/// The layout descriptor: what Linux's VMCOREINFO is to crash and makedumpfile. Text lines
/// `KEY=VALUE` (decimal, or `0x` hex for addresses): constants, the addresses of the
/// allocator's structures, and `SIZE(Type)` / `OFFSET(Type.field)` of every structure the
/// toolkit decodes, measured on the live structures by pointer arithmetic, so they cannot
/// drift from the code (Embedded Swift has no `MemoryLayout.offset(of:)`).
///
/// The kernel prefixes it with a binary header in its `kmem_info` symbol:
/// `magic u64 = "KMEMINFO"`, `version u32 = 1`, `size u32` (text bytes), then the text.
public enum LayoutDescriptor {
    /// `"KMEMINFO"` read as a little-endian u64.
    public static let magic: UInt64 = 0x4F46_4E49_4D45_4D4B
    /// Format version.
    public static let version: UInt32 = 1
    /// Bytes reserved for the header and text in the kernel.
    public static let capacity = 16384
}

extension PageAllocator {
    /// Writes the allocator's part of the layout descriptor.
    public func writeLayoutDescriptor<S: TextSink>(to out: inout S) {
        func num(_ key: StaticString, _ v: UInt64) { out.write(key); out.put(61); out.dec(v); out.newline() }
        func addr(_ key: StaticString, _ v: UInt64) { out.write(key); out.put(61); out.hex(v); out.newline() }
        func size(_ type: StaticString, _ v: Int) {
            out.write("SIZE("); out.write(type); out.write(")="); out.dec(UInt64(v)); out.newline()
        }
        func off(_ type: StaticString, _ field: StaticString, _ base: UnsafeMutableRawPointer, _ f: UnsafeMutableRawPointer) {
            out.write("OFFSET("); out.write(type); out.put(46); out.write(field); out.write(")=")
            out.dec(UInt64(UInt(bitPattern: f) &- UInt(bitPattern: base))); out.newline()
        }
        let s = state.pointee
        num("PAGE_SIZE", Kmem.pageSize)
        num("MAX_ORDER", UInt64(Kmem.maxOrder))
        num("PAGEBLOCK_ORDER", UInt64(Kmem.pageblockOrder))
        num("MIGRATETYPES", UInt64(Migratetype.count))
        num("MIGRATETYPE_SLOTS", UInt64(Kmem.migratetypeSlots))
        num("ZONE_COUNT", UInt64(ZoneKind.count))
        num("DMA32_START_PFN", s.dma32StartPFN)
        num("NORMAL_START_PFN", s.normalStartPFN)
        addr("DIRECT_MAP", s.directMapOffset)
        addr("STATE", UInt64(UInt(bitPattern: state)))
        addr("SEQUENCE", UInt64(UInt(bitPattern: state)) &+ 8)
        func at(_ field: UnsafeMutablePointer<UInt64>) -> UInt64 { UInt64(UInt(bitPattern: field)) }
        addr("BUSY", at(&state.pointee.busy))
        addr("ZONES", s.zones)
        addr("SEGMENTS", s.segments)
        num("SEGMENT_COUNT", s.segmentCount)
        num("SEGMENT_CAPACITY", UInt64(Kmem.segmentCapacity))
        addr("FRAME_META", s.frameMeta)
        num("FRAME_COUNT", s.frameCount)
        addr("OPLOG", s.opLog)
        num("OPLOG_CAPACITY", s.opLogCapacity)
        addr("HEAP", s.heap)
        addr("SLAB_CACHES", UInt64(UInt(bitPattern: cache(0))))
        num("SLAB_CACHE_COUNT", UInt64(Kmem.slabCacheCount))
        addr("SLAB_OWNER_BASE", Kmem.slabOwnerBase)
        addr("LARGE_HEAP_OWNER", Kmem.largeHeapOwner)
        addr("SLAB_POISON", UInt64(Kmem.slabPoison))
        addr("PAGE_POISON", UInt64(Kmem.poisonByte))
        addr("POISONING", s.options & 1)
        addr("LINK_NONE", Kmem.none)
        addr("FLAG(free)", UInt64(FrameFlags.free.rawValue))
        addr("FLAG(allocated)", UInt64(FrameFlags.allocated.rawValue))
        addr("FLAG(reserved)", UInt64(FrameFlags.reserved.rawValue))
        addr("FLAG(kernel)", UInt64(FrameFlags.kernel.rawValue))
        addr("FLAG(user)", UInt64(FrameFlags.user.rawValue))
        addr("FLAG(slab)", UInt64(FrameFlags.slab.rawValue))
        addr("FLAG(poisoned)", UInt64(FrameFlags.poisoned.rawValue))
        addr("FLAG(head)", UInt64(FrameFlags.head.rawValue))
        addr("FLAG(pcp)", UInt64(FrameFlags.pcp.rawValue))
        addr("FLAG(poison_fill)", UInt64(FrameFlags.poisonFill.rawValue))
        addr("QUARANTINE_OWNER", Kmem.quarantineOwner)

        let m = meta(PFN(0))
        let mb = UnsafeMutableRawPointer(m)
        size("FrameMeta", MemoryLayout<FrameMeta>.size)
        off("FrameMeta", "next", mb, &m.pointee.next)
        off("FrameMeta", "prev", mb, &m.pointee.prev)
        off("FrameMeta", "flags", mb, &m.pointee.flags)
        off("FrameMeta", "order", mb, &m.pointee.order)
        off("FrameMeta", "migratetype", mb, &m.pointee.migratetype)
        off("FrameMeta", "zone", mb, &m.pointee.zone)
        off("FrameMeta", "refcount", mb, &m.pointee.refcount)
        off("FrameMeta", "segment", mb, &m.pointee.segment)
        off("FrameMeta", "owner", mb, &m.pointee.owner)
        off("FrameMeta", "lastSeq", mb, &m.pointee.lastSeq)
        off("FrameMeta", "slabFree", mb, &m.pointee.slabFree)
        off("FrameMeta", "slabInfo", mb, &m.pointee.slabInfo)

        let z = zone(0)
        let zb = UnsafeMutableRawPointer(z)
        size("Zone", MemoryLayout<Zone>.size)
        off("Zone", "kind", zb, &z.pointee.kind)
        off("Zone", "segmentCount", zb, &z.pointee.segmentCount)
        off("Zone", "firstSegment", zb, &z.pointee.firstSegment)
        off("Zone", "startPFN", zb, &z.pointee.startPFN)
        off("Zone", "endPFN", zb, &z.pointee.endPFN)
        off("Zone", "spannedPages", zb, &z.pointee.spannedPages)
        off("Zone", "presentPages", zb, &z.pointee.presentPages)
        off("Zone", "managedPages", zb, &z.pointee.managedPages)
        off("Zone", "bootReservedPages", zb, &z.pointee.bootReservedPages)
        off("Zone", "reservedPages", zb, &z.pointee.reservedPages)
        off("Zone", "freePages", zb, &z.pointee.freePages)
        off("Zone", "allocatedPages", zb, &z.pointee.allocatedPages)
        off("Zone", "watermarkMin", zb, &z.pointee.watermarkMin)
        off("Zone", "watermarkLow", zb, &z.pointee.watermarkLow)
        off("Zone", "watermarkHigh", zb, &z.pointee.watermarkHigh)
        off("Zone", "lowmemReserve", zb, &z.pointee.lowmemReserve)

        do {  // CPU 0's cache of zone 0: every entry of the [cpu][zone] table has this layout
            let p = perCPU(0, cpu: 0)
            let pb = UnsafeMutableRawPointer(p)
            size("PerCPUPages", MemoryLayout<PerCPUPages>.size)
            off("PerCPUPages", "count", pb, &p.pointee.count)
            off("PerCPUPages", "high", pb, &p.pointee.high)
            off("PerCPUPages", "batch", pb, &p.pointee.batch)
            off("PerCPUPages", "heads", pb, &p.pointee.heads)
            off("PerCPUPages", "counts", pb, &p.pointee.counts)
            off("PerCPUPages", "tails", pb, &p.pointee.tails)
            off("PerCPUPages", "drainCursor", pb, &p.pointee.drainCursor)
        }

        let g = segment(0)
        let gb = UnsafeMutableRawPointer(g)
        size("Segment", MemoryLayout<Segment>.size)
        off("Segment", "startPFN", gb, &g.pointee.startPFN)
        off("Segment", "endPFN", gb, &g.pointee.endPFN)
        off("Segment", "zone", gb, &g.pointee.zone)
        off("Segment", "index", gb, &g.pointee.index)
        off("Segment", "freePages", gb, &g.pointee.freePages)
        off("Segment", "reservedPages", gb, &g.pointee.reservedPages)
        off("Segment", "freeHeads", gb, &g.pointee.freeHeads)
        off("Segment", "freeCounts", gb, &g.pointee.freeCounts)
        off("Segment", "parityBitmaps", gb, &g.pointee.parityBitmaps)
        off("Segment", "allocBitmap", gb, &g.pointee.allocBitmap)
        off("Segment", "pageblockTags", gb, &g.pointee.pageblockTags)
        off("Segment", "firstPageblock", gb, &g.pointee.firstPageblock)
        off("Segment", "pageblockCount", gb, &g.pointee.pageblockCount)

        let sb = UnsafeMutableRawPointer(state)
        size("KmemState", MemoryLayout<KmemState>.size)
        off("KmemState", "magic", sb, &state.pointee.magic)
        off("KmemState", "sequence", sb, &state.pointee.sequence)
        off("KmemState", "directMapOffset", sb, &state.pointee.directMapOffset)
        off("KmemState", "frameMeta", sb, &state.pointee.frameMeta)
        off("KmemState", "frameCount", sb, &state.pointee.frameCount)
        off("KmemState", "zones", sb, &state.pointee.zones)
        off("KmemState", "segments", sb, &state.pointee.segments)
        off("KmemState", "segmentCount", sb, &state.pointee.segmentCount)
        off("KmemState", "opLog", sb, &state.pointee.opLog)
        off("KmemState", "opLogCapacity", sb, &state.pointee.opLogCapacity)
        off("KmemState", "heap", sb, &state.pointee.heap)
        off("KmemState", "parentSequence", sb, &state.pointee.parentSequence)
        off("KmemState", "busy", sb, &state.pointee.busy)

        let h = heap
        let hb = UnsafeMutableRawPointer(h)
        size("HeapState", MemoryLayout<HeapState>.size)
        off("HeapState", "cacheCount", hb, &h.pointee.cacheCount)
        off("HeapState", "largeAllocations", hb, &h.pointee.largeAllocations)
        off("HeapState", "largePages", hb, &h.pointee.largePages)
        off("HeapState", "caches", hb, &h.pointee.caches)

        let c = cache(0)
        let cb = UnsafeMutableRawPointer(c)
        size("SlabCache", MemoryLayout<SlabCache>.size)
        off("SlabCache", "objectSize", cb, &c.pointee.objectSize)
        off("SlabCache", "objectsPerSlab", cb, &c.pointee.objectsPerSlab)
        off("SlabCache", "partialHead", cb, &c.pointee.partialHead)
        off("SlabCache", "fullHead", cb, &c.pointee.fullHead)
        off("SlabCache", "partialSlabs", cb, &c.pointee.partialSlabs)
        off("SlabCache", "fullSlabs", cb, &c.pointee.fullSlabs)
        off("SlabCache", "inUse", cb, &c.pointee.inUse)
        off("SlabCache", "allocations", cb, &c.pointee.allocations)
        off("SlabCache", "frees", cb, &c.pointee.frees)

        var e = OpLogEntry(sequence: 0, kind: 0, order: 0, migratetype: 0, zone: 0, status: 0, flags: 0, cpu: 0, _pad: 0,
                           alignment: 0, size: 0, address: 0, result: 0, owner: 0, parent: 0)
        withUnsafeMutablePointer(to: &e) { (l: UnsafeMutablePointer<OpLogEntry>) in
            let lb = UnsafeMutableRawPointer(l)
            size("OpLogEntry", MemoryLayout<OpLogEntry>.size)
            off("OpLogEntry", "sequence", lb, &l.pointee.sequence)
            off("OpLogEntry", "kind", lb, &l.pointee.kind)
            off("OpLogEntry", "order", lb, &l.pointee.order)
            off("OpLogEntry", "migratetype", lb, &l.pointee.migratetype)
            off("OpLogEntry", "zone", lb, &l.pointee.zone)
            off("OpLogEntry", "status", lb, &l.pointee.status)
            off("OpLogEntry", "flags", lb, &l.pointee.flags)
            off("OpLogEntry", "alignment", lb, &l.pointee.alignment)
            off("OpLogEntry", "size", lb, &l.pointee.size)
            off("OpLogEntry", "address", lb, &l.pointee.address)
            off("OpLogEntry", "result", lb, &l.pointee.result)
            off("OpLogEntry", "owner", lb, &l.pointee.owner)
            off("OpLogEntry", "parent", lb, &l.pointee.parent)
        }
    }
}

extension PageAllocator {
    /// Writes the zone locks' layout (kernel/README.md, "Zone locks"), after the CPU keys:
    /// `OFFSET(Zone.lock)`, `SIZE(TicketLockWord)`, `OFFSET(TicketLockWord.next|owner)`. Zone z's
    /// lock is at `ZONES + z × SIZE(Zone) + OFFSET(Zone.lock)`; it is held when `next ≠ owner`.
    public func writeZoneLockLayout<S: TextSink>(to out: inout S) {
        func off(_ type: StaticString, _ field: StaticString, _ base: UnsafeMutableRawPointer, _ f: UnsafeMutableRawPointer) {
            out.write("OFFSET("); out.write(type); out.put(46); out.write(field); out.write(")=")
            out.dec(UInt64(UInt(bitPattern: f) &- UInt(bitPattern: base))); out.newline()
        }
        let z = zone(0)
        off("Zone", "lock", UnsafeMutableRawPointer(z), &z.pointee.lock)
        let w = zoneLockWord(0)
        out.write("SIZE(TicketLockWord)="); out.dec(UInt64(MemoryLayout<TicketLockWord>.size)); out.newline()
        off("TicketLockWord", "next", UnsafeMutableRawPointer(w), &w.pointee.next)
        off("TicketLockWord", "owner", UnsafeMutableRawPointer(w), &w.pointee.owner)
    }
}

extension PageAllocator {
    /// Writes the per-CPU cache table's keys (kernel/README.md "Per-CPU caches"), after the zone
    /// locks' in the kernel: `PCP` (the table's address), `PCP_CPUS` (rows), `PCP_ZONES`
    /// (entries per row), `PCP_STRIDE` (bytes per entry) and `OFFSET(OpLogEntry.cpu)`. CPU c's
    /// cache of zone z is at `PCP + (c × PCP_ZONES + z) × PCP_STRIDE`.
    public func writePerCPULayout<S: TextSink>(to out: inout S) {
        out.write("PCP="); out.hex(state.pointee.perCPUPages); out.newline()
        out.write("PCP_CPUS="); out.dec(UInt64(Kmem.maxCPUs)); out.newline()
        out.write("PCP_ZONES="); out.dec(UInt64(ZoneKind.count)); out.newline()
        out.write("PCP_STRIDE="); out.dec(UInt64(MemoryLayout<PerCPUPages>.stride)); out.newline()
        var e = OpLogEntry(sequence: 0, kind: 0, order: 0, migratetype: 0, zone: 0, status: 0, flags: 0, cpu: 0, _pad: 0,
                           alignment: 0, size: 0, address: 0, result: 0, owner: 0, parent: 0)
        // the field's address through the pointee (as `off` above), not a temporary's
        func offset(_ base: UnsafeMutableRawPointer, _ field: UnsafeMutableRawPointer) -> UInt64 {
            UInt64(UInt(bitPattern: field) &- UInt(bitPattern: base))
        }
        withUnsafeMutablePointer(to: &e) { (l: UnsafeMutablePointer<OpLogEntry>) in
            out.write("OFFSET(OpLogEntry.cpu)="); out.dec(offset(UnsafeMutableRawPointer(l), &l.pointee.cpu)); out.newline()
        }
    }
}

extension LayoutDescriptor {
    /// Writes `SIZE(BugRecord)` and every `OFFSET(BugRecord.field)`, measured on a record, as
    /// the other layouts are (the kernel publishes them after `BUG`).
    public static func writeBugRecordLayout<S: TextSink>(to out: inout S) {
        var r = BugRecord(magic: 0, kind: 0, code: 0, pfn: 0, sequence: 0, busy: 0, rip: 0, detail: 0, detail2: 0,
                          textLength: 0, text: .init(repeating: 0))
        withUnsafeMutablePointer(to: &r) { (p: UnsafeMutablePointer<BugRecord>) in
            let base = UnsafeMutableRawPointer(p)
            func off(_ field: StaticString, _ f: UnsafeMutableRawPointer) {
                out.write("OFFSET(BugRecord."); out.write(field); out.write(")=")
                out.dec(UInt64(UInt(bitPattern: f) &- UInt(bitPattern: base))); out.newline()
            }
            out.write("SIZE(BugRecord)="); out.dec(UInt64(MemoryLayout<BugRecord>.size)); out.newline()
            off("magic", &p.pointee.magic)
            off("kind", &p.pointee.kind)
            off("code", &p.pointee.code)
            off("pfn", &p.pointee.pfn)
            off("sequence", &p.pointee.sequence)
            off("busy", &p.pointee.busy)
            off("rip", &p.pointee.rip)
            off("detail", &p.pointee.detail)
            off("detail2", &p.pointee.detail2)
            off("textLength", &p.pointee.textLength)
            off("text", &p.pointee.text)
        }
    }
}

extension PageAllocator {
    /// Writes the in-operation table's keys (kernel/README.md "Operations in progress"), after the
    /// per-CPU cache table's in the kernel: `CPU_OPS` (the table's address), `CPU_OPS_STRIDE`
    /// (bytes per row), `SIZE(CPUOperation)`, `OFFSET(CPUOperation.busy|parentSequence)`,
    /// `OFFSET(KmemState.cpuOperations)` and `OFFSET(HeapState.lock)`. CPU c's `busy` is at
    /// `CPU_OPS + c × CPU_OPS_STRIDE + OFFSET(CPUOperation.busy)`; rows: `PCP_CPUS`.
    public func writeCPUOperationLayout<S: TextSink>(to out: inout S) {
        func off(_ type: StaticString, _ field: StaticString, _ base: UnsafeMutableRawPointer, _ f: UnsafeMutableRawPointer) {
            out.write("OFFSET("); out.write(type); out.put(46); out.write(field); out.write(")=")
            out.dec(UInt64(UInt(bitPattern: f) &- UInt(bitPattern: base))); out.newline()
        }
        out.write("CPU_OPS="); out.hex(state.pointee.cpuOperations); out.newline()
        out.write("CPU_OPS_STRIDE="); out.dec(UInt64(MemoryLayout<CPUOperation>.stride)); out.newline()
        out.write("SIZE(CPUOperation)="); out.dec(UInt64(MemoryLayout<CPUOperation>.size)); out.newline()
        let o = cpuOperation(0)
        off("CPUOperation", "busy", UnsafeMutableRawPointer(o), &o.pointee.busy)
        off("CPUOperation", "parentSequence", UnsafeMutableRawPointer(o), &o.pointee.parentSequence)
        off("KmemState", "cpuOperations", UnsafeMutableRawPointer(state), &state.pointee.cpuOperations)
        off("HeapState", "lock", UnsafeMutableRawPointer(heap), &heap.pointee.lock)
    }
}
