/// Every key the bundled kernel publishes in `kmem_info`, and how each is checked against the
/// ELF before a decoder uses it (``DescriptorCrossCheck``). One line per key: a key the
/// kernel starts to publish gets one line here (the descriptor tests fail on a key with none).
/// `SIZE(Type)` and `OFFSET(Type.field)` are checked against DWARF by pattern; the ones the
/// bundled kernel publishes are listed in ``layouts`` (DescriptorFields+Layouts.swift).
public enum DescriptorFields {
    /// (key, rules): the table. Order is the order checks run in; a rule may use a key checked
    /// on an earlier line (`PAGE_SIZE` before `FRAME_COUNT`, `STATE` before `SEQUENCE`).
    public static let table: [(key: String, rules: [DescriptorRule])] = [
        ("BUILD-ID", [.buildID]),
        ("PAGE_SIZE", [.imageConstant("Kmem.pageSize")]),
        ("MAX_ORDER", [.imageConstant("Kmem.maxOrder"), .dwarfCount(type: "Segment", member: "parityBitmaps", minus: 1)]),
        ("PAGEBLOCK_ORDER", [.imageConstant("Kmem.pageblockOrder")]),
        ("MIGRATETYPES", [.imageConstant("Migratetype.count")]),
        ("MIGRATETYPE_SLOTS", [.imageConstant("Kmem.migratetypeSlots"), .dwarfCount(type: "PerCPUPages", member: "heads", minus: 0)]),
        ("ZONE_COUNT", [.imageConstant("ZoneKind.count"), .dwarfCount(type: "Zone", member: "lowmemReserve", minus: 0)]),
        ("SEGMENT_CAPACITY", [.imageConstant("Kmem.segmentCapacity")]),
        ("SLAB_CACHE_COUNT", [.imageConstant("Kmem.slabCacheCount"), .dwarfCount(type: "HeapState", member: "caches", minus: 0)]),
        ("SLAB_OWNER_BASE", [.imageConstant("Kmem.slabOwnerBase")]),
        ("LARGE_HEAP_OWNER", [.imageConstant("Kmem.largeHeapOwner")]),
        ("SLAB_POISON", [.imageConstant("Kmem.slabPoison")]),
        ("PAGE_POISON", [.imageConstant("Kmem.poisonByte")]),
        ("LINK_NONE", [.imageConstant("Kmem.none")]),
        ("QUARANTINE_OWNER", [.imageConstant("Kmem.quarantineOwner")]),
        ("FLAG(free)", [.imageConstant("FrameFlags.free")]),
        ("FLAG(allocated)", [.imageConstant("FrameFlags.allocated")]),
        ("FLAG(reserved)", [.imageConstant("FrameFlags.reserved")]),
        ("FLAG(kernel)", [.imageConstant("FrameFlags.kernel")]),
        ("FLAG(user)", [.imageConstant("FrameFlags.user")]),
        ("FLAG(slab)", [.imageConstant("FrameFlags.slab")]),
        ("FLAG(poisoned)", [.imageConstant("FrameFlags.poisoned")]),
        ("FLAG(head)", [.imageConstant("FrameFlags.head")]),
        ("FLAG(pcp)", [.imageConstant("FrameFlags.pcp")]),
        ("FLAG(poison_fill)", [.imageConstant("FrameFlags.poisonFill")]),
        ("KERNEL_VIRT_BASE", [.imageAddress("KERNEL_VMA")]),
        ("KERNEL_PHYS_START", [.imageAddressBelow("__kernel_start", minus: "KERNEL_VMA")]),
        ("KERNEL_PHYS_END", [.imageAddressBelow("__kernel_end", minus: "KERNEL_VMA")]),
        ("STOP_SEQ", [.imageAddress("kmem_stop_seq")]),
        ("DIRECT_MAP", [.directMapBase, .rootField("directMapOffset")]),
        ("STATE", [.rootAddress, .inDirectMap]),
        ("KMEM_STATE_ADDRESS", [.rootAddress]),
        ("SEQUENCE", [.memberAddress(base: "STATE", type: "KmemState", field: "sequence")]),
        ("BUSY", [.memberAddress(base: "STATE", type: "KmemState", field: "busy")]),
        ("ZONES", [.rootField("zones"), .inDirectMap]),
        ("SEGMENTS", [.rootField("segments"), .inDirectMap]),
        ("SEGMENT_COUNT", [.atMostRootField("segmentCount")]),
        ("FRAME_META", [.rootField("frameMeta"), .inDirectMap]),
        ("FRAME_COUNT", [.rootField("frameCount"), .fitsDirectMap(bytesEach: "PAGE_SIZE")]),
        ("OPLOG", [.rootField("opLog"), .inDirectMap]),
        ("OPLOG_CAPACITY", [.rootField("opLogCapacity"), .fitsDirectMap(bytesEach: "SIZE(OpLogEntry)")]),
        ("HEAP", [.rootField("heap"), .inDirectMap]),
        ("SLAB_CACHES", [.memberAddress(base: "HEAP", type: "HeapState", field: "caches")]),
        ("DMA32_START_PFN", [.rootField("dma32StartPFN")]),
        ("NORMAL_START_PFN", [.rootField("normalStartPFN")]),
        ("POISONING", [.rootField("options", mask: 1)]),
        // The boot identity (kernel/README.md "Boot identity"): values only the run knows.
        ("BOOT_ID", [.runTimeOnly]),
        ("CMDLINE_HASH", [.runTimeOnly]),
        ("SEED", [.runTimeOnly]),
        // The BUG record (kernel/README.md "A kernel halted at its BUG"): where it is, the
        // loop the kernel halts in after one, and the magic a written record carries.
        ("BUG", [.imageAddress("kmem_bug")]),
        ("BUG_HALT", [.imageAddress("kmem_bug_halt")]),
        ("BUG_MAGIC", [.imageConstant("BugRecord.magicValue")]),
        // The CPUs (kernel/README.md "Several CPUs"): the per-CPU areas, how many there are
        // room for and came up, each CPU's state word's values, and where a parked AP halts.
        ("PERCPU", [.imageAddress("kmem_percpu")]),
        ("PERCPU_STRIDE", [.imageAbsolute("PERCPU_SIZE"), .atLeast("SIZE(PerCPU)")]),
        ("CPU_MAX", [.imageAbsolute("MAX_CPUS"), .symbolSize("kmem_percpu", per: "PERCPU_STRIDE")]),
        ("CPU_COUNT", [.guestWord("kmem_cpus"), .countUpTo("CPU_MAX")]),
        ("CPU_STATE(offline)", [.imageConstant("CPUState.offline")]),
        ("CPU_STATE(running)", [.imageConstant("CPUState.running")]),
        ("CPU_STATE(parked)", [.imageConstant("CPUState.parked")]),
        ("AP_PARK", [.imageAddress("ap_park")]),
        // The per-CPU cache table (kernel/README.md "Per-CPU caches"): where it is (the image's
        // symbol, and the root's pointer to it), its entries' size, entries per row and rows.
        ("PCP", [.imageAddress("kmem_pcp"), .rootField("perCPUPages")]),
        ("PCP_STRIDE", [.dwarfSizeOf("PerCPUPages")]),
        ("PCP_ZONES", [.imageConstant("ZoneKind.count")]),
        ("PCP_CPUS", [.imageConstant("Kmem.maxCPUs"), .imageAbsolute("MAX_CPUS"), .symbolSizeOver("kmem_pcp", per: ["PCP_ZONES", "PCP_STRIDE"])]),
        // Each CPU's in-operation row (kernel/README.md "Operations in progress") and the turn
        // word (Workload): where they are, a row's size, and the word saying the CPUs run free.
        ("CPU_OPS", [.imageAddress("kmem_cpu_ops"), .rootField("cpuOperations")]),
        ("CPU_OPS_STRIDE", [.dwarfSizeOf("CPUOperation")]),
        ("TURNS", [.imageAddress("kmem_turns")]),
        ("TURNS_MODE", [.imageAbsolute("TURNS_MODE")]),
    ]

    private static let index: [String: [DescriptorRule]] = Dictionary(table.map { ($0.key, $0.rules) }, uniquingKeysWith: { a, _ in a })

    /// The rules for `key`: its line in ``table``, DWARF for `SIZE(…)` and `OFFSET(…)`, nil for
    /// a key the table does not know.
    public static func rules(for key: String) -> [DescriptorRule]? {
        if let r = index[key] { return r }
        if key.hasPrefix("SIZE("), key.hasSuffix(")") { return [.dwarfSize] }
        if key.hasPrefix("OFFSET("), key.hasSuffix(")"), key.contains(".") { return [.dwarfOffset] }
        return nil
    }
}
