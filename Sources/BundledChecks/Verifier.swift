import AllocatorChecks
import AllocatorView
import BundledState

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
        let frameCount = snapshot.frames.count
        var zoneTotals = [ZoneTotals](repeating: ZoneTotals(), count: snapshot.zones.count)
        var slabHeads: [UInt64] = []
        var suspect = [Bool](repeating: true, count: snapshot.segments.count)
        var large = (blocks: UInt64(0), pages: UInt64(0))
        snapshot.frames.withReader { frames in
            for (position, seg) in snapshot.segments.enumerated() {
                var tiled = tile(seg, frames, &report)
                suspect[position] = tiled.frameFieldsSuspect
                large.blocks &+= tiled.largeBlocks
                large.pages &+= tiled.largePages
                slabHeads += tiled.slabHeads
                checkLists(seg, &tiled, frames, &report)
                checkBitmaps(seg, tiled, frames, &report)
                if seg.zone < zoneTotals.count { zoneTotals[seg.zone].add(tiled, frames: frameCount) }
                report.framesChecked += seg.pageCount
            }
            for z in snapshot.zones { checkZone(z, zoneTotals[z.index], frames, &report) }
        }
        checkZoneParameters(&report)
        checkFrameFields(&report, suspect: suspect)
        slabHeads.sort()
        checkHeap(&report, slabHeads: slabHeads)
        checkStateFields(&report, large: large)
        checkFreePagePoison(&report)
        return report
    }

    /// What the tiling walk of a segment found: one byte and two bits per frame of the
    /// segment, whatever the guest's state (no dictionaries, no sets).
    struct Tiled {
        /// The segment's first PFN and its frame count.
        let start: UInt64
        let pages: Int
        /// Per frame of the segment: 1 + the order of the free block it heads, 0 if none.
        var freeOrder: [UInt8]
        /// Per frame: 1 + the free-list slot it was last found on, 0 if none (filled by the list walk).
        var listedSlot: [UInt16]
        var freePages: UInt64 = 0
        var allocatedPages: UInt64 = 0
        var reservedPages: UInt64 = 0
        /// Frames on per-CPU lists by their flags (PFNs relative to the segment).
        var cached: FrameBitmap
        /// Frames in use (allocated or reserved), for the allocation bitmap (relative PFNs).
        var inUse: FrameBitmap
        /// Allocated heads flagged SLAB, ascending.
        var slabHeads: [UInt64] = []
        /// Whether some frame of the segment may fail `frame-fields` (a zone other than the
        /// segment's, lastSeq past the sequence, or a frame the walk did not reach): only then
        /// does ``checkFrameFields(_:suspect:)`` read the segment's frames again.
        var frameFieldsSuspect = false
        /// Allocated frames (and heads among them) whose owner is the large heap's
        /// (`state-fields` compares them with `HeapState`'s counters).
        var largePages: UInt64 = 0
        var largeBlocks: UInt64 = 0

        init(_ seg: SegmentSnapshot) {
            start = seg.startPFN
            pages = Int(truncatingIfNeeded: min(seg.pageCount, UInt64(Int32.max)))
            freeOrder = [UInt8](repeating: 0, count: pages)
            listedSlot = []
            cached = FrameBitmap(bits: pages)
            inUse = FrameBitmap(bits: pages)
        }

        /// The order of the free block headed at `pfn`, if the tiling found one there.
        @inline(__always)
        func freeHead(_ pfn: UInt64) -> UInt8? {
            guard pfn >= start, pfn - start < UInt64(pages) else { return nil }
            let o = freeOrder[Int(pfn - start)]
            return o == 0 ? nil : o - 1
        }
    }

    /// A zone's tiled counts and its cached frames (absolute PFNs), summed over its segments.
    struct ZoneTotals {
        var freePages: UInt64 = 0
        var allocatedPages: UInt64 = 0
        var reservedPages: UInt64 = 0
        var cached: FrameBitmap?

        mutating func add(_ t: Tiled, frames: Int) {
            freePages += t.freePages
            allocatedPages += t.allocatedPages
            reservedPages += t.reservedPages
            guard t.cached.count > 0 else { return }
            if cached == nil { cached = FrameBitmap(bits: frames) }
            for (w, word) in t.cached.words.enumerated() where word != 0 {
                var bits = word
                while bits != 0 {
                    _ = cached!.insert(t.start + UInt64(w << 6 + bits.trailingZeroBitCount))
                    bits &= bits - 1
                }
            }
        }
    }

    func zoneName(_ index: Int) -> String? {
        index < snapshot.zones.count ? snapshot.zones[index].name : nil
    }

    /// Walks a segment frame by frame, block by block.
    func tile(_ seg: SegmentSnapshot, _ frames: FrameTable.Reader, _ r: inout VerifyReport) -> Tiled {
        let f = snapshot.flags
        var t = Tiled(seg)
        let zone = zoneName(seg.zone)
        // The large heap's owner when `state-fields` counts its frames.
        let largeOwner = snapshot.stateFields.flatMap { s in
            s.largeOwner.flatMap { s.largeAllocations != nil || s.largePages != nil ? $0 : nil }
        }
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
            guard let m = frames[p] else {
                fail(.tiling, p, "a FrameMeta record", "the frame is past the FrameMeta array")
                t.frameFieldsSuspect = true
                break
            }
            if Int(m.segment) != seg.index { fail(.tiling, p, "segment \(seg.index)", "segment \(m.segment)") }
            if Int(m.zone) != seg.zone || m.lastSeq > snapshot.sequence { t.frameFieldsSuspect = true }
            if let owner = largeOwner, m.owner == owner, m.flags & f.allocated != 0 {
                t.largePages &+= 1
                if m.flags & f.head != 0 { t.largeBlocks &+= 1 }
            }
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
                if state == f.pcp { _ = t.cached.insert(p - seg.startPFN) } else { t.reservedPages += 1; _ = t.inUse.insert(p - seg.startPFN) }
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
                fail(.blockAlignment, p, "an order-\(k) block aligned to \(size) inside the segment", "a block at \(hexOrNone(p))")
            }
            let end = min(p + size, seg.endPFN)
            // Interior frames: one record lookup, then the common case (defined bits only, no
            // quarantine, no head, the block's state, refcount 0, the segment's zone, lastSeq
            // not past the sequence) is one combined test; the checks in full only on a miss.
            let stop = min(end, UInt64(frames.count))
            if stop < end { t.frameFieldsSuspect = true }
            var i = p + 1
            let defined = f.defined, poisoned = f.poisoned, head = f.head, states = f.states
            let odd: UInt32 = (defined != 0 ? ~defined : 0) | poisoned | head
            let lo = frames.layout, segZone = seg.zone, sequence = snapshot.sequence, allocated = f.allocated
            while i < stop {
                let rec = frames.record(i)
                let flags = UInt32(littleEndian: rec.loadUnaligned(fromByteOffset: lo.flags, as: UInt32.self))
                let refcount = UInt32(littleEndian: rec.loadUnaligned(fromByteOffset: lo.refcount, as: UInt32.self))
                let zoneIndex = rec.load(fromByteOffset: lo.zone, as: UInt8.self)
                let lastSeq = UInt64(littleEndian: rec.loadUnaligned(fromByteOffset: lo.lastSeq, as: UInt64.self))
                if flags & odd != 0 || flags & states != state || refcount != 0 || Int(zoneIndex) != segZone || lastSeq > sequence {
                    if (defined != 0 && flags & ~defined != 0) || (poisoned != 0 && flags & poisoned != 0) { checkBits(i, flags) }
                    if flags & head != 0 { fail(.interiorHead, i, "no head inside the block at \(hexOrNone(p))", "head") }
                    if flags & states != state {
                        fail(.tiling, i, "\(isFree ? "free" : "allocated") like its block at \(hexOrNone(p))", "flags 0x\(String(flags, radix: 16))")
                    }
                    if refcount != 0 { fail(.refcount, i, "0", "\(refcount)") }
                    if Int(zoneIndex) != segZone || lastSeq > sequence { t.frameFieldsSuspect = true }
                }
                if let owner = largeOwner, flags & allocated != 0,
                   UInt64(littleEndian: rec.loadUnaligned(fromByteOffset: lo.owner, as: UInt64.self)) == owner {
                    t.largePages &+= 1
                    if flags & head != 0 { t.largeBlocks &+= 1 }
                }
                i += 1
            }
            if isFree {
                if m.refcount != 0 { fail(.refcount, p, "0", "\(m.refcount)") }
                t.freeOrder[Int(p - seg.startPFN)] = UInt8(k + 1)
                t.freePages += end - p
            } else {
                if m.refcount == 0 { fail(.refcount, p, "≥ 1", "0") }
                if m.flags & f.slab != 0 { t.slabHeads.append(p) }
                t.allocatedPages += end - p
                t.inUse.insert((p - seg.startPFN)..<(end - seg.startPFN))
            }
            p = end
        }
        // coalescing: no free block has a free buddy of the same order (the generic rule, on
        // the free heads the tiling found; the bundled kernel merges whatever the migratetypes)
        let heads = t.freeOrder.lazy.enumerated().filter { $0.element != 0 }.map { i, o in
            ListedBlock(pfn: seg.startPFN + UInt64(i), order: Int(o - 1), migratetype: 0)
        }
        let pairs = BlockRules.unmergedBuddies(heads, orderCount: snapshot.maxOrder + 1, restriction: nil) { pfn in
            t.freeHead(pfn).map { ListedBlock(pfn: pfn, order: Int($0), migratetype: 0) }
        }
        for (block, buddy) in pairs {
            fail(.coalescible, block.pfn, "its order-\(block.order) buddy \(hexOrNone(buddy)) not free", "both free")
        }
        return t
    }

    /// Why a link ended a list walk: it leaves the segment or the frame table.
    private struct OutsideTheSegment: Error {}

    /// Walks every free list of a segment through the shared bounded walk (`ListWalk`),
    /// checks each node's record (prev, free head of the list's order and migratetype, on one
    /// list), and runs the buddy-generic list rules (`AllocatorChecks`) on what the walk found:
    /// its break (`free-list-links`) and the list's counter (`counters`).
    func checkLists(_ seg: SegmentSnapshot, _ t: inout Tiled, _ frames: FrameTable.Reader, _ r: inout VerifyReport) {
        let f = snapshot.flags
        let zone = zoneName(seg.zone)
        func fail(_ c: Check, _ p: UInt64?, _ e: String, _ found: String) {
            r.add(Violation(c, zone: zone, segment: seg.index, pfn: p, expected: e, found: found))
        }
        t.listedSlot = [UInt16](repeating: 0, count: t.pages)
        let orders = snapshot.maxOrder + 1
        // Distinct nodes inside the segment number at most its pages: the walk meets a cycle
        // or a link out of the segment before this bound.
        let limit = t.pages + 1
        for mt in 0..<snapshot.migratetypeSlots {
            for k in 0..<orders {
                let slot = mt * orders + k
                guard slot < seg.freeHeads.count, slot < seg.freeCounts.count else { continue }
                let walk = ListWalk.walk(first: seg.freeHeads[slot], terminator: KernelSnapshot.none, limit: limit) { p in
                    guard p >= seg.startPFN && p < seg.endPFN, Int(p - seg.startPFN) < t.pages, let m = frames[p] else {
                        throw OutsideTheSegment()
                    }
                    return m.next
                }
                let mark = UInt16(truncatingIfNeeded: slot + 1)
                var prev = KernelSnapshot.none
                for node in walk.nodes {
                    guard let m = frames[node] else { break }
                    let index = Int(node - seg.startPFN)
                    if m.prev != prev { fail(.freeListLinks, node, "prev \(hexOrNone(prev))", "prev \(hexOrNone(m.prev))") }
                    if m.flags & (f.free | f.head) != (f.free | f.head) || Int(m.order) != k || Int(m.migratetype) != mt {
                        fail(.freeListEntry, node, "a free head of order \(k), migratetype \(mt)",
                             "flags 0x\(String(m.flags, radix: 16)) order \(m.order) migratetype \(m.migratetype)")
                    }
                    if t.listedSlot[index] != 0 {
                        fail(.freeListMembership, node, "one list", "the block on two lists")
                    }
                    t.listedSlot[index] = mark
                    prev = node
                }
                let walked = UInt64(walk.nodes.count)
                let list = FreeList(migratetype: mt, counter: seg.freeCounts[slot], walked: walked, blockPFNs: walk.nodes,
                                    complete: walk.end == .closed)
                let breaks = FreeListCensus.breakReason(walk, head: seg.freeHeads[slot]).map { reason, link in
                    [ListBreak(zone: seg.zone, segment: seg.index, order: k, migratetype: mt, walked: walked, link: link, reason: reason,
                               text: FreeListCensus.BrokenList(zone: seg.zone, segment: seg.index, migratetype: mt, order: k, walked: walked,
                                                               link: link, reason: reason).text(zoneName: zone ?? "zone \(seg.zone)"))]
                } ?? []
                for finding in BuddyChecks.check(list, order: k, breaks: breaks) {
                    switch finding.fact {
                    case .listBroken(let b) where b.reason == FreeListCensus.BrokenList.cycle:
                        fail(.freeListLinks, walk.nodes.last, "the list mt \(mt) order \(k) to end", "a cycle back to \(hexOrNone(b.link ?? KernelSnapshot.none))")
                    case .listBroken(let b):
                        fail(.freeListLinks, walk.nodes.last, "a link inside the segment (list mt \(mt) order \(k))",
                             "link to \(hexOrNone(b.link ?? KernelSnapshot.none))")
                    case .listCounter(_, _, let counter, let walked):
                        fail(.counters, nil, "list mt \(mt) order \(k) count \(walked) (walked)", "\(counter)")
                    default: break
                    }
                }
                if mt >= snapshot.migratetypes && walked != 0 {
                    fail(.unusedList, seg.freeHeads[slot], "empty list for unused slot \(mt)", "\(walked) blocks")
                }
            }
        }
        for (i, o) in t.freeOrder.enumerated() where o != 0 {
            let k = Int(o - 1), slot = Int(t.listedSlot[i])
            let listedOrder = slot == 0 ? nil : Optional((slot - 1) % orders)
            if listedOrder != k {
                fail(.freeListMembership, seg.startPFN + UInt64(i), "the order-\(k) free block on its list",
                     listedOrder.map { "listed as order \($0)" } ?? "on no list")
            }
        }
        if seg.freePages != t.freePages { fail(.counters, nil, "segment free pages \(t.freePages) (tiled)", "\(seg.freePages)") }
        if seg.reservedPages != t.reservedPages { fail(.counters, nil, "segment reserved pages \(t.reservedPages) (tiled)", "\(seg.reservedPages)") }
    }

    /// Zone counters against the segments' tiling, and the zone's per-CPU lists.
    func checkZone(_ z: ZoneSnapshot, _ t: ZoneTotals, _ frames: FrameTable.Reader, _ r: inout VerifyReport) {
        func fail(_ c: Check, _ p: UInt64?, _ e: String, _ found: String) {
            r.add(Violation(c, zone: z.name, pfn: p, expected: e, found: found))
        }
        if z.freePages != t.freePages { fail(.counters, nil, "free pages \(t.freePages) (tiled)", "\(z.freePages)") }
        if z.allocatedPages != t.allocatedPages { fail(.counters, nil, "allocated pages \(t.allocatedPages) (tiled)", "\(z.allocatedPages)") }
        if z.reservedPages != t.reservedPages { fail(.counters, nil, "reserved pages \(t.reservedPages) (tiled)", "\(z.reservedPages)") }
        // guest counters: a sum past 2^64 wraps (and then differs from managed), never traps
        let sum = z.freePages &+ z.cachedPages &+ z.allocatedPages &+ z.reservedPages
        if sum != z.managedPages { fail(.counters, nil, "free + pcp (every CPU) + allocated + reserved = managed \(z.managedPages)", "\(sum)") }
        // Every CPU's cache: its lists walked (links, states, zone, no frame on two lists), its
        // slot counts, tails and drain cursor, and its count against the walk (AllocatorChecks'
        // pcp-count rule, per CPU).
        var cached = FrameBitmap(bits: frames.count)
        for cache in z.perCPU {
            let cpu = "cpu \(cache.cpu) "
            if let cpus = snapshot.cpuCount, cache.cpu >= cpus, !cache.isEmpty {
                fail(.perCPU, nil, "\(cpu)cache empty (only \(cpus) CPU(s) came up)", "count \(cache.count)")
            }
            var walkedAll: UInt64 = 0
            for (slot, head) in cache.heads.enumerated() {
                var prev = KernelSnapshot.none
                var node = head
                var n: UInt64 = 0
                while node != KernelSnapshot.none {
                    guard let m = frames[node], n <= z.managedPages else {
                        fail(.perCPU, node, "\(cpu)a frame of zone \(z.name)", "a link past the FrameMeta array or a list longer than the zone")
                        break
                    }
                    guard cached.insert(node) else { fail(.perCPU, prev, "\(cpu)list \(slot) to end", "a cycle back to \(hexOrNone(node)), or a frame on two lists"); break }
                    if m.flags & snapshot.flags.pcp == 0 || Int(m.zone) != z.index || m.prev != prev {
                        fail(.perCPU, node, "\(cpu)a cached frame of zone \(z.index) with prev \(hexOrNone(prev))",
                             "flags 0x\(String(m.flags, radix: 16)) zone \(m.zone) prev \(hexOrNone(m.prev))")
                    }
                    n += 1
                    prev = node
                    node = m.next
                }
                walkedAll &+= n
                if slot < cache.counts.count, n != cache.counts[slot] { fail(.perCPU, nil, "\(cpu)list \(slot) count \(n) (walked)", "\(cache.counts[slot])") }
                if slot < cache.tails.count, cache.tails[slot] != prev { fail(.perCPU, nil, "\(cpu)list \(slot) tail \(hexOrNone(prev)) (walked)", hexOrNone(cache.tails[slot])) }
            }
            if let finding = CounterRules.check(snapshot.perCPUCache(cache)), case .perCPUCount(_, _, let listed) = finding.fact {
                fail(.perCPU, nil, "\(cpu)pcp count \(listed) (walked)", "\(cache.count)")
            } else if walkedAll != cache.count && cache.heads.isEmpty == false {
                // a list the rule could not close (a broken link, reported above) still has its count compared
                fail(.perCPU, nil, "\(cpu)pcp count \(walkedAll) (walked)", "\(cache.count)")
            }
            if let cursor = cache.drainCursor, cursor >= UInt64(max(cache.heads.count, 1)) {
                fail(.perCPU, nil, "\(cpu)a drain cursor below \(cache.heads.count) (a migratetype slot)", "\(cursor)")
            }
        }
        let tiledCached = t.cached ?? FrameBitmap(bits: frames.count)
        if cached != tiledCached { fail(.perCPU, nil, "\(tiledCached.count) cached frames on the lists", "\(cached.count) listed") }
    }
}
