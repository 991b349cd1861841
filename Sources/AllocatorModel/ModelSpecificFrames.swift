/// "Specific frames" of kernel/README.md: `allocateFrame(pfn)` and `reserveRange(start, count)`.
extension ModelState {
    /// "`allocateFrame(pfn)` takes one frame that is free or cached"; busy: failed (result 0);
    /// not managed memory: misuse.
    @discardableResult
    public mutating func allocateFrame(_ pfn: UInt64, migratetype mt: Int, owner: UInt64) -> ModelResult {
        let seq = beginOperation()
        return operation(seq, entry(seq, .allocateFrame, migratetype: mt, address: pfn, owner: owner)) { m in
            guard let s = m.segmentIndex(of: pfn), mt >= 0 && mt < Self.migratetypes else { return .misuse }
            guard m.isTakable(pfn) else { return .failed(0) }
            // "allocateFrame and reserveRange check the frames they would take the same way: a bad
            // one is quarantined and the operation fails (failed, nothing else changed)."
            if let bad = m.poisonCheck(seq, frames: pfn..<(pfn + 1)) {
                m.quarantine(bad)
                return .failed(0)
            }
            m.take(pfn)
            m.allocated[pfn] = AllocatedBlock(order: 0, migratetype: mt, owner: owner, lastSeq: seq)
            m.zones[m.segments[s].zone].allocatedPages += 1
            return .ok(1)
        }
    }

    /// "`reserveRange(start, count)` does the same for every frame of the range in PFN order when
    /// all are free or cached (else it fails and changes nothing)." A range of 0 frames, one that
    /// wraps, or one reaching outside managed memory is misuse.
    @discardableResult
    public mutating func reserveRange(start: UInt64, count: UInt64, owner: UInt64) -> ModelResult {
        let seq = beginOperation()
        return operation(seq, entry(seq, .reserveRange, size: count, address: start, owner: owner)) { m in
            guard count > 0, start <= UInt64.max - count else { return .misuse }
            let range = start..<(start + count)
            // Each frame must be managed; checked frame by frame only for short ranges' sake of
            // clarity: a range is at most a segment long, longer ones cannot all be managed.
            guard count <= m.segments.reduce(0, { $0 + ($1.endPFN - $1.startPFN) }),
                  range.allSatisfy({ m.segmentIndex(of: $0) != nil }) else { return .misuse }
            guard range.allSatisfy({ m.isTakable($0) }) else { return .failed(0) }
            if let bad = m.poisonCheck(seq, frames: range) {
                m.quarantine(bad)
                return .failed(0)
            }
            for pfn in range {
                m.take(pfn)
                m.reserved[pfn] = ReservedFrame(owner: owner, quarantined: false, lastSeq: seq)
                let s = m.segmentIndex(of: pfn)!
                m.segments[s].reservedPages += 1
                m.zones[m.segments[s].zone].reservedPages += 1
            }
            return .ok(1)
        }
    }

    /// "`unreserve(start, count)` gives a range back: every frame must be RESERVED by
    /// `reserveRange` (not quarantined: owner 0x0bad0000), else misuse; each frame, in PFN order,
    /// is freed to the buddy lists as an order-0 block (merging as above; never through the
    /// per-CPU cache)." The range itself is checked as `reserveRange` checks it.
    @discardableResult
    public mutating func unreserve(start: UInt64, count: UInt64) -> ModelResult {
        let seq = beginOperation()
        return operation(seq, entry(seq, .unreserve, size: count, address: start)) { m in
            guard count > 0, start <= UInt64.max - count,
                  count <= m.segments.reduce(0, { $0 + ($1.endPFN - $1.startPFN) }) else { return .misuse }
            let range = start..<(start + count)
            guard range.allSatisfy({ m.reserved[$0].map { !$0.quarantined } ?? false }) else { return .misuse }
            for pfn in range {
                m.reserved[pfn] = nil
                let s = m.segmentIndex(of: pfn)!
                m.segments[s].reservedPages -= 1
                m.zones[m.segments[s].zone].reservedPages -= 1
                m.freeToBuddy(pfn, order: 0)
            }
            return .ok(1)
        }
    }

    /// Free or cached: what a specific-frame claim may take.
    func isTakable(_ pfn: UInt64) -> Bool { cached[pfn] != nil || freeHead(containing: pfn) != nil }

    /// Takes one free or cached frame out of the lists: "a cached frame leaves its per-CPU list; a
    /// free frame's block is unlinked and split down around it, at each order from the block's
    /// order − 1 to 0 pushing the half that does not hold the frame on the block's migratetype list."
    mutating func take(_ pfn: UInt64) {
        if cached[pfn] != nil {
            removeCached(pfn)
            return
        }
        let head = freeHead(containing: pfn)!
        let b = freeBlocks[head]!
        let s = segmentIndex(of: pfn)!
        unlinkFree(head, segment: s)
        splitAround(pfn, head: head, order: b.order, mt: b.migratetype, segment: s)
    }
}
