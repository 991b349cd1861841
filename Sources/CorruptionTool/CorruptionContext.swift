import BundledState
import KernelLayouts

/// What a corruption case needs to pick its target: the clean snapshot, the descriptor and
/// guest memory (for pointers the snapshot does not keep, such as a segment's bitmaps).
public struct CorruptionContext {
    public let snapshot: KernelSnapshot
    public let info: KernelInfo
    public let memory: any GuestMemory

    public init(snapshot: KernelSnapshot, info: KernelInfo, memory: any GuestMemory) {
        self.snapshot = snapshot
        self.info = info
        self.memory = memory
    }

    /// Address of `Type.field` (element `index` of an array field of `elementSize` bytes) in
    /// the `n`th record of the array at descriptor key `base`.
    func address(_ base: String, _ type: String, _ n: Int, _ field: String, index: Int = 0, elementSize: Int = 8) throws -> UInt64 {
        try info.number(base) &+ UInt64(n) &* (try info.size(of: type)) &+ (try info.offset(of: type, field))
            &+ UInt64(index * elementSize)
    }

    /// CPU `cpu`'s per-CPU cache of zone `zone`: an entry of the `PCP` table, or (an older
    /// kernel) the zone's own `pcp`.
    func perCPUAddress(cpu: Int, zone: Int) throws -> UInt64 {
        guard info["PCP"] != nil else { return try address("ZONES", "Zone", zone, "pcp") }
        return try info.number("PCP") &+ (UInt64(cpu) &* (try info.number("PCP_ZONES")) &+ UInt64(zone)) &* (try info.number("PCP_STRIDE"))
    }

    func frameAddress(_ pfn: UInt64, _ field: String) throws -> UInt64 {
        try info.number("FRAME_META") &+ pfn &* (try info.size(of: "FrameMeta")) &+ (try info.offset(of: "FrameMeta", field))
    }

    func stateAddress(_ field: String) throws -> UInt64 {
        try info.number("STATE") &+ (try info.offset(of: "KmemState", field))
    }

    func heapAddress(_ field: String) throws -> UInt64 {
        try info.number("HEAP") &+ (try info.offset(of: "HeapState", field))
    }

    var flags: KernelSnapshot.FlagBits { snapshot.flags }

    /// The first managed frame, in segment order, that `predicate` accepts.
    func frame(where predicate: (UInt64, FrameRecord) -> Bool) -> (UInt64, FrameRecord)? {
        for seg in snapshot.segments {
            var p = seg.startPFN
            while p < seg.endPFN {
                if let m = snapshot.frames[p], predicate(p, m) { return (p, m) }
                p += 1
            }
        }
        return nil
    }

    /// A free block head of at least `order`, preferably not the only node of its list.
    func freeHead(minOrder: UInt8 = 0) -> (UInt64, FrameRecord)? {
        frame { _, m in m.flags & flags.free != 0 && m.flags & flags.head != 0 && m.order >= minOrder }
    }

    /// A free head with a successor on its list.
    func linkedFreeHead() -> (UInt64, FrameRecord)? {
        frame { _, m in m.flags & flags.free != 0 && m.flags & flags.head != 0 && m.next != KernelSnapshot.none }
    }

    /// An allocated head that is not a slab page.
    func allocatedHead() -> (UInt64, FrameRecord)? {
        frame { _, m in m.flags & flags.allocated != 0 && m.flags & flags.head != 0 && m.flags & flags.slab == 0 && m.refcount >= 1 }
    }

    /// A slab page with at least one free object, and its cache.
    func partialSlab() -> (UInt64, FrameRecord, HeapSnapshot.Cache)? {
        guard let heap = snapshot.heap else { return nil }
        for c in heap.caches where c.partialHead != KernelSnapshot.none {
            if let m = snapshot.frames[c.partialHead], m.slabFree != 0 { return (c.partialHead, m, c) }
        }
        return nil
    }

    /// A cache with slabs.
    func busyCache() -> HeapSnapshot.Cache? {
        snapshot.heap?.caches.first { $0.partialHead != KernelSnapshot.none || $0.fullHead != KernelSnapshot.none }
    }

    /// A frame cached on a per-CPU list.
    func cachedFrame() -> (UInt64, FrameRecord)? { frame { _, m in m.flags & flags.pcp != 0 } }

    /// The zone with the most managed pages (its parameters are the least degenerate).
    var bigZone: ZoneSnapshot { snapshot.zones.max { $0.managedPages < $1.managedPages }! }

    /// The segment with the most pages.
    var bigSegment: SegmentSnapshot { snapshot.segments.max { $0.pageCount < $1.pageCount }! }

    /// A zone whose per-CPU lists hold frames, else the biggest.
    var pcpZone: ZoneSnapshot { snapshot.zones.first { $0.cachedPages > 0 } ?? bigZone }

    func u64(_ address: UInt64) throws -> UInt64 { try memory.readU64(at: address) }
}
