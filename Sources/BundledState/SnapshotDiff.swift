/// What changed between two snapshots of one run (`kmemscope diff A B`): free blocks per zone
/// and order, each slab cache's objects and slabs, and every frame whose state changed, with
/// the operations of the log between the two sequences that explain it.
///
/// A frame's state is its `flags`, `order`, `migratetype`, `owner`, `refcount`, `zone` and
/// `segment` (list links move with neighbours and are not state). The kernel stamps every
/// frame an operation changes with that operation's sequence (`FrameMeta.lastSeq`, the
/// contract in kernel/README.md), so a frame that changed while its `lastSeq` is not after
/// `before.sequence` was changed by no allocator operation: it is *unexplained* (a stray
/// write), and `diff` exits 1 for it.
public struct SnapshotDiff: Sendable {
    /// One zone's free pages and free blocks per order, before and after.
    public struct ZoneChange: Sendable {
        public var name: String
        public var freeBefore: UInt64, freeAfter: UInt64
        /// Orders whose free block count changed: (order, before, after).
        public var orders: [(order: Int, before: UInt64, after: UInt64)]
    }

    /// One slab cache's objects in use and slabs, before and after.
    public struct CacheChange: Sendable {
        public var name: String
        public var inUseBefore: UInt64, inUseAfter: UInt64
        public var slabsBefore: UInt64, slabsAfter: UInt64
    }

    /// A frame's state, as compared.
    public struct FrameState: Sendable, Equatable {
        public var flags: UInt32, order: UInt8, migratetype: UInt8, owner: UInt64, refcount: UInt32, zone: UInt8, segment: UInt16
        init(_ r: FrameRecord) {
            flags = r.flags; order = r.order; migratetype = r.migratetype; owner = r.owner
            refcount = r.refcount; zone = r.zone; segment = r.segment
        }
    }

    /// A run of consecutive frames that changed from one state to another.
    public struct FrameChange: Sendable {
        /// The first frame and how many.
        public var pfn: UInt64, count: UInt64
        /// The first frame's state before (nil: past the earlier frame table, hot-added) and after.
        public var before: FrameState?, after: FrameState
        /// The sequences of the operations in the window that stamped these frames last or
        /// name them and succeeded, in order.
        public var operations: [UInt64]
        /// The latest `lastSeq` among the run's frames after.
        public var lastSeq: UInt64
        /// Whether an operation after `before.sequence` stamped every frame of the run.
        public var explained: Bool
    }

    /// How many frames went from one coarse state to another (`free`, `per-CPU`, `slab`,
    /// `allocated`, `reserved`, `none`; `new` for a frame past the earlier table), most first.
    public var transitions: [(from: String, to: String, frames: UInt64)] = []

    public var sequenceBefore: UInt64, sequenceAfter: UInt64
    public var zones: [ZoneChange] = []
    public var caches: [CacheChange] = []
    public var frames: [FrameChange] = []
    /// Frames whose state changed (all runs).
    public var changedFrames: UInt64 = 0
    /// The operations between the two sequences the log still holds (`after`'s ring).
    public var operations: [OpLogRecord] = []
    /// Sequences in the window the ring no longer holds (overwritten), if any.
    public var missing: ClosedRange<UInt64>?
    /// The two snapshots have a different number of frames (a hot-add): frames past the
    /// shorter table are compared as new.
    public var framesBefore: Int, framesAfter: Int

    /// Compares `before` with `after`; `log` is the ring read with `after` (entries outside the
    /// window are ignored). Bounded by the frame tables' sizes.
    public init(before a: KernelSnapshot, after b: KernelSnapshot, log: [OpLogRecord]) {
        sequenceBefore = a.sequence
        sequenceAfter = b.sequence
        framesBefore = a.frames.count
        framesAfter = b.frames.count
        operations = log.filter { $0.sequence > a.sequence && $0.sequence <= b.sequence }.sorted { $0.sequence < $1.sequence }
        if b.sequence > a.sequence {
            let first = operations.first?.sequence ?? b.sequence &+ 1
            if first > a.sequence &+ 1 { missing = (a.sequence &+ 1)...(first &- 1) }
        }
        zones = Self.zones(a, b)
        caches = Self.caches(a, b)
        var moved: [String: UInt64] = [:]
        frames = Self.frames(a, b, operations: operations, changed: &changedFrames, transitions: &moved)
        transitions = moved.map { key, n in
            let parts = key.split(separator: "\u{0}")
            return (String(parts[0]), String(parts[1]), n)
        }.sorted { ($0.frames, $1.from, $1.to) > ($1.frames, $0.from, $0.to) }
    }

    /// True when every changed frame is explained by an operation in the window.
    public var explained: Bool { frames.allSatisfy(\.explained) }

    /// A frame's coarse state by its flags (`flags` of the snapshot it is in).
    public static func stateName(_ flags: UInt32, _ f: KernelSnapshot.FlagBits) -> String {
        if flags & f.pcp != 0 { return "per-CPU" }
        if flags & f.free != 0 { return "free" }
        if flags & f.slab != 0 && flags & f.allocated != 0 { return "slab" }
        if flags & f.allocated != 0 { return "allocated" }
        if flags & f.reserved != 0 { return "reserved" }
        return "none"
    }

    static func zones(_ a: KernelSnapshot, _ b: KernelSnapshot) -> [ZoneChange] {
        let ca = FreeListCensus(a), cb = FreeListCensus(b)
        return b.zones.compactMap { zb in
            guard let za = a.zones.first(where: { $0.name == zb.name }) else { return nil }
            let oa = ca.orders(zone: za.index), ob = cb.orders(zone: zb.index)
            let orders = (0..<max(oa.count, ob.count)).compactMap { k -> (Int, UInt64, UInt64)? in
                let x = k < oa.count ? oa[k] : 0, y = k < ob.count ? ob[k] : 0
                return x == y ? nil : (k, x, y)
            }
            guard za.freePages != zb.freePages || !orders.isEmpty else { return nil }
            return ZoneChange(name: zb.name, freeBefore: za.freePages, freeAfter: zb.freePages, orders: orders)
        }
    }

    static func caches(_ a: KernelSnapshot, _ b: KernelSnapshot) -> [CacheChange] {
        (b.heap?.caches ?? []).compactMap { cb in
            guard let ca = a.heap?.caches.first(where: { $0.objectSize == cb.objectSize }) else { return nil }
            let sa = ca.partialSlabs.addingReportingOverflow(ca.fullSlabs), sb = cb.partialSlabs.addingReportingOverflow(cb.fullSlabs)
            let change = CacheChange(name: cb.name, inUseBefore: ca.inUse, inUseAfter: cb.inUse,
                                     slabsBefore: sa.overflow ? .max : sa.partialValue, slabsAfter: sb.overflow ? .max : sb.partialValue)
            return change.inUseBefore == change.inUseAfter && change.slabsBefore == change.slabsAfter ? nil : change
        }
    }

    static func frames(_ a: KernelSnapshot, _ b: KernelSnapshot, operations: [OpLogRecord], changed: inout UInt64,
                       transitions: inout [String: UInt64]) -> [FrameChange] {
        let directMap = b.heap?.directMap ?? a.heap?.directMap ?? 0
        // which operations name which frames: sorted (first, end, sequence) for the runs below
        var named: [(first: UInt64, end: UInt64, sequence: UInt64)] = []
        for op in operations where op.status == 0 {   // a failed or refused operation changed nothing
            for t in op.touchedFrames(directMap: directMap) where t.count > 0 {
                named.append((t.pfn, t.pfn &+ t.count, op.sequence))
            }
        }
        named.sort { $0.first < $1.first }
        var runs: [FrameChange] = []
        // one pass over both tables through their readers (no per-frame allocation)
        a.frames.withReader { ra in
            b.frames.withReader { rb in
                for pfn in 0..<UInt64(rb.count) {
                    guard let recordAfter = rb[pfn] else { continue }
                    let after = FrameState(recordAfter)
                    let recordBefore = ra[pfn]
                    let before = recordBefore.map(FrameState.init)
                    if before == after { continue }
                    changed += 1
                    let from = recordBefore.map { stateName($0.flags, a.flags) } ?? "new"
                    let to = stateName(recordAfter.flags, b.flags)
                    if from != to { transitions[from + "\u{0}" + to, default: 0] += 1 }
                    let stamped = recordAfter.lastSeq > a.sequence && recordAfter.lastSeq <= b.sequence
                    if var last = runs.last, last.pfn &+ last.count == pfn, last.explained == stamped,
                       Self.sameKind(last.after, after, last.before, before) {
                        last.count += 1
                        last.lastSeq = max(last.lastSeq, recordAfter.lastSeq)
                        if stamped, !last.operations.contains(recordAfter.lastSeq) { last.operations.append(recordAfter.lastSeq) }
                        runs[runs.count - 1] = last
                    } else {
                        runs.append(FrameChange(pfn: pfn, count: 1, before: before, after: after,
                                                operations: stamped ? [recordAfter.lastSeq] : [], lastSeq: recordAfter.lastSeq, explained: stamped))
                    }
                }
            }
        }
        // the operations that name each run's frames, beside the ones that stamped them
        for i in runs.indices {
            let first = runs[i].pfn, end = runs[i].pfn &+ runs[i].count
            var seqs = Set(runs[i].operations)
            for n in named where n.first < end && n.end > first { seqs.insert(n.sequence) }
            runs[i].operations = seqs.sorted()
        }
        return runs
    }

    /// Two frames belong in one run when both changed the same way: same flags and order before
    /// and after (a head and its tail frames differ in flags, so a block shows as head + tail run).
    static func sameKind(_ firstAfter: FrameState, _ after: FrameState, _ firstBefore: FrameState?, _ before: FrameState?) -> Bool {
        firstAfter.flags == after.flags && firstAfter.order == after.order && firstAfter.owner == after.owner
            && firstBefore?.flags == before?.flags && firstBefore?.order == before?.order && firstBefore?.owner == before?.owner
    }
}
