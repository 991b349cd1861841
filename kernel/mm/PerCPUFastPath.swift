import Synchronization

/// The per-CPU cache hit, done in one pass over the few words it changes: an order-0
/// `allocate` served by a non-empty list of the running CPU's per-CPU cache, and an order-0 `free` that parks the frame
/// without a drain (Linux's `rmqueue_pcplist` / `free_unref_page` fast paths).
///
/// A hit holds only its own CPU's cache lock of that zone, with interrupts off, never a zone
/// lock (kernel/README.md "Per-CPU cache locks"). The zone state it reads (watermarks and free
/// pages to choose the zone, the pageblock tag to choose the list) is read under zone-lock
/// stamps and its sequence number taken only while they hold (`sequenceWhile`), so a replay in
/// sequence order sees what the hit saw; the zone state it changes (`allocatedPages`, the frame's
/// allocation bit) it changes with atomic read-modify-writes, as every zone-lock holder does.
///
/// Each gives exactly the general path's result, state and log entry (kernel/README.md,
/// "Allocation" and "Freeing"): the same list change, the same FrameMeta words, the same
/// counters and allocation bit, one `allocate` or `free` entry. Every check runs before the
/// first change; anything a hit does not cover — page poisoning on, an empty list, a drain
/// due, any misuse, a link that does not point back, a frame in an unexpected state, a zone
/// lock taken by another CPU while the hit looked — returns `nil`/`false` with nothing
/// changed and no sequence number used, and the general path runs and reports it as it
/// always did. The caller counts the attempt in `busy`.
extension PageAllocator {
    /// How often a hit reads the zones again when another CPU took one of their locks while
    /// it looked, before it leaves the request to the general path.
    @inline(__always) static var hitAttempts: Int { 4 }

    /// The frame an order-0 `allocate` takes from a per-CPU list, taken and logged; `nil`
    /// (nothing changed, no sequence number used) when the request is not such a hit.
    @inline(__always)
    func allocatePerCPUHit(_ request: AllocationRequest) -> PFN? {
        guard request.order == 0 && request.alignment == 1 && !poisoning else { return nil }
        return withInterruptsDisabled { (token: borrowing IrqDisabledToken) -> PFN? in
            var attempt = 0
            while attempt < Self.hitAttempts {
                var again = false
                if let pfn = allocatePerCPUHitOnce(request, token, again: &again) { return pfn }
                if !again { return nil }
                attempt += 1
            }
            return nil
        }
    }

    /// One try of ``allocatePerCPUHit(_:)``; `again` when a zone lock was taken meanwhile.
    @inline(__always)
    func allocatePerCPUHitOnce(_ request: AllocationRequest, _ token: borrowing IrqDisabledToken, again: inout Bool) -> PFN? {
        // Pass 0 chooses from the first zone, highest first, that has memory and passes its
        // low watermark; the general path refills that zone's list when it is empty. Each zone
        // looked at is stamped first (its lock free), so the choice is the one a replay makes.
        let highest = min(request.zone.highestZone, ZoneKind.count - 1)
        var stamps = ZoneLockStamps()
        var z = highest
        guard stamp(&stamps, z) else { return nil }
        var zone = self.zone(z)
        while zone.pointee.managedPages == 0 || !watermarkOK(zone, request, highest: highest, pass: 0) {
            if z == 0 { return nil }
            z -= 1
            guard stamp(&stamps, z) else { return nil }
            zone = self.zone(z)
        }
        return withLocalPerCPULock(z, token) { (locked: borrowing PerCPULockHeld) -> PFN? in
            let pcp = locked.cache
            let slot = Int(request.migratetype.rawValue)
            guard pcp.pointee.counts[slot] != 0 else { return nil }
            let pfn = PFN(pcp.pointee.heads[slot])
            guard pfn < frameEnd else { return nil }
            let m = meta(pfn)
            let flags = m.pointee.state
            guard flags.intersection(FrameFlags.stateMask) == .pcp && m.pointee.prevFrame.isNoFrame else { return nil }
            let next = m.pointee.nextFrame
            if next.isNoFrame {
                guard pcp.pointee.tails[slot] == pfn.raw else { return nil }
            } else {
                guard next < frameEnd && meta(next).pointee.prevFrame == pfn else { return nil }
            }
            let s = Int(m.pointee.segment)
            guard s < segmentCount else { return nil }
            let seg = segment(s)
            guard let seq = sequenceWhile(stamps) else { again = true; return nil }

            // Off the list (its head).
            pcp.pointee.heads[slot] = next.raw
            if next.isNoFrame { pcp.pointee.tails[slot] = Kmem.none } else { meta(next).pointee.prevFrame = .noFrame }
            pcp.pointee.counts[slot] &-= 1
            pcp.pointee.count &-= 1
            // PCP → ALLOCATED|HEAD: the `handOut` move, as `markAllocated` makes it for one frame
            // (the guard above already asked for state exactly PCP; `transition` checks it again).
            transition(m, .handOut, head: true, add: request.migratetype == .unmovable ? .kernel : .user, stamp: false)
            m.pointee.order = 0
            m.pointee.migratetype = request.migratetype.rawValue
            m.pointee.refcount = 1
            m.pointee.owner = request.owner
            m.pointee.nextFrame = .noFrame
            m.pointee.prevFrame = .noFrame
            m.pointee.lastSeq = seq
            setInUseBit(seg, pfn, true)
            addAllocated(self.zone(of: seg), 1)
            record(seq, .allocate, status: .ok, order: 0, migratetype: request.migratetype.rawValue,
                   zone: request.zone.rawValue, flags: request.ignoreWatermarks ? 1 : 0, alignment: 1,
                   result: pfn.raw, owner: request.owner)
            return pfn
        }
    }

    /// Frees an order-0 block onto its zone's per-CPU list and logs it, when that needs no
    /// drain; `false` (nothing changed, no sequence number used) otherwise.
    @inline(__always)
    func freePerCPUHit(_ pfn: PFN, order: Int, heap: Bool) -> Bool {
        guard order == 0 && !poisoning && pfn < frameEnd else { return false }
        return withInterruptsDisabled { (token: borrowing IrqDisabledToken) -> Bool in
            var attempt = 0
            while attempt < Self.hitAttempts {
                var again = false
                if freePerCPUHitOnce(pfn, heap: heap, token, again: &again) { return true }
                if !again { return false }
                attempt += 1
            }
            return false
        }
    }

    /// One try of ``freePerCPUHit(_:order:heap:)``; `again` when a zone lock was taken meanwhile.
    @inline(__always)
    func freePerCPUHitOnce(_ pfn: PFN, heap: Bool, _ token: borrowing IrqDisabledToken, again: inout Bool) -> Bool {
        let m = meta(pfn)
        let s = Int(m.pointee.segment)
        guard s < segmentCount else { return false }
        let seg = segment(s)
        guard seg.pointee.contains(pfn) else { return false }
        let z = Int(seg.pointee.zone)
        guard z < ZoneKind.count else { return false }
        var stamps = ZoneLockStamps()
        guard stamp(&stamps, z) else { return false }
        return withLocalPerCPULock(z, token) { (locked: borrowing PerCPULockHeld) -> Bool in
            let flags = m.pointee.state
            guard flags.intersection([.free, .allocated, .reserved, .pcp, .head, .slab]) == [.allocated, .head],
                  m.pointee.order == 0, m.pointee.refcount == 1,
                  heap || m.pointee.owner != Kmem.largeHeapOwner else { return false }
            let pcp = locked.cache
            guard pcp.pointee.count < pcp.pointee.high else { return false }  // a drain follows
            let slot = pageblockMigratetype(segment: seg, pfn: pfn)
            guard let seq = sequenceWhile(stamps) else { again = true; return false }

            // ALLOCATED → FREE → PCP: the `free` then `cache` moves, as `markFreed` and then
            // `pushPerCPU` make them (the guard above asked for state exactly ALLOCATED|HEAD).
            transition(m, .free, head: false, stamp: false)
            transition(m, .cache, head: false, stamp: false)
            m.pointee.order = 0
            m.pointee.migratetype = UInt8(slot)
            m.pointee.refcount = 0
            m.pointee.owner = 0
            m.pointee.lastSeq = seq
            setInUseBit(seg, pfn, false)
            addAllocated(zone(z), 0 &- 1)
            linkFront(pfn, head: perCPUHead(pcp, slot), tail: perCPUTail(pcp, slot))
            pcp.pointee.counts[slot] &+= 1
            pcp.pointee.count &+= 1
            record(seq, .free, status: .ok, order: 0, address: pfn.raw, result: 1)
            return true
        }
    }

    /// Adds `n` (wrapping: `0 &- k` subtracts) to a zone's `freePages`, which only zone-lock
    /// holders change, as a relaxed atomic load and store (a plain `mov` each on x86): cache hits
    /// read it without the zone's lock, as a seqcount read (`freePagesRead`), so both sides are
    /// atomic accesses (Linux's `READ_ONCE`/`WRITE_ONCE` on a zone counter).
    @inline(__always)
    func addFree(_ zone: UnsafeMutablePointer<Zone>, _ n: UInt64) {
        let w = atomicWord(Self.address(of: &zone.pointee.freePages))
        w.pointee.store(w.pointee.load(ordering: .relaxed) &+ n, ordering: .relaxed)
    }

    /// A zone's `freePages`, read atomically (see `addFree`).
    @inline(__always)
    func freePagesRead(_ zone: UnsafeMutablePointer<Zone>) -> UInt64 {
        atomicWord(Self.address(of: &zone.pointee.freePages)).pointee.load(ordering: .relaxed)
    }

    /// Adds `n` (wrapping: `0 &- k` subtracts) to a zone's `allocatedPages` with `lock xadd`:
    /// cache hits change it without the zone's lock, so every writer changes it atomically.
    @inline(__always)
    func addAllocated(_ zone: UnsafeMutablePointer<Zone>, _ n: UInt64) {
        atomicWord(Self.address(of: &zone.pointee.allocatedPages)).pointee.wrappingAdd(n, ordering: .relaxed)
    }

    /// Sets or clears the allocation-bitmap bit of one frame (`markInUse` of one frame) with a
    /// `lock or` / `lock and`: a word holds 64 frames' bits, and cache hits on other CPUs change
    /// their frames' bits without the zone's lock, so every writer of a single bit does it
    /// atomically (a whole word is only ever stored for 64 frames of one block, which no hit
    /// holds).
    @inline(__always)
    func setInUseBit(_ seg: UnsafeMutablePointer<Segment>, _ pfn: PFN, _ inUse: Bool) {
        let bit = pfn.raw &- seg.pointee.startPFN
        let w = atomicWord(words(seg.pointee.allocBitmap) + Int(bit >> 6))
        if inUse {
            w.pointee.bitwiseOr(1 &<< (bit & 63), ordering: .relaxed)
        } else {
            w.pointee.bitwiseAnd(~(1 &<< (bit & 63)), ordering: .relaxed)
        }
    }
}
