import BundledState
import KernelLayouts

/// Decodes the allocator's state from guest memory into a `KernelSnapshot`, using only the
/// addresses, sizes and offsets the kernel published in `kmem_info` (so it needs no DWARF).
/// Every count read from the guest is checked against a hard limit before it sizes a read.
public struct SnapshotDecoder {
    /// Most frames the kernel's direct map can cover (64 GiB of 4 KiB pages).
    public static let maximumFrames: UInt64 = 16 << 20
    public static let maximumSegments: UInt64 = 256
    public static let maximumZones: UInt64 = 8

    public let info: KernelInfo
    public let memory: any GuestMemory

    public init(info: KernelInfo, memory: any GuestMemory) {
        self.info = info
        self.memory = memory
    }

    /// The bundled kernel's zone names, by zone index (a zone past these is `ZoneN`).
    public static let zoneNames = ["DMA", "DMA32", "Normal"]

    /// Reads zones, segments and the whole FrameMeta array (one buffer, read in place), or with
    /// `streaming`, a FrameMeta table that reads windows on demand through ``memory`` (whose
    /// memory does not grow with the guest: the guest must stay stopped while it is used).
    /// With `inPlace`, a source that lends its mapping (``BorrowingGuestMemory``: the memory
    /// file) gives the FrameMeta array with no copy; the table is then ``FrameTable/isLive``
    /// like a streamed one and must be used while the guest is still stopped.
    public func decode(streaming: Bool = false, inPlace: Bool = false) throws -> KernelSnapshot {
        let maxOrder = Int(try limited("MAX_ORDER", 63))
        let slots = Int(try limited("MIGRATETYPE_SLOTS", 16))
        let zoneCount = try limited("ZONE_COUNT", Self.maximumZones)
        let segmentCount = try liveSegmentCount()
        let frameCount = try limited("FRAME_COUNT", Self.maximumFrames)
        let sequence = try memory.readU64(at: try info.number("SEQUENCE"))

        let zoneSize = UInt64(try info.boundedSize(of: "Zone"))
        let zoneBytes = try memory.read(at: try info.number("ZONES"), count: Int(zoneSize * zoneCount))
        let names = Self.zoneNames
        var zones: [ZoneSnapshot] = []
        for z in 0..<Int(zoneCount) {
            let r = Record(bytes: zoneBytes, base: z * Int(zoneSize), info: info, type: "Zone")
            zones.append(ZoneSnapshot(
                index: z, name: z < names.count ? names[z] : "Zone\(z)",
                firstSegment: Int(clamping: try r.u64("firstSegment")), segmentCount: Int(try r.u32("segmentCount")),
                startPFN: try r.u64("startPFN"), endPFN: try r.u64("endPFN"), spannedPages: try r.u64("spannedPages"),
                presentPages: try r.u64("presentPages"), managedPages: try r.u64("managedPages"),
                bootReservedPages: try r.u64("bootReservedPages"), reservedPages: try r.u64("reservedPages"),
                freePages: try r.u64("freePages"), allocatedPages: try r.u64("allocatedPages"),
                watermarkMin: try r.u64("watermarkMin"), watermarkLow: try r.u64("watermarkLow"),
                watermarkHigh: try r.u64("watermarkHigh"),
                lowmemReserve: try (0..<Int(zoneCount)).map { try r.u64("lowmemReserve", index: $0) },
                pcpCount: 0, pcpHigh: 0, pcpBatch: 0))
            // An older kernel's one cache per zone, inside `Zone`: CPU 0's.
            if info["PCP"] == nil {
                let pcp = try info.boundedOffset(of: "Zone", "pcp")
                zones[z].perCPU = [try perCPUCache(cpu: 0, bytes: zoneBytes, at: z * Int(zoneSize) + pcp, slots: slots)]
            }
        }
        if info["PCP"] != nil { try decodePerCPUTable(into: &zones, slots: slots) }

        let segmentSize = UInt64(try info.boundedSize(of: "Segment"))
        let segmentBytes = try memory.read(at: try info.number("SEGMENTS"), count: Int(segmentSize * segmentCount))
        let lists = slots * (maxOrder + 1)
        var segments: [SegmentSnapshot] = []
        for i in 0..<Int(segmentCount) {
            let r = Record(bytes: segmentBytes, base: i * Int(segmentSize), info: info, type: "Segment")
            var seg = SegmentSnapshot(
                index: i, zone: Int(try r.u32("zone")), startPFN: try r.u64("startPFN"), endPFN: try r.u64("endPFN"),
                freePages: try r.u64("freePages"), reservedPages: try r.u64("reservedPages"),
                freeHeads: try (0..<lists).map { try r.u64("freeHeads", index: $0) },
                freeCounts: try (0..<lists).map { try r.u64("freeCounts", index: $0) })
            try readBitmaps(&seg, r, maxOrder: maxOrder, frameCount: frameCount)
            segments.append(seg)
        }

        let stride = UInt64(try info.boundedSize(of: "FrameMeta"))
        guard stride >= 16 && stride <= 4096 else { throw SnapshotError.implausible(what: "SIZE(FrameMeta)", value: stride, limit: 4096) }
        func o(_ f: String) throws -> Int { try info.boundedOffset(of: "FrameMeta", f) }
        var layout = FrameTable.Layout(
            stride: Int(stride), next: try o("next"), prev: try o("prev"), flags: try o("flags"), order: try o("order"),
            migratetype: try o("migratetype"), zone: try o("zone"), refcount: try o("refcount"),
            segment: try o("segment"), owner: try o("owner"), lastSeq: try o("lastSeq"))
        layout.slabFree = try o("slabFree")
        layout.slabInfo = try o("slabInfo")
        guard layout.isValid else { throw SnapshotError.implausible(what: "a FrameMeta field offset", value: stride, limit: stride) }
        let frameMeta = try info.number("FRAME_META")
        let frames: FrameTable
        if streaming {
            let memory = self.memory
            frames = FrameTable(layout: layout, count: Int(frameCount)) { offset, buffer in
                try memory.read(.kernelVirtual, at: frameMeta &+ UInt64(offset), into: buffer)
            }
        } else if inPlace, let lender = memory as? any BorrowingGuestMemory,
                  let loan = try lender.borrow(.kernelVirtual, at: frameMeta, count: Int(frameCount * stride)) {
            frames = FrameTable(layout: layout, borrowing: loan.bytes, owner: loan.owner, live: true)
        } else {
            let buffer = try LargeBuffer.filled(count: Int(frameCount * stride)) {
                try memory.read(.kernelVirtual, at: frameMeta, into: $0)
            }
            frames = FrameTable(layout: layout, borrowing: UnsafeRawBufferPointer(buffer.bytes), owner: buffer, live: false)
        }
        var flags = KernelSnapshot.FlagBits()
        flags.free = UInt32(truncatingIfNeeded: try info.number("FLAG(free)"))
        flags.allocated = UInt32(truncatingIfNeeded: try info.number("FLAG(allocated)"))
        flags.reserved = UInt32(truncatingIfNeeded: try info.number("FLAG(reserved)"))
        flags.slab = UInt32(truncatingIfNeeded: try info.number("FLAG(slab)"))
        flags.head = UInt32(truncatingIfNeeded: try info.number("FLAG(head)"))
        flags.pcp = UInt32(truncatingIfNeeded: try info.number("FLAG(pcp)"))
        if let v = try? info.number("FLAG(kernel)") { flags.kernel = UInt32(truncatingIfNeeded: v) }
        if let v = try? info.number("FLAG(user)") { flags.user = UInt32(truncatingIfNeeded: v) }
        if let v = try? info.number("FLAG(poison_fill)") { flags.poisonFill = UInt32(truncatingIfNeeded: v) }
        if info["FLAG(poisoned)"] != nil { flags.poisoned = UInt32(truncatingIfNeeded: try info.number("FLAG(poisoned)")) }
        for e in info.entries where e.key.hasPrefix("FLAG(") {
            flags.defined |= UInt32(truncatingIfNeeded: try info.number(e.key))
        }
        var snapshot = KernelSnapshot(
            pageSize: try pageSize(), maxOrder: maxOrder, pageblockOrder: Int(try limited("PAGEBLOCK_ORDER", 63)),
            migratetypes: Int(try limited("MIGRATETYPES", 16)), migratetypeSlots: slots, sequence: sequence,
            zones: zones, segments: segments, frames: frames)
        snapshot.flags = flags
        snapshot.heap = try decodeHeap(snapshot.frames, pageSize: snapshot.pageSize)
        snapshot.opLogCapacity = try? info.number("OPLOG_CAPACITY")
        if let dma32 = try? info.number("DMA32_START_PFN"), let normal = try? info.number("NORMAL_START_PFN") {
            snapshot.zoneLimits = ZoneLimits(dma32StartPFN: dma32, normalStartPFN: normal)
        }
        snapshot.poisoning = (try? info.number("POISONING")).map { $0 & 1 != 0 }
        if let cpus = try? info.number("CPU_COUNT") {
            guard cpus >= 1 && cpus <= Self.maximumCPUs else {
                throw SnapshotError.implausible(what: "CPU_COUNT", value: cpus, limit: Self.maximumCPUs)
            }
            snapshot.cpuCount = Int(cpus)
        }
        if let busy = try? info.number("BUSY") { snapshot.busy = try memory.readU64(at: busy) }
        // the BUG record, when the kernel stopped at one (a snapshot file from before it has none)
        snapshot.bug = try? BugRecordDecoder(info: info, memory: memory).decode()
        if info["STATE"] != nil {
            snapshot.stateFields = try decodeStateFields(zoneCount: zones.count, segmentCount: segments.count)
        }
        return snapshot
    }

    /// Most slab pages read (each is one page of guest memory).
    public static let maximumSlabPages = 1 << 16

    /// The slab caches and the contents of every slab page on their lists.
    func decodeHeap(_ frames: FrameTable, pageSize: UInt64) throws -> HeapSnapshot {
        let count = try limited("SLAB_CACHE_COUNT", 64)
        let size = UInt64(try info.boundedSize(of: "SlabCache"))
        let bytes = try memory.read(at: try info.number("SLAB_CACHES"), count: Int(size * count))
        var caches: [HeapSnapshot.Cache] = []
        for i in 0..<Int(count) {
            let r = Record(bytes: bytes, base: i * Int(size), info: info, type: "SlabCache")
            caches.append(HeapSnapshot.Cache(
                index: i, objectSize: try r.u64("objectSize"), objectsPerSlab: try r.u64("objectsPerSlab"),
                partialHead: try r.u64("partialHead"), fullHead: try r.u64("fullHead"),
                partialSlabs: try r.u64("partialSlabs"), fullSlabs: try r.u64("fullSlabs"), inUse: try r.u64("inUse")))
            caches[i].allocations = try r.u64("allocations")
            caches[i].frees = try r.u64("frees")
        }
        let directMap = try info.number("DIRECT_MAP")
        var pages: [UInt64: [UInt8]] = [:]
        for c in caches {
            for head in [c.partialHead, c.fullHead] {
                var p = head
                while p != KernelSnapshot.none, pages[p] == nil, pages.count < Self.maximumSlabPages, let f = frames[p] {
                    pages[p] = try memory.read(at: directMap &+ p &* pageSize, count: Int(pageSize))
                    p = f.next
                }
            }
        }
        return HeapSnapshot(caches: caches, slabOwnerBase: try info.number("SLAB_OWNER_BASE"),
                            poison: UInt8(truncatingIfNeeded: try info.number("SLAB_POISON")), directMap: directMap, pages: pages)
    }

    /// Reads a segment's parity bitmaps, allocation bitmap and pageblock tags.
    private func readBitmaps(_ seg: inout SegmentSnapshot, _ r: Record, maxOrder: Int, frameCount: UInt64) throws {
        guard seg.startPFN < seg.endPFN, seg.endPFN <= frameCount else {
            throw SnapshotError.implausible(what: "segment \(seg.index)'s end PFN", value: seg.endPFN, limit: frameCount)
        }
        func words(_ address: UInt64, bits: UInt64) throws -> [UInt64] {
            let bytes = try memory.read(at: address, count: Int((bits + 63) / 64 * 8))
            return stride(from: 0, to: bytes.count, by: 8).map { littleEndian(bytes[$0..<($0 + 8)]) }
        }
        for k in 0...maxOrder {
            let shift = UInt64(k + 1)
            let bits = ((seg.endPFN - 1) >> shift) - (seg.startPFN >> shift) + 1
            seg.parity.append(try words(try r.u64("parityBitmaps", index: k), bits: bits))
        }
        seg.allocBitmap = try words(try r.u64("allocBitmap"), bits: seg.pageCount)
        seg.firstPageblock = try r.u64("firstPageblock")
        let blocks = try r.u64("pageblockCount")
        guard blocks <= seg.pageCount + 1 else {
            throw SnapshotError.implausible(what: "segment \(seg.index)'s pageblock count", value: blocks, limit: seg.pageCount + 1)
        }
        seg.pageblockTags = try memory.read(at: try r.u64("pageblockTags"), count: Int(blocks))
    }

    /// Segments in use now: `KmemState.segmentCount` read from the guest (memory hot-add adds
    /// segments after boot), bounded by the descriptor's `SEGMENT_CAPACITY`; a kernel that
    /// does not publish those gives its boot-time `SEGMENT_COUNT`.
    private func liveSegmentCount() throws -> UInt64 {
        guard info["SEGMENT_CAPACITY"] != nil, info["OFFSET(KmemState.segmentCount)"] != nil else {
            return try limited("SEGMENT_COUNT", Self.maximumSegments)
        }
        let capacity = try limited("SEGMENT_CAPACITY", Self.maximumSegments)
        let at = try info.number("STATE") &+ (try info.offset(of: "KmemState", "segmentCount"))
        let n = try memory.readU64(at: at)
        guard n >= 1 && n <= capacity else {
            throw SnapshotError.implausible(what: "KmemState.segmentCount", value: n, limit: capacity)
        }
        return n
    }

    /// `PAGE_SIZE`, a power of two from 512 bytes to 64 KiB (it sizes every page read).
    private func pageSize() throws -> UInt64 {
        let v = try limited("PAGE_SIZE", 1 << 16)
        guard v >= 512, v & (v - 1) == 0 else { throw SnapshotError.implausible(what: "PAGE_SIZE", value: v, limit: 1 << 16) }
        return v
    }

    private func limited(_ key: String, _ limit: UInt64) throws -> UInt64 {
        let v = try info.number(key)
        guard v <= limit else { throw SnapshotError.implausible(what: key, value: v, limit: limit) }
        return v
    }

    /// The most rows of the per-CPU cache table read (`KMEM_MAX_CPUS`).
    public static let maximumCPUs: UInt64 = 16

    /// Every CPU's caches from the [cpu][zone] table (`PCP`, `PCP_CPUS` rows of `PCP_ZONES`
    /// entries of `PCP_STRIDE` bytes; kernel/README.md "Per-CPU caches"), read in one piece.
    private func decodePerCPUTable(into zones: inout [ZoneSnapshot], slots: Int) throws {
        let cpus = try limited("PCP_CPUS", Self.maximumCPUs)
        let perRow = try info.number("PCP_ZONES")
        guard perRow == UInt64(zones.count) else {
            throw SnapshotError.implausible(what: "PCP_ZONES", value: perRow, limit: UInt64(zones.count))
        }
        let stride = try info.number("PCP_STRIDE")
        let size = UInt64(try info.boundedSize(of: "PerCPUPages"))
        guard stride >= size, stride <= 4096 else {
            throw SnapshotError.implausible(what: "PCP_STRIDE", value: stride, limit: 4096)
        }
        guard cpus >= 1 else { throw SnapshotError.implausible(what: "PCP_CPUS", value: cpus, limit: Self.maximumCPUs) }
        let bytes = try memory.read(at: try info.number("PCP"), count: Int(cpus * perRow * stride))
        for z in zones.indices {
            zones[z].perCPU = try (0..<Int(cpus)).map { c in
                try perCPUCache(cpu: c, bytes: bytes, at: (c * Int(perRow) + z) * Int(stride), slots: slots)
            }
        }
    }

    /// The `PerCPUPages` at `offset` of `bytes`.
    private func perCPUCache(cpu: Int, bytes: [UInt8], at offset: Int, slots: Int) throws -> PerCPUSnapshot {
        let r = Record(bytes: bytes, base: offset, info: info, type: "PerCPUPages")
        var p = PerCPUSnapshot(cpu: cpu, count: try r.u64("count"), high: try r.u64("high"), batch: try r.u64("batch"))
        p.heads = try (0..<slots).map { try r.u64("heads", index: $0) }
        p.counts = try (0..<slots).map { try r.u64("counts", index: $0) }
        // The drain cursor (kernel/README.md "Draining") and tails, when this kernel publishes them.
        if info["OFFSET(PerCPUPages.drainCursor)"] != nil { p.drainCursor = try r.u64("drainCursor") }
        if info["OFFSET(PerCPUPages.tails)"] != nil { p.tails = try (0..<slots).map { try r.u64("tails", index: $0) } }
        return p
    }

    /// One structure's bytes, read by field name through the descriptor's offsets.
    private struct Record {
        let bytes: [UInt8]
        let base: Int
        let info: KernelInfo
        let type: String

        func u64(_ field: String, index: Int = 0) throws -> UInt64 {
            try u64(at: (try info.boundedOffset(of: type, field, width: 8)) + index * 8)
        }

        func u32(_ field: String) throws -> UInt64 {
            let o = base + (try info.boundedOffset(of: type, field, width: 4))
            guard o + 4 <= bytes.count else { throw SnapshotError.implausible(what: "OFFSET(\(type).\(field))", value: UInt64(o), limit: UInt64(bytes.count)) }
            return littleEndian(bytes[o..<(o + 4)])
        }

        func u64(at offset: Int) throws -> UInt64 {
            let o = base + offset
            guard o + 8 <= bytes.count else { throw SnapshotError.implausible(what: "an offset in \(type)", value: UInt64(o), limit: UInt64(bytes.count)) }
            return littleEndian(bytes[o..<(o + 8)])
        }
    }
}
