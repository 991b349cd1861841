import AllocatorView
import BundledState

/// The model against a snapshot: every free list as an ordered list, the per-CPU lists and
/// drain cursor, counters, pageblock tags, every managed frame's state, and the heap.
public struct ModelComparison: Sendable {
    /// One difference: what differs (a list, a counter, a frame), the model's value and the
    /// snapshot's, and for a frame its `lastSeq` in the snapshot (the operation that last
    /// changed it in the kernel).
    public struct Difference: Sendable, Equatable, CustomStringConvertible {
        public var what: String
        public var model: String
        public var snapshot: String
        public var pfn: UInt64?
        public var lastSeq: UInt64?

        public var description: String {
            "\(what): model \(model), snapshot \(snapshot)" + (lastSeq.map { " (frame last changed by seq \($0))" } ?? "")
        }
    }

    public var differences: [Difference] = []
    /// Differences found in all (only the first `keep` are listed).
    public var count = 0
    public var keep = 64
    public var matches: Bool { count == 0 }

    /// Compares `model` with `snapshot`.
    public init(model: ModelState, snapshot s: KernelSnapshot, keep: Int = 64) {
        self.keep = keep
        let k = ModelState(snapshot: s)
        for problem in k.problems { add("snapshot", "readable lists", problem) }
        func lastSeq(_ p: UInt64?) -> UInt64? { p.flatMap { s.frames[$0]?.lastSeq } }
        func same<T: Equatable>(_ what: String, _ a: T, _ b: T, pfn: UInt64? = nil) {
            if a != b { add(what, "\(a)", "\(b)", pfn: pfn, lastSeq: lastSeq(pfn)) }
        }
        func sameList(_ what: String, _ a: [UInt64], _ b: [UInt64]) {
            guard a != b else { return }
            let i = zip(a, b).prefix { $0 == $1 }.count
            let p = i < a.count ? a[i] : i < b.count ? b[i] : nil
            add(what + " at position \(i)", i < a.count ? hexOrNone(a[i]) + " (\(a.count) entries)" : "end (\(a.count) entries)",
                i < b.count ? hexOrNone(b[i]) + " (\(b.count) entries)" : "end (\(b.count) entries)", pfn: p,
                lastSeq: lastSeq(i < b.count ? b[i] : p))
        }
        guard model.zones.count == k.zones.count, model.segments.count == k.segments.count else {
            add("layout", "\(model.zones.count) zones, \(model.segments.count) segments", "\(k.zones.count) zones, \(k.segments.count) segments")
            return
        }
        for (a, b) in zip(model.zones, k.zones) {
            let z = "zone \(a.index)"
            same("\(z) managed pages", a.managedPages, b.managedPages)
            same("\(z) free pages", a.freePages, b.freePages)
            same("\(z) allocated pages", a.allocatedPages, b.allocatedPages)
            same("\(z) reserved pages", a.reservedPages, b.reservedPages)
            same("\(z) pcp count", a.pcpCount, s.zones[a.index].cachedPages)
            same("\(z) watermarks", [a.watermarkMin, a.watermarkLow, a.watermarkHigh], [b.watermarkMin, b.watermarkLow, b.watermarkHigh])
            same("\(z) lowmem reserve", a.lowmemReserve, b.lowmemReserve)
            same("\(z) pcp batch/high", [a.pcpBatch, a.pcpHigh], [b.pcpBatch, b.pcpHigh])
            for cache in s.zones[a.index].perCPU where cache.cpu < ModelState.maxCPUs {
                let c = cache.cpu, pz = "\(z) cpu \(c)"
                if cache.drainCursor != nil { same("\(pz) pcp drain cursor", a.caches[c].drainCursor, b.caches[c].drainCursor) }
                for slot in 0..<ModelState.migratetypeSlots {
                    sameList("\(pz) pcp list \(slot)", a.caches[c].lists[slot], b.caches[c].lists[slot])
                    if slot < cache.counts.count {
                        same("\(pz) pcp list \(slot) count", UInt64(a.caches[c].lists[slot].count), cache.counts[slot])
                    }
                }
            }
        }
        for (a, b) in zip(model.segments, k.segments) {
            let g = "segment \(a.index)"
            same("\(g) range", [a.startPFN, a.endPFN], [b.startPFN, b.endPFN])
            same("\(g) free pages", a.freePages, b.freePages)
            same("\(g) reserved pages", a.reservedPages, b.reservedPages)
            let seg = s.segments[a.index]
            let orders = s.maxOrder + 1
            for mt in 0..<ModelState.migratetypeSlots {
                for order in 0...ModelState.maxOrder {
                    sameList("\(g) free list mt \(mt) order \(order)", a.freeLists[mt][order], b.freeLists[mt][order])
                    let slot = mt * orders + order
                    if slot < seg.freeCounts.count {
                        same("\(g) free list mt \(mt) order \(order) count", UInt64(a.freeLists[mt][order].count), seg.freeCounts[slot])
                    }
                }
            }
            var pb = a.startPFN >> UInt64(ModelState.pageblockOrder)
            while pb << UInt64(ModelState.pageblockOrder) < a.endPFN {
                let p = max(pb << UInt64(ModelState.pageblockOrder), a.startPFN)
                same("\(g) pageblock tag of \(hexOrNone(pb << UInt64(ModelState.pageblockOrder)))", model.tag(of: p), k.tag(of: p), pfn: p)
                pb += 1
            }
            for p in a.startPFN..<a.endPFN {
                let x = model.frameView(p), y = k.frameView(p)
                if x != y {
                    add("frame \(hexOrNone(p))", x.description, y.description, pfn: p, lastSeq: lastSeq(p))
                } else if let m = s.frames[p], let e = model.frameRecord(p, s.flags) {
                    // The frame's own metadata: its flags (the POISON_FILL bit aside: the model does
                    // not see page contents), owner, and the operation that last changed it.
                    let flags = m.flags & ~s.flags.poisonFill
                    if flags != e.flags { add("frame \(hexOrNone(p)) flags", "0x" + String(e.flags, radix: 16), "0x" + String(flags, radix: 16), pfn: p, lastSeq: m.lastSeq) }
                    if let o = e.owner, o != m.owner { add("frame \(hexOrNone(p)) owner", hexOrNone(o), hexOrNone(m.owner), pfn: p, lastSeq: m.lastSeq) }
                    if let q = e.lastSeq, q != m.lastSeq { add("frame \(hexOrNone(p)) lastSeq", "\(q)", "\(m.lastSeq)", pfn: p, lastSeq: m.lastSeq) }
                    if let k = e.order, k != Int(m.order) { add("frame \(hexOrNone(p)) order", "\(k)", "\(m.order)", pfn: p, lastSeq: m.lastSeq) }
                    if let mt = e.migratetype, mt != Int(m.migratetype) {
                        add("frame \(hexOrNone(p)) migratetype", "\(mt)", "\(m.migratetype)", pfn: p, lastSeq: m.lastSeq)
                    }
                }
            }
        }
        if s.heap != nil {
            for (i, (a, b)) in zip(model.heap.caches, k.heap.caches).enumerated() {
                let c = "kmalloc-\(a.objectSize)"
                same("\(c) objects in use", a.inUse, b.inUse)
                sameList("\(c) partial list", a.partial, b.partial)
                sameList("\(c) full list", a.full, b.full)
                for p in a.partial + a.full {
                    if let x = model.heap.slabs[p], let y = k.heap.slabs[p], x.cache == i {
                        sameList("\(c) slab \(hexOrNone(p)) free objects", x.free, y.free)
                        same("\(c) slab \(hexOrNone(p)) objects in use", x.inUse, y.inUse, pfn: p)
                    }
                }
            }
            same("large heap blocks", model.heap.large.keys.sorted(), k.heap.large.keys.sorted())
        }
    }

    mutating func add(_ what: String, _ model: String, _ snapshot: String, pfn: UInt64? = nil, lastSeq: UInt64? = nil) {
        count += 1
        if differences.count < keep { differences.append(Difference(what: what, model: model, snapshot: snapshot, pfn: pfn, lastSeq: lastSeq)) }
    }

    /// One line per difference, and how many were left off.
    public var text: String {
        if matches { return "model and snapshot agree" }
        return (differences.map(\.description) + (count > differences.count ? ["… and \(count - differences.count) more"] : []))
            .joined(separator: "\n")
    }
}

extension ModelState {
    /// One frame's state as the contract names it.
    public enum FrameView: Sendable, Equatable, CustomStringConvertible {
        case free(head: UInt64, order: Int, migratetype: Int)
        case allocated(head: UInt64, order: Int, migratetype: Int, owner: UInt64, slab: Bool, refcount: UInt32)
        case reserved(owner: UInt64, quarantined: Bool)
        case cached(slot: Int)
        case unaccounted

        public var description: String {
            switch self {
            case let .free(h, k, mt): return "free in the order-\(k) block \(hexOrNone(h)) (mt \(mt))"
            case let .allocated(h, k, mt, o, slab, r):
                return "allocated in the order-\(k) block \(hexOrNone(h)) (mt \(mt), owner \(hexOrNone(o))\(slab ? ", slab" : "")\(r != 1 ? ", refcount \(r)" : ""))"
            case let .reserved(o, q): return q ? "quarantined (owner \(hexOrNone(o)))" : "reserved (owner \(hexOrNone(o)))"
            case let .cached(slot): return "cached on per-CPU list \(slot)"
            case .unaccounted: return "in no block, list or reservation"
            }
        }
    }

    /// What frame `p`'s metadata must hold, as far as the contract fixes it: its flags ("The block
    /// handed out: every frame ALLOCATED (plus KERNEL for unmovable, USER for movable), the head
    /// HEAD …; owner and lastSeq on every frame"; free blocks FREE with HEAD on the head; cached
    /// frames PCP; reserved RESERVED, quarantined RESERVED|POISONED), the owner of allocated and
    /// reserved frames, and the `lastSeq` of allocated (not slab) and reserved frames.
    public func frameRecord(_ p: UInt64, _ f: KernelSnapshot.FlagBits) -> ExpectedFrame? {
        switch frameView(p) {
        case .cached: return ExpectedFrame(flags: f.pcp)
        case let .reserved(owner, quarantined):
            return ExpectedFrame(flags: f.reserved | (quarantined ? f.poisoned : 0), owner: owner, lastSeq: reserved[p]?.lastSeq)
        case let .free(head, order, mt):
            // "the first block of a list" is a free head of the list's order and migratetype
            return head == p ? ExpectedFrame(flags: f.free | f.head, order: order, migratetype: mt) : ExpectedFrame(flags: f.free)
        case let .allocated(head, order, mt, owner, slab, _):
            let flags = f.allocated | (mt == 0 ? f.kernel : f.user) | (head == p ? f.head : 0) | (slab ? f.slab : 0)
            let block = allocated[head]
            let seq = head == p ? block?.headLastSeq ?? block?.lastSeq : block?.lastSeq
            return ExpectedFrame(flags: flags, owner: owner, lastSeq: slab ? nil : seq,
                                 order: head == p ? order : nil, migratetype: head == p ? mt : nil)
        case .unaccounted: return nil
        }
    }

    /// What a frame's metadata must hold; nil where the contract leaves a field open.
    public struct ExpectedFrame: Sendable, Equatable {
        public var flags: UInt32
        public var owner: UInt64? = nil
        public var lastSeq: UInt64? = nil
        public var order: Int? = nil
        public var migratetype: Int? = nil
    }

    public func frameView(_ p: UInt64) -> FrameView {
        if let slot = cached[p] { return .cached(slot: slot) }
        if let r = reserved[p] { return .reserved(owner: r.owner, quarantined: r.quarantined) }
        if let h = freeHead(containing: p), let b = freeBlocks[h] { return .free(head: h, order: b.order, migratetype: b.migratetype) }
        if let h = allocatedHead(containing: p), let b = allocated[h] {
            return .allocated(head: h, order: b.order, migratetype: b.migratetype, owner: b.owner, slab: b.slab, refcount: b.refcount)
        }
        return .unaccounted
    }
}
