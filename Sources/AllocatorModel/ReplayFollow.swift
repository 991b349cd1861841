import BundledState

/// After a divergence the model follows the kernel: the kernel's outcome of the operation is
/// applied instead of the model's (exactly the block the kernel took), so one difference does
/// not cascade.
extension ModelState {
    /// Applies the kernel's outcome of one operation (its entries) instead of the model's.
    mutating func follow(_ group: ArraySlice<OpLogRecord>) {
        keepsLog = false
        defer { keepsLog = true }
        let top = group[group.startIndex]
        cpu = Int(top.cpu) % Self.maxCPUs
        for r in group where r.kind == .quarantine && r.status == 0 && isTakable(r.address) {
            take(r.address)
            reserved[r.address] = ReservedFrame(owner: Self.quarantineOwner, quarantined: true, lastSeq: r.sequence)
            let s = segmentIndex(of: r.address)!
            segments[s].reservedPages += 1
            zones[segments[s].zone].reservedPages += 1
        }
        for r in group where r.kind == .allocate && r.parent != 0 && r.status == 0 {
            guard forceAllocate(r) else { continue }
            if r.owner >= Self.slabOwnerBase && r.owner < Self.slabOwnerBase + UInt64(heap.caches.count) {
                let c = Int(r.owner - Self.slabOwnerBase)
                allocated[r.result]?.slab = true
                let base = heap.address(of: r.result)
                heap.slabs[r.result] = ModelHeap.Slab(cache: c, free: (0..<heap.caches[c].objectsPerSlab).map { base + $0 * heap.caches[c].objectSize }, inUse: 0)
                heap.caches[c].partial.insert(r.result, at: 0)
            } else if r.owner == Self.largeHeapOwner {
                heap.large[r.result] = Int(r.order)
            }
        }
        guard top.status == 0, let op = ModelOperation(top) else { return }
        switch op {
        case .allocate: forceAllocate(top)
        case let .allocateCount(count, mt, _, _, owner):
            if forceAllocate(top) { keep(count, of: top.result, order: Int(top.order), mt: mt, owner: owner, seq: top.sequence) }
        case .free, .allocateFrame, .reserveRange, .drainPerCPU, .kfree, .unreserve, .get, .put, .freeCount, .addMemory:
            // These have one legal outcome: the model's own, when the kernel's was legal.
            let pre = brokenRules([top][...])
            if pre.reasons.isEmpty { apply(op) }
        case .kmalloc:
            let a = top.result
            let pfn = (a &- heap.directMap) / Self.pageSize
            guard var slab = heap.slabs[pfn], let i = slab.free.firstIndex(of: a) else { return }
            slab.free.remove(at: i)
            slab.inUse += 1
            heap.slabs[pfn] = slab
            heap.caches[slab.cache].inUse += 1
            if slab.free.isEmpty {
                heap.caches[slab.cache].partial.removeAll { $0 == pfn }
                heap.caches[slab.cache].full.insert(pfn, at: 0)
            }
        }
    }

    /// Takes exactly the block an allocate entry names, if all its frames are free or cached.
    @discardableResult
    mutating func forceAllocate(_ r: OpLogRecord) -> Bool {
        let k = Int(r.order), p = r.result
        // the logged block is guest data: one that wraps past the top of the PFN space is no block
        guard k <= Self.maxOrder, r.status == 0, p <= UInt64.max - Self.pages(k) else { return false }
        let range = p..<(p + Self.pages(k))
        guard let s = segmentIndex(of: p), segments[s].contains(range.upperBound - 1), range.allSatisfy(isTakable) else { return false }
        carve(range, segment: s)
        allocated[p] = AllocatedBlock(order: k, migratetype: Int(r.migratetype), owner: r.owner, lastSeq: r.sequence)
        zones[segments[s].zone].allocatedPages += Self.pages(k)
        return true
    }

    /// Takes every frame of `range` (all free or cached) out of the lists; the parts of free
    /// blocks outside it go back as aligned blocks of their list.
    mutating func carve(_ range: Range<UInt64>, segment s: Int) {
        var p = range.lowerBound
        while p < range.upperBound {
            if cached[p] != nil {
                removeCached(p)
                p += 1
                continue
            }
            let head = freeHead(containing: p)!
            let b = freeBlocks[head]!
            unlinkFree(head, segment: s)
            func give(_ h: UInt64, _ k: Int) {
                let end = h + Self.pages(k)
                if end <= range.lowerBound || h >= range.upperBound { pushFree(h, order: k, mt: b.migratetype, segment: s) }
                else if h < range.lowerBound || end > range.upperBound { give(h, k - 1); give(h + Self.pages(k - 1), k - 1) }
            }
            give(head, b.order)
            p = min(head + Self.pages(b.order), range.upperBound)
        }
    }
}
