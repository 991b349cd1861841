/// Checks a snapshot against the allocator contract. Every walk is bounded by the
/// segment's or zone's page count and stops at a revisited frame, so corrupted guest data
/// cannot make it loop or blow up.
public struct Verifier {
    public let snapshot: KernelSnapshot
    /// At most this many violations are kept per check (the count is exact).
    public var keepPerCheck = 20

    public init(_ snapshot: KernelSnapshot) { self.snapshot = snapshot }

    /// Runs every check.
    public func run() -> VerifyReport {
        var report = VerifyReport(keepPerCheck: keepPerCheck)
        var zoneTotals = [Tiled](repeating: Tiled(), count: snapshot.zones.count)
        var slabHeads: Set<UInt64> = []
        for seg in snapshot.segments {
            let tiled = tile(seg, &report)
            slabHeads.formUnion(tiled.slabHeads)
            checkLists(seg, tiled, &report)
            checkBitmaps(seg, tiled, &report)
            if seg.zone < zoneTotals.count { zoneTotals[seg.zone].add(tiled) }
            report.framesChecked += seg.pageCount
        }
        for z in snapshot.zones { checkZone(z, zoneTotals[z.index], &report) }
        checkZoneParameters(&report)
        checkFrameFields(&report)
        checkHeap(&report, slabHeads: slabHeads)
        checkStateFields(&report)
        return report
    }

    /// What the tiling walk of a segment found.
    struct Tiled {
        var freeHeads: [UInt64: UInt8] = [:]
        var freePages: UInt64 = 0
        var allocatedPages: UInt64 = 0
        var reservedPages: UInt64 = 0
        var cachedFrames: Set<UInt64> = []
        /// Frames in use (allocated or reserved), for the allocation bitmap.
        var inUse: Set<UInt64> = []
        /// Migratetype of each free head.
        var freeMigratetypes: [UInt64: UInt8] = [:]
        /// Allocated heads flagged SLAB.
        var slabHeads: Set<UInt64> = []

        mutating func add(_ t: Tiled) {
            freePages += t.freePages
            allocatedPages += t.allocatedPages
            reservedPages += t.reservedPages
            cachedFrames.formUnion(t.cachedFrames)
        }
    }

    func zoneName(_ index: Int) -> String? {
        index < snapshot.zones.count ? snapshot.zones[index].name : nil
    }

    func hex(_ v: UInt64) -> String { v == KernelSnapshot.none ? "none" : "0x" + String(v, radix: 16) }

    /// Walks a segment frame by frame, block by block.
    func tile(_ seg: SegmentSnapshot, _ r: inout VerifyReport) -> Tiled {
        let f = snapshot.flags
        var t = Tiled()
        let zone = zoneName(seg.zone)
        func fail(_ c: Check, _ p: UInt64, _ e: String, _ found: String) {
            r.add(Violation(c, zone: zone, segment: seg.index, pfn: p, expected: e, found: found))
        }
        /// Bits the kernel does not define, and a quarantined frame that is not reserved.
        func checkBits(_ p: UInt64, _ flags: UInt32) {
            if f.defined != 0 && flags & ~f.defined != 0 {
                fail(.tiling, p, "only the flags the kernel defines (0x\(String(f.defined, radix: 16)))", "flags 0x\(String(flags, radix: 16))")
            }
            if f.poisoned != 0 && flags & f.poisoned != 0 && flags & f.reserved == 0 {
                fail(.tiling, p, "a quarantined (poisoned) frame to be reserved", "flags 0x\(String(flags, radix: 16))")
            }
        }
        var p = seg.startPFN
        while p < seg.endPFN {
            guard let m = snapshot.frames[p] else {
                fail(.tiling, p, "a FrameMeta record", "the frame is past the FrameMeta array")
                break
            }
            if Int(m.segment) != seg.index { fail(.tiling, p, "segment \(seg.index)", "segment \(m.segment)") }
            checkBits(p, m.flags)
            let state = m.flags & f.states
            guard state.nonzeroBitCount == 1 else {
                fail(.tiling, p, "exactly one of free, allocated, reserved, pcp", "flags 0x\(String(m.flags, radix: 16))")
                p += 1
                continue
            }
            if state == f.pcp || state == f.reserved {
                if m.flags & f.head != 0 { fail(.interiorHead, p, "no head flag on a single frame", "head") }
                if m.refcount != 0 { fail(.refcount, p, "0", "\(m.refcount)") }
                if state == f.pcp { t.cachedFrames.insert(p) } else { t.reservedPages += 1; t.inUse.insert(p) }
                p += 1
                continue
            }
            let isFree = state == f.free
            guard m.flags & f.head != 0 else {
                fail(.tiling, p, "the head of a \(isFree ? "free" : "allocated") block", "a frame outside any block")
                p += 1
                continue
            }
            let k = Int(m.order)
            guard k <= snapshot.maxOrder else {
                fail(.blockAlignment, p, "order ≤ \(snapshot.maxOrder)", "order \(k)")
                p += 1
                continue
            }
            let size = UInt64(1) << UInt64(k)
            if p % size != 0 || p + size > seg.endPFN {
                fail(.blockAlignment, p, "an order-\(k) block aligned to \(size) inside the segment", "a block at \(hex(p))")
            }
            let end = min(p + size, seg.endPFN)
            var i = p + 1
            while i < end {
                guard let inner = snapshot.frames[i] else { break }
                checkBits(i, inner.flags)
                if inner.flags & f.head != 0 { fail(.interiorHead, i, "no head inside the block at \(hex(p))", "head") }
                if inner.flags & f.states != state {
                    fail(.tiling, i, "\(isFree ? "free" : "allocated") like its block at \(hex(p))", "flags 0x\(String(inner.flags, radix: 16))")
                }
                if inner.refcount != 0 { fail(.refcount, i, "0", "\(inner.refcount)") }
                i += 1
            }
            if isFree {
                if m.refcount != 0 { fail(.refcount, p, "0", "\(m.refcount)") }
                t.freeHeads[p] = UInt8(k)
                t.freeMigratetypes[p] = m.migratetype
                t.freePages += end - p
            } else {
                if m.refcount == 0 { fail(.refcount, p, "≥ 1", "0") }
                if m.flags & f.slab != 0 { t.slabHeads.insert(p) }
                t.allocatedPages += end - p
                t.inUse.formUnion(p..<end)
            }
            p = end
        }
        // coalescing: no free block has a free buddy of the same order
        for (head, k) in t.freeHeads.sorted(by: { $0.key < $1.key }) where Int(k) < snapshot.maxOrder {
            let buddy = head ^ (UInt64(1) << UInt64(k))
            if head < buddy, t.freeHeads[buddy] == k {
                fail(.coalescible, head, "its order-\(k) buddy \(hex(buddy)) not free", "both free")
            }
        }
        return t
    }

    /// Walks every free list of a segment.
    func checkLists(_ seg: SegmentSnapshot, _ t: Tiled, _ r: inout VerifyReport) {
        let f = snapshot.flags
        let zone = zoneName(seg.zone)
        func fail(_ c: Check, _ p: UInt64?, _ e: String, _ found: String) {
            r.add(Violation(c, zone: zone, segment: seg.index, pfn: p, expected: e, found: found))
        }
        var listed: [UInt64: UInt8] = [:]
        let orders = snapshot.maxOrder + 1
        for mt in 0..<snapshot.migratetypeSlots {
            for k in 0..<orders {
                let slot = mt * orders + k
                guard slot < seg.freeHeads.count, slot < seg.freeCounts.count else { continue }
                var seen: Set<UInt64> = []
                var prev = KernelSnapshot.none
                var node = seg.freeHeads[slot]
                while node != KernelSnapshot.none {
                    guard node >= seg.startPFN && node < seg.endPFN, let m = snapshot.frames[node] else {
                        fail(.freeListLinks, prev == KernelSnapshot.none ? nil : prev,
                             "a link inside the segment (list mt \(mt) order \(k))", "link to \(hex(node))")
                        break
                    }
                    guard seen.insert(node).inserted else {
                        fail(.freeListLinks, prev, "the list mt \(mt) order \(k) to end", "a cycle back to \(hex(node))")
                        break
                    }
                    if m.prev != prev { fail(.freeListLinks, node, "prev \(hex(prev))", "prev \(hex(m.prev))") }
                    if m.flags & (f.free | f.head) != (f.free | f.head) || Int(m.order) != k || Int(m.migratetype) != mt {
                        fail(.freeListEntry, node, "a free head of order \(k), migratetype \(mt)",
                             "flags 0x\(String(m.flags, radix: 16)) order \(m.order) migratetype \(m.migratetype)")
                    }
                    if listed[node] != nil {
                        fail(.freeListMembership, node, "one list", "the block on two lists")
                    }
                    listed[node] = UInt8(k)
                    prev = node
                    node = m.next
                }
                if UInt64(seen.count) != seg.freeCounts[slot] {
                    fail(.counters, nil, "list mt \(mt) order \(k) count \(seen.count) (walked)", "\(seg.freeCounts[slot])")
                }
                if mt >= snapshot.migratetypes && !seen.isEmpty {
                    fail(.unusedList, seg.freeHeads[slot], "empty list for unused slot \(mt)", "\(seen.count) blocks")
                }
            }
        }
        for (head, k) in t.freeHeads.sorted(by: { $0.key < $1.key }) where listed[head] != k {
            fail(.freeListMembership, head, "the order-\(k) free block on its list", listed[head] == nil ? "on no list" : "listed as order \(listed[head]!)")
        }
        if seg.freePages != t.freePages { fail(.counters, nil, "segment free pages \(t.freePages) (tiled)", "\(seg.freePages)") }
        if seg.reservedPages != t.reservedPages { fail(.counters, nil, "segment reserved pages \(t.reservedPages) (tiled)", "\(seg.reservedPages)") }
    }

    /// Zone counters against the segments' tiling, and the zone's per-CPU lists.
    func checkZone(_ z: ZoneSnapshot, _ t: Tiled, _ r: inout VerifyReport) {
        func fail(_ c: Check, _ p: UInt64?, _ e: String, _ found: String) {
            r.add(Violation(c, zone: z.name, pfn: p, expected: e, found: found))
        }
        if z.freePages != t.freePages { fail(.counters, nil, "free pages \(t.freePages) (tiled)", "\(z.freePages)") }
        if z.allocatedPages != t.allocatedPages { fail(.counters, nil, "allocated pages \(t.allocatedPages) (tiled)", "\(z.allocatedPages)") }
        if z.reservedPages != t.reservedPages { fail(.counters, nil, "reserved pages \(t.reservedPages) (tiled)", "\(z.reservedPages)") }
        // guest counters: a sum past 2^64 wraps (and then differs from managed), never traps
        let sum = z.freePages &+ z.pcpCount &+ z.allocatedPages &+ z.reservedPages
        if sum != z.managedPages { fail(.counters, nil, "free + pcp + allocated + reserved = managed \(z.managedPages)", "\(sum)") }
        var cached: Set<UInt64> = []
        for (slot, head) in z.pcpHeads.enumerated() {
            var prev = KernelSnapshot.none
            var node = head
            var n: UInt64 = 0
            while node != KernelSnapshot.none {
                guard let m = snapshot.frames[node], n <= z.managedPages else {
                    fail(.perCPU, node, "a frame of zone \(z.name)", "a link past the FrameMeta array or a list longer than the zone")
                    break
                }
                guard cached.insert(node).inserted else { fail(.perCPU, prev, "the list to end", "a cycle back to \(hex(node))"); break }
                if m.flags & snapshot.flags.pcp == 0 || Int(m.zone) != z.index || m.prev != prev {
                    fail(.perCPU, node, "a cached frame of zone \(z.index) with prev \(hex(prev))",
                         "flags 0x\(String(m.flags, radix: 16)) zone \(m.zone) prev \(hex(m.prev))")
                }
                n += 1
                prev = node
                node = m.next
            }
            if slot < z.pcpCounts.count, n != z.pcpCounts[slot] { fail(.perCPU, nil, "list \(slot) count \(n) (walked)", "\(z.pcpCounts[slot])") }
            if slot < z.pcpTails.count, z.pcpTails[slot] != prev { fail(.perCPU, nil, "list \(slot) tail \(hex(prev)) (walked)", hex(z.pcpTails[slot])) }
        }
        if UInt64(cached.count) != z.pcpCount { fail(.perCPU, nil, "pcp count \(cached.count) (walked)", "\(z.pcpCount)") }
        if let cursor = z.pcpDrainCursor, cursor >= UInt64(max(z.pcpHeads.count, 1)) {
            fail(.perCPU, nil, "a drain cursor below \(z.pcpHeads.count) (a migratetype slot)", "\(cursor)")
        }
        if cached != t.cachedFrames { fail(.perCPU, nil, "\(t.cachedFrames.count) cached frames on the lists", "\(cached.count) listed") }
    }
}
