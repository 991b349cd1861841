/// "Freeing (`free`)" of kernel/README.md, and the misuse it must catch ("Errors change nothing").
extension ModelState {
    /// `free(pfn, order)` through the page API.
    @discardableResult
    public mutating func free(_ pfn: UInt64, order: Int) -> ModelResult {
        freePages(pfn, order: order, byHeap: false)
    }

    /// A free; `byHeap` for the heap's own nested frees of its slab pages and large blocks
    /// (only `kfree` may release those).
    mutating func freePages(_ pfn: UInt64, order: Int, byHeap: Bool) -> ModelResult {
        let seq = beginOperation()
        return operation(seq, entry(seq, .free, order: order, address: pfn)) { m in
            guard m.checkFree(pfn, order: order, byHeap: byHeap) == nil else { return .misuse }
            m.release(pfn, order: order)
            return .ok(1)
        }
    }

    /// The misuse a free must report, checked before anything changes: "invalid order …, address
    /// outside managed memory, double free (also of a cached frame), wrong order, free of a
    /// reserved (or quarantined) frame, of a frame inside a block, of a slab page or of a large
    /// heap block through the page API …, bad refcount".
    func checkFree(_ pfn: UInt64, order: Int, byHeap: Bool) -> ModelMisuse? {
        guard order >= 0 && order <= Self.maxOrder else { return ModelMisuse(what: "invalid order", at: pfn) }
        guard segmentIndex(of: pfn) != nil else { return ModelMisuse(what: "address outside managed memory", at: pfn) }
        if cached[pfn] != nil || freeHead(containing: pfn) != nil { return ModelMisuse(what: "double free", at: pfn) }
        if reserved[pfn] != nil { return ModelMisuse(what: "free of reserved frame", at: pfn) }
        guard let head = allocatedHead(containing: pfn), let b = allocated[head] else {
            return ModelMisuse(what: "free of a frame that is not allocated", at: pfn)
        }
        if head != pfn { return ModelMisuse(what: "free of a frame inside a block", at: pfn) }
        if !byHeap && (b.slab || heap.large[pfn] != nil) { return ModelMisuse(what: "free of a heap page through the page API", at: pfn) }
        if b.order != order { return ModelMisuse(what: "free with wrong order", at: pfn) }
        if b.refcount != 1 { return ModelMisuse(what: "free of a page with bad refcount", at: pfn) }
        return nil
    }

    /// An allocated block given back: "order 0 is pushed on the zone's per-CPU list of its
    /// pageblock's migratetype; if the cache then holds more than `high` frames, `batch` frames
    /// are drained. Larger blocks merge with their buddy …"
    mutating func release(_ pfn: UInt64, order: Int) {
        allocated[pfn] = nil
        let z = segments[segmentIndex(of: pfn)!].zone
        zones[z].allocatedPages -= Self.pages(order)
        if order == 0 {
            let mt = tag(of: pfn)
            zones[z].caches[cpu].lists[mt].insert(pfn, at: 0)
            cached[pfn] = mt
            if zones[z].caches[cpu].count > zones[z].pcpHigh {
                events.highDrains += 1
                drainFrames(zone: z, all: false)
            }
        } else {
            freeToBuddy(pfn, order: order)
        }
    }

    /// "Larger blocks merge with their buddy at each order while the buddy is in the same segment
    /// and is a free head of the same order … Merging stops at order 11. The result is pushed on
    /// the list of its head pageblock's migratetype; a block of pageblock order or more retags all
    /// its pageblocks to that migratetype first."
    ///
    /// The kernel asks the parity bit whether the buddy is a free head; the model has no bitmap
    /// and asks its table of free blocks, which is what the parity bit stands for.
    mutating func freeToBuddy(_ pfn: UInt64, order: Int) {
        let s = segmentIndex(of: pfn)!
        var head = pfn
        var k = order
        while k < Self.maxOrder {
            let buddy = head ^ Self.pages(k)
            guard segments[s].contains(buddy), let b = freeBlocks[buddy], b.order == k else { break }
            unlinkFree(buddy, segment: s)
            head = min(head, buddy)
            k += 1
        }
        let mt = tag(of: head)
        if k >= Self.pageblockOrder {
            var p = head
            while p < head + Self.pages(k) { setTag(p, mt); p += Self.pages(Self.pageblockOrder) }
        }
        pushFree(head, order: k, mt: mt, segment: s)
    }
}
