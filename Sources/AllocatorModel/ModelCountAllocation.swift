/// "Count-based allocation" of kernel/README.md: `allocateCount(count, …)` and
/// `freeCount(pfn, count)`.
extension ModelState {
    /// The smallest order k with 2^k ≥ count, at most 11 (what the log's `order` says, also of
    /// a count refused as misuse).
    static func order(holding count: UInt64) -> Int {
        var k = 0
        while k < Self.maxOrder && Self.pages(k) < count { k += 1 }
        return k
    }

    /// `[start, end)` as maximal aligned blocks from the low end up: (head, order) pairs.
    static func maximalBlocks(_ start: UInt64, _ end: UInt64) -> [(UInt64, Int)] {
        var blocks: [(UInt64, Int)] = []
        var p = start
        while p < end {
            var k = Self.maxOrder
            while k > 0 && (p % Self.pages(k) != 0 || p + Self.pages(k) > end) { k -= 1 }
            blocks.append((p, k))
            p += Self.pages(k)
        }
        return blocks
    }

    /// "`allocateCount(count, alignment, …)` with 1 ≤ count ≤ 2^11 allocates a block of the
    /// smallest order k with 2^k ≥ count (same request otherwise, as one `allocate`), then gives
    /// back the tail `[pfn + count, pfn + 2^k)`: cut into maximal aligned blocks from the low end
    /// up, each marked free and pushed on the list of its pageblock's migratetype (no merging …).
    /// The kept `count` frames are maximal aligned blocks from `pfn` up, each an allocated block
    /// of its own (HEAD, order, refcount 1)."
    @discardableResult
    public mutating func allocateCount(_ count: UInt64, migratetype mt: Int, zone highest: Int, alignment: UInt64,
                                       owner: UInt64) -> ModelResult {
        let seq = beginOperation()
        let order = Self.order(holding: count)
        let e = entry(seq, .allocateCount, order: order, migratetype: mt, zone: highest, alignment: alignment, size: count, owner: owner)
        return operation(seq, e) { m in
            guard count >= 1 && count <= Self.pages(Self.maxOrder), alignment != 0, alignment & (alignment - 1) == 0,
                  mt >= 0 && mt < Self.migratetypes, highest >= 0 && highest < m.zones.count else { return .misuse }
            guard let pfn = m.allocateBlock(seq, order: order, mt: mt, highest: highest, alignment: alignment, owner: owner,
                                            ignoreWatermarks: false) else { return .failed(.max) }
            m.keep(count, of: pfn, order: order, mt: mt, owner: owner, seq: seq)
            return .ok(pfn)
        }
    }

    /// Turns the allocated order-`order` block at `pfn` into the kept `count` frames and gives
    /// the tail back.
    mutating func keep(_ count: UInt64, of pfn: UInt64, order: Int, mt: Int, owner: UInt64, seq: UInt64) {
        guard count < Self.pages(order) else { return }
        let s = segmentIndex(of: pfn)!
        allocated[pfn] = nil
        for (p, k) in Self.maximalBlocks(pfn + count, pfn + Self.pages(order)) {
            pushFree(p, order: k, mt: tag(of: p), segment: s)
        }
        for (p, k) in Self.maximalBlocks(pfn, pfn + count) {
            allocated[p] = AllocatedBlock(order: k, migratetype: mt, owner: owner, lastSeq: seq)
        }
        zones[segments[s].zone].allocatedPages -= Self.pages(order) - count
    }

    /// "`freeCount(pfn, count)` frees exactly that decomposition, lowest block first, each as
    /// `free` does; misuse (nothing changed) unless every piece is an allocated head of the
    /// expected order with refcount 1."
    @discardableResult
    public mutating func freeCount(_ pfn: UInt64, count: UInt64) -> ModelResult {
        let seq = beginOperation()
        return operation(seq, entry(seq, .freeCount, size: count, address: pfn)) { m in
            guard count >= 1 && count <= Self.pages(Self.maxOrder), pfn <= UInt64.max - count else { return .misuse }
            let pieces = Self.maximalBlocks(pfn, pfn + count)
            guard pieces.allSatisfy({ m.checkFree($0.0, order: $0.1, byHeap: false) == nil }) else { return .misuse }
            for (p, k) in pieces { m.release(p, order: k) }
            return .ok(1)
        }
    }
}
