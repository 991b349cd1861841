import AllocatorView
import BundledState

/// The slab heap's checks (SLUB's `validate_slab` in spirit), from the snapshot's slab pages.
extension Verifier {
    /// `slabHeads`: the allocated SLAB heads the tiling found, ascending.
    func checkHeap(_ r: inout VerifyReport, slabHeads: [UInt64]) {
        guard let heap = snapshot.heap else { return }
        let f = snapshot.flags
        var listed: Set<UInt64> = []
        for c in heap.caches {
            func fail(_ check: Check, _ p: UInt64?, _ e: String, _ found: String) {
                r.add(Violation(check, cache: c.name, pfn: p, expected: e, found: found))
            }
            var inUse: UInt64 = 0
            for full in [false, true] {  // partial list, then full
                var prev = KernelSnapshot.none
                var p = full ? c.fullHead : c.partialHead
                var n: UInt64 = 0
                while p != KernelSnapshot.none {
                    guard let m = snapshot.frames[p], let page = heap.pages[p] else {
                        fail(.slabStructure, p, "a slab page", "a link past the FrameMeta array or an unread page")
                        break
                    }
                    guard listed.insert(p).inserted else { fail(.slabStructure, prev, "the \(full ? "full" : "partial") list to end", "a cycle or a page on two lists"); break }
                    if m.prev != prev { fail(.slabStructure, p, "prev \(hexOrNone(prev))", "prev \(hexOrNone(m.prev))") }
                    if m.flags & (f.slab | f.allocated | f.head) != (f.slab | f.allocated | f.head) || m.owner != heap.slabOwnerBase + UInt64(c.index) {
                        fail(.slabStructure, p, "an allocated SLAB page of \(c.name)", "flags 0x\(String(m.flags, radix: 16)) owner 0x\(String(m.owner, radix: 16))")
                    }
                    let used = checkSlab(c, p, m, page, heap, &r)
                    if full && used != c.objectsPerSlab { fail(.slabStructure, p, "a full slab (\(c.objectsPerSlab) in use)", "\(used) in use") }
                    if !full && (used == 0 || used == c.objectsPerSlab) { fail(.slabStructure, p, "a partial slab", "\(used) of \(c.objectsPerSlab) in use") }
                    inUse += used
                    n += 1
                    prev = p
                    p = m.next
                }
                let counted = full ? c.fullSlabs : c.partialSlabs
                if n != counted { fail(.slabStructure, nil, "\(full ? "full" : "partial") slabs \(n) (walked)", "\(counted)") }
            }
            if inUse != c.inUse { fail(.slabStructure, nil, "objects in use \(inUse) (walked)", "\(c.inUse)") }
            if let a = c.allocations, let f = c.frees, a &- f != c.inUse {
                fail(.slabStructure, nil, "objects in use = allocations \(a) - frees \(f)", "\(c.inUse)")
            }
            if c.objectSize == 0 || c.objectsPerSlab != snapshot.pageSize / c.objectSize {
                fail(.slabStructure, nil, "page size / object size objects per slab", "\(c.objectsPerSlab) of \(c.objectSize) bytes")
            }
        }
        var last: UInt64?
        for p in slabHeads where p != last && !listed.contains(p) {
            last = p
            r.add(Violation(.slabStructure, pfn: p, expected: "the SLAB page on its cache's list", found: "on no list"))
        }
    }

    /// Walks one slab's in-page free list; returns the objects in use.
    func checkSlab(_ c: HeapSnapshot.Cache, _ pfn: UInt64, _ m: FrameRecord, _ page: [UInt8], _ heap: HeapSnapshot,
                   _ r: inout VerifyReport) -> UInt64 {
        func fail(_ check: Check, _ e: String, _ found: String) {
            r.add(Violation(check, cache: c.name, pfn: pfn, expected: e, found: found))
        }
        let base = heap.directMap &+ pfn &* snapshot.pageSize
        // Both sizes are guest data: their product must not trap (fuzz-descriptor, 2026-11-30).
        let (bytes, wrapped) = c.objectsPerSlab.multipliedReportingOverflow(by: c.objectSize)
        guard c.objectSize >= 8, !wrapped, bytes <= UInt64(page.count) else {
            fail(.slabStructure, "a cache whose objects fit a page", "\(c.objectsPerSlab) × \(c.objectSize) bytes")
            return 0
        }
        var free: Set<UInt64> = []
        var object = m.slabFree
        while object != 0 {
            guard object >= base, object - base < UInt64(page.count), (object - base) % c.objectSize == 0,
                  (object - base) / c.objectSize < c.objectsPerSlab else {
                fail(.slabStructure, "free objects inside the slab at \(hexOrNone(base))", "a free pointer to \(hexOrNone(object))")
                break
            }
            guard free.insert(object).inserted else { fail(.slabStructure, "the free list to end", "a cycle back to \(hexOrNone(object))"); break }
            let at = Int(object - base)
            for i in 8..<Int(c.objectSize) where page[at + i] != heap.poison {
                fail(.slabPoison, "0x\(String(heap.poison, radix: 16)) in free object \(hexOrNone(object)) at offset \(i)",
                     "0x\(String(page[at + i], radix: 16))")
                break
            }
            object = page[at..<(at + 8)].reversed().reduce(0) { $0 << 8 | UInt64($1) }
        }
        let used = c.objectsPerSlab - UInt64(free.count)
        let info = (c.objectsPerSlab << 32) | used
        if m.slabInfo != info { fail(.slabStructure, "slab info 0x\(String(info, radix: 16)) (walked)", "0x\(String(m.slabInfo, radix: 16))") }
        return used
    }
}
