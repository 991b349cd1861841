import BundledChecks
import BundledState

extension FieldCorruption {
    /// A wrong value for every field of every structure in the descriptor and for each bitmap
    /// (docs/checks.md's tables), in table order.
    public static let catalogue: [FieldCorruption] = frameMeta + zone + perCPU + segment + heap + state + pages

    static let none = KernelSnapshot.none

    // MARK: FrameMeta

    static let frameMeta: [FieldCorruption] = [
        FieldCorruption("FrameMeta", "next", "a free head's next link set past its segment", expect: [.freeListLinks]) { c in
            guard let (p, _) = c.freeHead() else { return nil }
            return CorruptionTarget(address: try c.frameAddress(p, "next"), width: 8, location: .frames([p])) { _ in 0x7FFF_FFF0 }
        },
        FieldCorruption("FrameMeta", "prev", "the second node of a free list pointing back at itself", expect: [.freeListLinks]) { c in
            guard let (p, m) = c.linkedFreeHead() else { return nil }
            return CorruptionTarget(address: try c.frameAddress(m.next, "prev"), width: 8, location: .frames([p, m.next])) { _ in m.next }
        },
        FieldCorruption("FrameMeta", "flags", "an allocated head also flagged FREE", expect: [.tiling]) { c in
            guard let (p, m) = c.allocatedHead() else { return nil }
            let free = UInt64(c.flags.free)
            return CorruptionTarget(address: try c.frameAddress(p, "flags"), width: 4, location: .frames([p])) { _ in UInt64(m.flags) | free }
        },
        FieldCorruption("FrameMeta", "flags (head)", "the HEAD flag on the second frame of a free block of order ≥ 1",
                        expect: [.interiorHead]) { c in
            guard let (p, _) = c.freeHead(minOrder: 1) else { return nil }
            let head = UInt64(c.flags.head)
            return CorruptionTarget(address: try c.frameAddress(p + 1, "flags"), width: 4, location: .frames([p + 1])) { $0 | head }
        },
        FieldCorruption("FrameMeta", "order", "a free head's order one less", expect: [.freeListEntry, .tiling, .blockAlignment]) { c in
            guard let (p, _) = c.freeHead(minOrder: 1) else { return nil }
            return CorruptionTarget(address: try c.frameAddress(p, "order"), width: 1, location: .frames([p, p + 1])) { $0 &- 1 }
        },
        FieldCorruption("FrameMeta", "migratetype", "a free head's migratetype flipped", expect: [.freeListEntry]) { c in
            guard let (p, _) = c.freeHead() else { return nil }
            return CorruptionTarget(address: try c.frameAddress(p, "migratetype"), width: 1, location: .frames([p])) { $0 ^ 1 }
        },
        FieldCorruption("FrameMeta", "zone", "a free head naming another zone", expect: [.frameFields]) { c in
            guard let (p, _) = c.freeHead() else { return nil }
            return CorruptionTarget(address: try c.frameAddress(p, "zone"), width: 1, location: .frames([p])) { ($0 + 1) % 3 }
        },
        FieldCorruption("FrameMeta", "refcount", "an allocated head with no reference", expect: [.refcount]) { c in
            guard let (p, _) = c.allocatedHead() else { return nil }
            return CorruptionTarget(address: try c.frameAddress(p, "refcount"), width: 4, location: .frames([p])) { _ in 0 }
        },
        FieldCorruption("FrameMeta", "segment", "a free head naming another segment", expect: [.tiling, .frameFields]) { c in
            guard let (p, _) = c.freeHead() else { return nil }
            return CorruptionTarget(address: try c.frameAddress(p, "segment"), width: 2, location: .frames([p])) { $0 ^ 1 }
        },
        FieldCorruption("FrameMeta", "owner", "a slab page's owner naming another cache", expect: [.slabStructure]) { c in
            guard let (p, _, _) = c.partialSlab() else { return nil }
            return CorruptionTarget(address: try c.frameAddress(p, "owner"), width: 8, location: .frames([p])) { $0 ^ 1 }
        },
        FieldCorruption("FrameMeta", "owner (caller's block)", "an allocated block's owner tag changed", expect: [],
                        uncheckable: "any tag is some caller's: only `verify --replay` (the log's owner) can tell") { c in
            guard let (p, _) = c.allocatedHead() else { return nil }
            return CorruptionTarget(address: try c.frameAddress(p, "owner"), width: 8, location: .frames([p])) { $0 ^ 0x10 }
        },
        FieldCorruption("FrameMeta", "lastSeq", "a frame stamped after the current sequence", expect: [.frameFields]) { c in
            guard let (p, _) = c.allocatedHead() else { return nil }
            let seq = c.snapshot.sequence
            return CorruptionTarget(address: try c.frameAddress(p, "lastSeq"), width: 8, location: .frames([p])) { _ in seq + 1000 }
        },
        FieldCorruption("FrameMeta", "slabFree", "a partial slab's first free object outside the slab", expect: [.slabStructure]) { c in
            guard let (p, _, _) = c.partialSlab() else { return nil }
            return CorruptionTarget(address: try c.frameAddress(p, "slabFree"), width: 8, location: .frames([p])) { $0 &+ 0x10_0000 }
        },
        FieldCorruption("FrameMeta", "slabInfo", "a slab's in-use count one more", expect: [.slabStructure]) { c in
            guard let (p, _, _) = c.partialSlab() else { return nil }
            return CorruptionTarget(address: try c.frameAddress(p, "slabInfo"), width: 8, location: .frames([p])) { $0 &+ 1 }
        },
    ]

    // MARK: Zone

    static func zoneField(_ field: String, _ how: String, expect: [Check], index: Int = 0,
                          _ wrong: @escaping @Sendable (UInt64) -> UInt64) -> FieldCorruption {
        FieldCorruption("Zone", index == 0 ? field : "\(field)[\(index)]", how, expect: expect) { c in
            let z = c.bigZone
            let width = field == "kind" || field == "segmentCount" ? 4 : 8
            return CorruptionTarget(address: try c.address("ZONES", "Zone", z.index, field, index: index), width: width,
                                    location: .zone(z.name), wrong: wrong)
        }
    }

    static let zone: [FieldCorruption] = [
        zoneField("kind", "another zone kind", expect: [.stateFields]) { ($0 + 1) % 3 },
        zoneField("segmentCount", "one more segment", expect: [.zoneParameters]) { $0 + 1 },
        zoneField("firstSegment", "the next segment's index", expect: [.zoneParameters]) { $0 + 1 },
        zoneField("startPFN", "the span starting one pageblock later", expect: [.zoneParameters]) { $0 + 512 },
        zoneField("endPFN", "the span ending one pageblock earlier", expect: [.zoneParameters]) { $0 - 512 },
        zoneField("spannedPages", "one page more", expect: [.zoneParameters]) { $0 + 1 },
        zoneField("presentPages", "one page more", expect: [.zoneParameters]) { $0 + 1 },
        zoneField("managedPages", "one page more", expect: [.zoneParameters, .counters]) { $0 + 1 },
        zoneField("bootReservedPages", "one page more", expect: [.zoneParameters]) { $0 + 1 },
        zoneField("reservedPages", "one page more", expect: [.counters]) { $0 + 1 },
        zoneField("freePages", "one page more", expect: [.counters]) { $0 + 1 },
        zoneField("allocatedPages", "one page less", expect: [.counters]) { $0 &- 1 },
        zoneField("watermarkMin", "one page more", expect: [.zoneParameters]) { $0 + 1 },
        zoneField("watermarkLow", "one page more", expect: [.zoneParameters]) { $0 + 1 },
        zoneField("watermarkHigh", "one page more", expect: [.zoneParameters]) { $0 + 1 },
        zoneField("lowmemReserve", "the reserve against the zone itself made non-zero", expect: [.zoneParameters], index: 0) { $0 + 7 },
    ]

    // MARK: PerCPUPages

    static func pcpField(_ field: String, _ how: String, expect: [Check], index: Int = 0,
                         _ wrong: @escaping @Sendable (UInt64) -> UInt64) -> FieldCorruption {
        FieldCorruption("PerCPUPages", index == 0 && !["heads", "counts", "tails"].contains(field) ? field : "\(field)[\(index)]",
                        how, expect: expect) { c in
            let z = c.pcpZone
            // the busiest CPU's cache of that zone (kernel/README.md "Per-CPU caches")
            let cache = z.perCPU.max { $0.count < $1.count } ?? z.perCPU[0]
            let slot = field == "heads" || field == "counts" || field == "tails"
                ? (0..<cache.heads.count).first { cache.heads[$0] != KernelSnapshot.none } ?? index : index
            let at = try c.perCPUAddress(cpu: cache.cpu, zone: z.index) &+ (try c.info.offset(of: "PerCPUPages", field)) &+ UInt64(slot * 8)
            return CorruptionTarget(address: at, width: 8, location: .zone(z.name), wrong: wrong)
        }
    }

    static let perCPU: [FieldCorruption] = [
        pcpField("count", "one frame more", expect: [.perCPU, .counters]) { $0 + 1 },
        pcpField("high", "one more", expect: [.zoneParameters]) { $0 + 1 },
        pcpField("batch", "one more", expect: [.zoneParameters]) { $0 + 1 },
        pcpField("heads", "a list's head moved to the next frame", expect: [.perCPU]) { $0 + 1 },
        pcpField("counts", "a list's count one more", expect: [.perCPU]) { $0 + 1 },
        pcpField("tails", "a list's tail moved to the next frame", expect: [.perCPU]) { $0 + 1 },
        pcpField("drainCursor", "past the last migratetype slot", expect: [.perCPU]) { _ in 9 },
    ]

    // MARK: Segment

    static func segmentField(_ field: String, label: String? = nil, _ how: String, expect: [Check], width: Int = 8,
                             slot: (@Sendable (SegmentSnapshot) -> Int)? = nil,
                             _ wrong: @escaping @Sendable (UInt64) -> UInt64) -> FieldCorruption {
        FieldCorruption("Segment", label ?? (slot == nil ? field : "\(field)[…]"), how, expect: expect) { c in
            let s = c.bigSegment
            let index = slot?(s) ?? 0
            return CorruptionTarget(address: try c.address("SEGMENTS", "Segment", s.index, field, index: index), width: width,
                                    location: .segment(s.index, zone: c.snapshot.zones[s.zone].name), wrong: wrong)
        }
    }

    /// The first non-empty free list of a segment.
    static let firstList: @Sendable (SegmentSnapshot) -> Int = { s in s.freeHeads.firstIndex { $0 != KernelSnapshot.none } ?? 0 }

    static let segment: [FieldCorruption] = [
        segmentField("startPFN", "one page later", expect: [.tiling, .zoneParameters, .frameFields]) { $0 + 1 },
        segmentField("endPFN", "one page earlier", expect: [.tiling, .zoneParameters, .frameFields, .counters]) { $0 - 1 },
        segmentField("zone", "another zone", expect: [.zoneParameters, .frameFields], width: 4) { ($0 + 1) % 3 },
        segmentField("index", "another index", expect: [.stateFields], width: 4) { $0 + 1 },
        segmentField("freePages", "one page more", expect: [.counters]) { $0 + 1 },
        segmentField("reservedPages", "one page more", expect: [.counters]) { $0 + 1 },
        segmentField("freeHeads", "a list's head moved to the next frame", expect: [.freeListLinks, .freeListEntry, .freeListMembership],
                     slot: firstList) { $0 + 1 },
        segmentField("freeCounts", "a list's count one more", expect: [.counters], slot: firstList) { $0 + 1 },
        FieldCorruption("Segment", "freeHeads (unused slot)", "a free block also listed under unused migratetype slot 3",
                        expect: [.unusedList]) { c in
            let s = c.bigSegment
            guard let (p, m) = c.frame(where: { p, m in
                p >= s.startPFN && p < s.endPFN && m.flags & c.flags.free != 0 && m.flags & c.flags.head != 0 }) else { return nil }
            let slot = 3 * (c.snapshot.maxOrder + 1) + Int(m.order)
            return CorruptionTarget(address: try c.address("SEGMENTS", "Segment", s.index, "freeHeads", index: slot), width: 8,
                                    location: .frames([p])) { _ in p }
        },
        FieldCorruption("Segment", "parityBitmaps", "one parity bit of order 0 flipped", expect: [.parity]) { c in
            let s = c.bigSegment
            let base = try c.u64(try c.address("SEGMENTS", "Segment", s.index, "parityBitmaps"))
            let bit = UInt64(3)  // the pair (start>>1)+3 at order 0
            let pfn = ((s.startPFN >> 1) + bit) << 1
            return CorruptionTarget(address: base, width: 8, location: .frames([pfn, pfn + 1])) { $0 ^ (1 << bit) }
        },
        FieldCorruption("Segment", "allocBitmap", "the in-use bit of a free head flipped", expect: [.allocBitmap]) { c in
            guard let (p, m) = c.freeHead() else { return nil }
            let s = c.snapshot.segments[Int(m.segment)]
            let base = try c.u64(try c.address("SEGMENTS", "Segment", s.index, "allocBitmap"))
            let bit = p - s.startPFN
            return CorruptionTarget(address: base &+ bit / 64 * 8, width: 8, location: .frames([p])) { $0 ^ (1 << (bit % 64)) }
        },
        FieldCorruption("Segment", "pageblockTags", "a free block's pageblock tagged with an invalid migratetype",
                        expect: [.pageblockTags]) { c in
            guard let (p, m) = c.freeHead() else { return nil }
            let s = c.snapshot.segments[Int(m.segment)]
            let base = try c.u64(try c.address("SEGMENTS", "Segment", s.index, "pageblockTags"))
            let pb = p >> UInt64(c.snapshot.pageblockOrder)
            return CorruptionTarget(address: base &+ (pb - s.firstPageblock), width: 1,
                                    location: .segment(s.index, zone: c.snapshot.zones[s.zone].name)) { _ in 7 }
        },
        segmentField("firstPageblock", "one pageblock later", expect: [.pageblockTags]) { $0 + 1 },
        segmentField("pageblockCount", "one pageblock fewer", expect: [.pageblockTags]) { $0 - 1 },
    ]

    // MARK: SlabCache and HeapState

    static func cacheField(_ field: String, _ how: String, expect: [Check], _ wrong: @escaping @Sendable (UInt64) -> UInt64) -> FieldCorruption {
        FieldCorruption("SlabCache", field, how, expect: expect) { c in
            guard let cache = c.busyCache() else { return nil }
            return CorruptionTarget(address: try c.address("SLAB_CACHES", "SlabCache", cache.index, field), width: 8,
                                    location: .cache(cache.name), wrong: wrong)
        }
    }

    static let heap: [FieldCorruption] = [
        // The cache is named by its object size: the report names the wrong size.
        FieldCorruption("SlabCache", "objectSize", "twice the size", expect: [.slabStructure]) { c in
            guard let cache = c.busyCache() else { return nil }
            return CorruptionTarget(address: try c.address("SLAB_CACHES", "SlabCache", cache.index, "objectSize"), width: 8,
                                    location: .cache("kmalloc-\(cache.objectSize * 2)")) { $0 * 2 }
        },
        cacheField("objectsPerSlab", "one object more", expect: [.slabStructure]) { $0 + 1 },
        cacheField("partialHead", "the partial list starting at the next frame", expect: [.slabStructure]) { $0 == none ? 1 : $0 + 1 },
        cacheField("fullHead", "the full list starting at the next frame", expect: [.slabStructure]) { $0 == none ? 1 : $0 + 1 },
        cacheField("partialSlabs", "one slab more", expect: [.slabStructure]) { $0 + 1 },
        cacheField("fullSlabs", "one slab more", expect: [.slabStructure]) { $0 + 1 },
        cacheField("inUse", "one object more", expect: [.slabStructure]) { $0 + 1 },
        cacheField("allocations", "one allocation more", expect: [.slabStructure]) { $0 + 1 },
        cacheField("frees", "one free more", expect: [.slabStructure]) { $0 + 1 },
        FieldCorruption("HeapState", "cacheCount", "one cache more", expect: [.stateFields]) { c in
            CorruptionTarget(address: try c.heapAddress("cacheCount"), width: 8, location: .anywhere) { $0 + 1 }
        },
        FieldCorruption("HeapState", "largeAllocations", "one large allocation more", expect: [.stateFields]) { c in
            CorruptionTarget(address: try c.heapAddress("largeAllocations"), width: 8, location: .anywhere) { $0 + 1 }
        },
        FieldCorruption("HeapState", "largePages", "one large page more", expect: [.stateFields]) { c in
            CorruptionTarget(address: try c.heapAddress("largePages"), width: 8, location: .anywhere) { $0 + 1 }
        },
    ]

    // MARK: KmemState

    static func stateField(_ field: String, _ how: String, expect: [Check], uncheckable: String? = nil,
                           _ wrong: @escaping @Sendable (UInt64) -> UInt64) -> FieldCorruption {
        FieldCorruption("KmemState", field, how, expect: expect, uncheckable: uncheckable) { c in
            CorruptionTarget(address: try c.stateAddress(field), width: 8, location: .anywhere, wrong: wrong)
        }
    }

    static let state: [FieldCorruption] = [
        stateField("magic", "one bit flipped", expect: [.stateFields]) { $0 ^ 1 },
        stateField("sequence", "a sequence before the frames' stamps", expect: [.frameFields]) { _ in 0 },
        stateField("directMapOffset", "another offset", expect: [.stateFields]) { $0 + 4096 },
        stateField("frameMeta", "another address", expect: [.stateFields]) { $0 + 64 },
        stateField("frameCount", "one frame more", expect: [.stateFields]) { $0 + 1 },
        stateField("zones", "another address", expect: [.stateFields]) { $0 + 8 },
        stateField("segments", "another address", expect: [.stateFields]) { $0 + 8 },
        stateField("segmentCount", "one segment fewer", expect: [.zoneParameters, .tiling, .frameFields]) { $0 - 1 },
        stateField("opLog", "another address", expect: [.stateFields]) { $0 + 64 },
        stateField("opLogCapacity", "one entry fewer", expect: [.stateFields]) { $0 - 1 },
        stateField("heap", "another address", expect: [.stateFields]) { $0 + 8 },
        stateField("parentSequence", "an operation in progress between operations", expect: [.stateFields]) { $0 + 5 },
    ]

    // MARK: Page contents

    static let pages: [FieldCorruption] = [
        FieldCorruption("page", "free slab object", "a byte after a free object's link overwritten", expect: [.slabPoison]) { c in
            guard let (p, m, _) = c.partialSlab() else { return nil }
            return CorruptionTarget(address: m.slabFree &+ 8, width: 1, location: .frames([p])) { $0 ^ 0xFF }
        },
        FieldCorruption("page", "free page poison", "a byte of a free page's 0xaa fill overwritten", expect: [],
                        uncheckable: "this matrix runs without poisoning (no fill to damage); with poison=1, verify --free-page-poison names the page (free-page-poison, tested in VerifyCommandTests) and the kernel quarantines it when it would hand it out") { c in
            guard let (p, _) = c.freeHead() else { return nil }
            let directMap = try c.info.number("DIRECT_MAP")
            return CorruptionTarget(address: directMap &+ p &* c.snapshot.pageSize &+ 100, width: 1, location: .frames([p])) { $0 ^ 0xFF }
        },
    ]
}
