/// Ways to corrupt the allocator's or heap's state on purpose, silently (past every check
/// of the fast path), so the toolkit's detection is tested against real corruption.
public enum FaultKind: UInt8, Sendable, CaseIterable {
    /// A free block is put on its free list a second time (the list now loops through it).
    case doubleFree = 0
    /// A free-list `next` points at a block whose `prev` does not point back.
    case brokenLink
    /// The last block of a free list points back to the first.
    case listCycle
    /// A parity bit is flipped.
    case parityFlip
    /// An allocation bit of a free frame is set.
    case allocBitmapFlip
    /// A free block's head carries the wrong order.
    case wrongOrder
    /// A zone's free-page counter drifts by one.
    case counterDrift
    /// A free block is unlinked from every list (its list count follows, page counters don't).
    case lostBlock
    /// An allocated frame is also put on a free list: both free and allocated.
    case overlap
    /// An allocated block's head loses its last reference (refcount 0) without being freed.
    case refcount
    /// A pageblock holding a free block is retagged to the other migratetype.
    case pageblockTag
    /// A slab's first-free pointer points outside its slab.
    case slabFreelist
    /// A byte is written into a poisoned free slab object.
    case useAfterFree

    /// The name used on the kernel command line (`fault=NAME@SEQ`) and in reports.
    public var name: StaticString {
        switch self {
        case .doubleFree: return "double-free"
        case .brokenLink: return "broken-link"
        case .listCycle: return "list-cycle"
        case .parityFlip: return "parity-flip"
        case .allocBitmapFlip: return "alloc-bitmap-flip"
        case .wrongOrder: return "wrong-order"
        case .counterDrift: return "counter-drift"
        case .lostBlock: return "lost-block"
        case .overlap: return "overlap"
        case .refcount: return "refcount"
        case .pageblockTag: return "pageblock-tag"
        case .slabFreelist: return "slab-freelist"
        case .useAfterFree: return "use-after-free"
        }
    }

    /// The kind named by `bytes[0..<count]`, if any.
    public static func named(_ bytes: UnsafePointer<UInt8>, count: Int) -> FaultKind? {
        var raw: UInt8 = 0
        while let k = FaultKind(rawValue: raw) {
            let n = k.name
            if n.utf8CodeUnitCount == count {
                var same = true
                for i in 0..<count where n.utf8Start[i] != bytes[i] { same = false }
                if same { return k }
            }
            raw += 1
        }
        return nil
    }
}

/// What an injected fault corrupted.
public struct FaultReport: Sendable {
    public var kind: FaultKind
    /// The frame corrupted (or holding the corrupted object).
    public var pfn: PFN
    /// The virtual address corrupted (slab faults), else 0.
    public var address: UInt64
    /// The sequence number when it was injected.
    public var sequence: UInt64

    /// Writes `kmem: fault: injected KIND pfn 0x… [addr 0x…] seq N`.
    public func write<S: TextSink>(to out: inout S) {
        out.write("kmem: fault: injected "); out.write(kind.name); out.write(" pfn "); out.hex(pfn.raw)
        if address != 0 { out.write(" addr "); out.hex(address) }
        out.write(" seq "); out.dec(sequence); out.newline()
    }
}

extension PageAllocator {
    /// Runs `body` holding every lock of the allocator, with interrupts off (kernel/README.md
    /// "Fault injection"): the heap lock, then every zone's lock and every CPU's cache lock in
    /// each zone, in the lock order, counted in the running CPU's `busy`. Every operation takes
    /// its sequence number and makes its changes under some of these locks, so while `body`
    /// runs no other CPU changes the state or takes a number: `state.sequence` is the last
    /// number taken, every operation numbered up to it has made its changes, none above it has
    /// begun. Not reentrant: call it between operations (no lock held). Used for a fault on
    /// CPUs running free, and for a checkpoint's walk of the lists.
    /// (The sections throw nothing themselves; the type is theirs.)
    public func withEveryLock<R>(_ body: () -> R) throws(KmemError) -> R {
        try withHeapLock { () throws(KmemError) -> R in
            try withZoneLocks(Self.allZones, everyCPU: true) { (_: borrowing ZoneLocksHeld) throws(KmemError) -> R in body() }
        }
    }

    /// Corrupts the state in the way `kind` names, choosing the target deterministically
    /// (the highest segment with a suitable block). Returns nil when nothing suitable exists
    /// yet. Nothing is logged and no check runs.
    public func injectFault(_ kind: FaultKind) -> FaultReport? {
        let seq = state.pointee.sequence
        func report(_ pfn: PFN, _ address: UInt64 = 0) -> FaultReport {
            FaultReport(kind: kind, pfn: pfn, address: address, sequence: seq)
        }
        switch kind {
        case .doubleFree:
            guard let (seg, p) = freeBlock(minListLength: 2, second: true) else { return nil }
            let m = meta(p).pointee
            pushFree(seg, p, Int(m.order), Int(m.migratetype))
            return report(p)
        case .brokenLink:
            guard let (_, p) = freeBlock(minListLength: 2), let (_, q) = freeBlock(minListLength: 1, otherThanList: p) else { return nil }
            meta(p).pointee.nextFrame = q
            return report(p)
        case .listCycle:
            guard let (_, head) = freeBlock(minListLength: 2) else { return nil }
            var last = head
            var n = 0
            while !meta(last).pointee.nextFrame.isNoFrame && n < 1 << 20 { last = meta(last).pointee.nextFrame; n += 1 }
            meta(last).pointee.nextFrame = head
            return report(last)
        case .parityFlip:
            guard let (seg, p) = freeBlock(minListLength: 1) else { return nil }
            toggleParity(seg, p, Int(meta(p).pointee.order))
            return report(p)
        case .allocBitmapFlip:
            guard let (seg, p) = freeBlock(minListLength: 1) else { return nil }
            markInUse(seg, p, 1, true)
            return report(p)
        case .wrongOrder:
            guard let (_, p) = freeBlock(minListLength: 1) else { return nil }
            let k = meta(p).pointee.order
            meta(p).pointee.order = k < UInt8(Kmem.maxOrder) && p.isAligned(order: Int(k) + 1) ? k + 1 : (k > 0 ? k - 1 : 1)
            return report(p)
        case .counterDrift:
            guard let (seg, p) = freeBlock(minListLength: 1) else { return nil }
            addFree(zone(of: seg), 1)   // as every writer of freePages: a hit may read it at once
            return report(p)
        case .lostBlock:
            guard let (seg, p) = freeBlock(minListLength: 1) else { return nil }
            let m = meta(p).pointee
            let idx = freeListIndex(Int(m.migratetype), Int(m.order))
            if m.prevFrame.isNoFrame { seg.pointee.freeHeads[idx] = m.next } else { meta(m.prevFrame).pointee.next = m.next }
            if !m.nextFrame.isNoFrame { meta(m.nextFrame).pointee.prev = m.prev }
            seg.pointee.freeCounts[idx] &-= 1
            return report(p)
        case .overlap:
            guard let (seg, p) = allocatedFrame() else { return nil }
            // By hand, past the state machine (an allocated frame has no move to a list):
            // made FREE, listed, then ALLOCATED again beside FREE.
            meta(p).pointee.state = meta(p).pointee.state.subtracting(.allocated).union(.free)
            pushFree(seg, p, 0, pageblockMigratetype(segment: seg, pfn: p))
            meta(p).pointee.state.insert(.allocated)
            return report(p)
        case .refcount:
            guard let (_, p) = allocatedFrame() else { return nil }
            meta(p).pointee.refcount = 0
            return report(p)
        case .pageblockTag:
            guard let (seg, p) = freeBlock(minListLength: 1, maxOrder: Kmem.pageblockOrder - 1) else { return nil }
            let tag = pageblockTag(seg, p)
            tag.pointee = tag.pointee == 0 ? 1 : 0
            return report(p)
        case .slabFreelist, .useAfterFree:
            var i = Kmem.slabCacheCount - 1
            while i >= 0 {
                let c = cache(i)
                let p = PFN(c.pointee.partialHead)
                if p < frameEnd && meta(p).pointee.slabFree != 0 {
                    let obj = meta(p).pointee.slabFree
                    if kind == .slabFreelist {
                        meta(p).pointee.slabFree = pageAddress(p) &+ Kmem.pageSize &+ c.pointee.objectSize
                    } else {
                        UnsafeMutablePointer<UInt8>(bitPattern: UInt(obj &+ 8))!.pointee = 0x00
                    }
                    return report(p, obj)
                }
                i -= 1
            }
            return nil
        }
    }

    /// A free block on a list of at least `minListLength` blocks (its head, or the second
    /// block with `second`), searching from the highest segment and the largest order.
    func freeBlock(minListLength: UInt64, second: Bool = false, otherThanList: PFN = .noFrame,
                   maxOrder: Int = Kmem.maxOrder) -> (UnsafeMutablePointer<Segment>, PFN)? {
        var s = segmentCount - 1
        while s >= 0 {
            let seg = segment(s)
            var k = maxOrder
            while k >= 0 {
                for mt in 0..<Migratetype.count {
                    let idx = freeListIndex(mt, k)
                    let head = PFN(seg.pointee.freeHeads[idx])
                    guard seg.pointee.freeCounts[idx] >= minListLength, !head.isNoFrame, head != otherThanList else { continue }
                    if otherThanList < frameEnd && meta(otherThanList).pointee.nextFrame == head { continue }
                    return (seg, second ? meta(head).pointee.nextFrame : head)
                }
                k -= 1
            }
            s -= 1
        }
        return nil
    }

    /// An allocated order-0 frame that is not a slab page, from the highest segment down.
    func allocatedFrame() -> (UnsafeMutablePointer<Segment>, PFN)? {
        var s = segmentCount - 1
        while s >= 0 {
            let seg = segment(s)
            var p = seg.pointee.end
            while p > seg.pointee.start {
                p &-= 1
                let st = meta(p).pointee.state
                if st.contains([.allocated, .head]) && !st.contains(.slab) && meta(p).pointee.order == 0 { return (seg, p) }
            }
            s -= 1
        }
        return nil
    }
}
