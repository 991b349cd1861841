/// The layout descriptor: what Linux's VMCOREINFO is to crash and makedumpfile. Text lines
/// `KEY=VALUE` (decimal, or `0x` hex for addresses): constants, the addresses of the
/// allocator's structures, and `SIZE(Type)` / `OFFSET(Type.field)` of every structure the
/// toolkit decodes, written from each structure's field table (``PublishedLayout``,
/// PublishedLayouts.swift) and measured on the live structures by pointer arithmetic, so they
/// cannot drift from the code (Embedded Swift has no `MemoryLayout.offset(of:)`).
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

        // SIZE(Type) and OFFSET(Type.field) from each structure's field table (PublishedLayouts.swift)
        out.writeLayout(of: meta(PFN(0)), section: .allocator)
        out.writeLayout(of: zone(0), section: .allocator)
        // CPU 0's cache of zone 0: every entry of the [cpu][zone] table has this layout
        out.writeLayout(of: perCPU(0, cpu: 0), section: .allocator)
        out.writeLayout(of: segment(0), section: .allocator)
        out.writeLayout(of: state, section: .allocator)
        out.writeLayout(of: heap, section: .allocator)
        out.writeLayout(of: cache(0), section: .allocator)
        var e = OpLogEntry.zero
        withUnsafeMutablePointer(to: &e) { out.writeLayout(of: $0, section: .allocator) }
    }
}

extension OpLogEntry {
    /// An all-zero entry to measure the layout on (the ring may not have one yet).
    static var zero: OpLogEntry {
        OpLogEntry(sequence: 0, kind: 0, order: 0, migratetype: 0, zone: 0, status: 0, flags: 0, cpu: 0, _pad: 0,
                   alignment: 0, size: 0, address: 0, result: 0, owner: 0, parent: 0)
    }
}

extension PageAllocator {
    /// Writes the zone locks' layout (kernel/README.md, "Zone locks"), after the CPU keys:
    /// `OFFSET(Zone.lock)`, `SIZE(TicketLockWord)`, `OFFSET(TicketLockWord.next|owner)`. Zone z's
    /// lock is at `ZONES + z × SIZE(Zone) + OFFSET(Zone.lock)`; it is held when `next ≠ owner`.
    public func writeZoneLockLayout<S: TextSink>(to out: inout S) {
        out.writeLayout(of: zone(0), section: .zoneLocks)
        out.writeLayout(of: zoneLockWord(0), section: .zoneLocks)
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
        var e = OpLogEntry.zero
        withUnsafeMutablePointer(to: &e) { out.writeLayout(of: $0, section: .perCPU) }
    }
}

extension LayoutDescriptor {
    /// Writes `SIZE(BugRecord)` and every `OFFSET(BugRecord.field)`, measured on a record, as
    /// the other layouts are (the kernel publishes them after `BUG`).
    public static func writeBugRecordLayout<S: TextSink>(to out: inout S) {
        var r = BugRecord(magic: 0, kind: 0, code: 0, pfn: 0, sequence: 0, busy: 0, rip: 0, detail: 0, detail2: 0,
                          textLength: 0, text: .init(repeating: 0))
        withUnsafeMutablePointer(to: &r) { out.writeLayout(of: $0, section: .bugRecord) }
    }
}

extension PageAllocator {
    /// Writes the in-operation table's keys (kernel/README.md "Operations in progress"), after the
    /// per-CPU cache table's in the kernel: `CPU_OPS` (the table's address), `CPU_OPS_STRIDE`
    /// (bytes per row), `SIZE(CPUOperation)`, `OFFSET(CPUOperation.busy|parentSequence)`,
    /// `OFFSET(KmemState.cpuOperations)` and `OFFSET(HeapState.lock)`. CPU c's `busy` is at
    /// `CPU_OPS + c × CPU_OPS_STRIDE + OFFSET(CPUOperation.busy)`; rows: `PCP_CPUS`.
    public func writeCPUOperationLayout<S: TextSink>(to out: inout S) {
        out.write("CPU_OPS="); out.hex(state.pointee.cpuOperations); out.newline()
        out.write("CPU_OPS_STRIDE="); out.dec(UInt64(MemoryLayout<CPUOperation>.stride)); out.newline()
        out.writeLayout(of: cpuOperation(0), section: .cpuOperations)
        out.writeLayout(of: state, section: .cpuOperations)
        out.writeLayout(of: heap, section: .cpuOperations)
    }
}

extension PageAllocator {
    /// Writes the per-CPU caches' lock (kernel/README.md "Per-CPU cache locks"), last in the
    /// kernel (after the turn word): `OFFSET(PerCPUPages.lock)`. CPU c's lock of zone z is at
    /// `PCP + (c × PCP_ZONES + z) × PCP_STRIDE + OFFSET(PerCPUPages.lock)`, a `TicketLockWord`.
    public func writePerCPULockLayout<S: TextSink>(to out: inout S) {
        out.writeLayout(of: perCPU(0, cpu: 0), section: .perCPULocks)
    }
}
