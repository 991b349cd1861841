extension DescriptorFields {
    /// Every structure whose `SIZE(Type)` and `OFFSET(Type.field)` the bundled kernel publishes
    /// and the toolkit's decoders read, with its fields in the order `kmem_info` lists them.
    /// The kernel writes these keys from its field tables (kernel/mm/PublishedLayouts.swift,
    /// kernel/src/PerCPU+PublishedLayout.swift); Tests/KernelMMTests/PublishedLayoutTests.swift
    /// requires the two to name the same keys, and Tests/KernelLayoutsTests/
    /// PublishedLayoutDWARFTests.swift that each is a member of the kernel ELF's DWARF type.
    /// Each key is checked against DWARF by pattern (``rules(for:)``).
    public static let layouts: [(type: String, fields: [String])] = [
        ("FrameMeta", ["next", "prev", "flags", "order", "migratetype", "zone", "refcount", "segment", "owner", "lastSeq",
                       "slabFree", "slabInfo"]),
        ("Zone", ["kind", "segmentCount", "firstSegment", "startPFN", "endPFN", "spannedPages", "presentPages",
                  "managedPages", "bootReservedPages", "reservedPages", "freePages", "allocatedPages", "watermarkMin",
                  "watermarkLow", "watermarkHigh", "lowmemReserve", "lock"]),
        ("PerCPUPages", ["count", "high", "batch", "heads", "counts", "tails", "drainCursor", "lock"]),
        ("Segment", ["startPFN", "endPFN", "zone", "index", "freePages", "reservedPages", "freeHeads", "freeCounts",
                     "parityBitmaps", "allocBitmap", "pageblockTags", "firstPageblock", "pageblockCount"]),
        ("KmemState", ["magic", "sequence", "directMapOffset", "frameMeta", "frameCount", "zones", "segments",
                       "segmentCount", "opLog", "opLogCapacity", "heap", "parentSequence", "busy", "cpuOperations"]),
        ("HeapState", ["cacheCount", "largeAllocations", "largePages", "caches", "lock"]),
        ("SlabCache", ["objectSize", "objectsPerSlab", "partialHead", "fullHead", "partialSlabs", "fullSlabs", "inUse",
                       "allocations", "frees"]),
        ("OpLogEntry", ["sequence", "kind", "order", "migratetype", "zone", "status", "flags", "alignment", "size",
                        "address", "result", "owner", "parent", "cpu"]),
        ("BugRecord", ["magic", "kind", "code", "pfn", "sequence", "busy", "rip", "detail", "detail2", "textLength", "text"]),
        // the kernel's own per-CPU areas (kernel/src, not in the host build of kernel/mm)
        ("PerCPU", ["selfAddress", "cpu", "apicID", "state", "stackTop"]),
        ("TicketLockWord", ["next", "owner"]),
        ("CPUOperation", ["busy", "parentSequence"]),
    ]

    /// Layout keys an older kernel published that a decoder still reads when present (the
    /// bundled kernel no longer writes them): `OFFSET(Zone.pcp)`, one cache per zone.
    public static let olderLayoutKeys: Set<String> = ["OFFSET(Zone.pcp)"]

    /// ``layouts`` as descriptor keys: `SIZE(Type)` and `OFFSET(Type.field)`.
    public static var layoutKeys: [String] {
        layouts.flatMap { t in ["SIZE(\(t.type))"] + t.fields.map { "OFFSET(\(t.type).\($0))" } }
    }
}
