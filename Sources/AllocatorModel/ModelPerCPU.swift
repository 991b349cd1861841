/// The order-0 per-CPU cache: the "Order 0 with alignment 1" clause of "Allocation", and
/// "Draining".
extension ModelState {
    /// "Order 0 with alignment 1 goes through the calling CPU's per-CPU list (`cpu`) of the requested
    /// migratetype: when that list is empty it is first refilled with `batch` frames, each taken
    /// as an order-0 request of that migratetype from the zone's buddy lists (as below,
    /// watermarks not tested again) and pushed on the per-CPU list, stopping early when the buddy
    /// lists have none; then the first frame of the list is handed out (none: the zone yields nothing)."
    mutating func takeFromPerCPU(_ seq: UInt64, zone z: Int, mt: Int) -> ZoneYield {
        if zones[z].caches[cpu].lists[mt].isEmpty {
            events.refills += 1
            for _ in 0..<zones[z].pcpBatch {
                guard let c = findCandidate(zone: z, order: 0, mt: mt, alignment: 1) else { break }
                commit(c, order: 0, mt: mt)
                zones[z].caches[cpu].lists[mt].insert(c.head, at: 0)
                cached[c.head] = mt
            }
        }
        guard let pfn = zones[z].caches[cpu].lists[mt].first else { return .nothing }
        // "When an allocation has chosen what it hands out (a per-CPU frame, …) … it checks the pattern"
        if let bad = poisonCheck(seq, frames: pfn..<(pfn + 1)) {
            quarantine(bad)
            return .quarantined
        }
        zones[z].caches[cpu].lists[mt].removeFirst()
        cached[pfn] = nil
        return .block(pfn)
    }

    /// `drainPerCPU(zone, all)` of the running CPU's cache (`cpu`): misuse when the zone does not exist.
    @discardableResult
    public mutating func drainPerCPU(zone z: Int, all: Bool) -> ModelResult {
        let seq = beginOperation()
        return operation(seq, entry(seq, .drain, order: all ? 1 : 0, zone: z)) { m in
            guard z >= 0 && z < m.zones.count else { return .misuse }
            m.drainFrames(zone: z, all: all)
            return .ok(1)
        }
    }

    /// "Draining … frees the coldest frames round-robin, as Linux's free_pcppages_bulk: until
    /// `batch` frames (or, for a full drain, all) went or the cache is empty: if the list of slot
    /// `pcp.drainCursor` is empty the cursor moves to the next slot (0…3, wrapping); else its last
    /// frame (the tail) is taken and the cursor moves to the next slot. Each drained frame is freed
    /// to the buddy lists as an order-0 block (merging as above). The cursor persists."
    mutating func drainFrames(zone z: Int, all: Bool) {
        var went: UInt64 = 0
        while (all || went < zones[z].pcpBatch) && zones[z].caches[cpu].count > 0 {
            let slot = zones[z].caches[cpu].drainCursor
            zones[z].caches[cpu].drainCursor = (slot + 1) % Self.migratetypeSlots
            guard let pfn = zones[z].caches[cpu].lists[slot].popLast() else { continue }
            cached[pfn] = nil
            freeToBuddy(pfn, order: 0)
            went += 1
            events.drainedFrames += 1
        }
    }

    /// Moves frame `pfn` off its per-CPU list, whichever CPU's it is (`allocateFrame`,
    /// `reserveRange`, a quarantine).
    mutating func removeCached(_ pfn: UInt64) {
        guard let slot = cached.removeValue(forKey: pfn) else { return }
        let z = segments[segmentIndex(of: pfn)!].zone
        for c in zones[z].caches.indices {
            if let i = zones[z].caches[c].lists[slot].firstIndex(of: pfn) { zones[z].caches[c].lists[slot].remove(at: i); return }
        }
    }
}
