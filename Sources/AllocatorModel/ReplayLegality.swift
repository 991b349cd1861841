import AllocatorView
import BundledState

/// Replay's judge: which contract rules the kernel's outcome of an operation breaks (an
/// *illegal* divergence), judged on the model's state before the operation.
extension ModelState {
    /// The contract rules the kernel's entries of one operation break, judged on the state before it.
    func brokenRules(_ group: ArraySlice<OpLogRecord>) -> (reasons: [String], frames: [UInt64]) {
        var reasons: [String] = []
        var frames: [UInt64] = []
        func broken(_ why: String, _ p: UInt64) {
            reasons.append(why)
            frames.append(p)
        }
        var takenHere: Set<UInt64> = []
        for r in group where r.status == ModelStatus.ok.rawValue {
            switch r.kind {
            case .allocate, .allocateCount:
                let k = Int(r.order), p = r.result
                guard k <= Self.maxOrder else { broken("an order-\(k) block (orders are 0…11)", p); continue }
                let n = Self.pages(k)
                if p % n != 0 { broken("block \(hexOrNone(p)) is not aligned to its order \(k)", p) }
                if r.alignment != 0 && p % r.alignment != 0 { broken("block \(hexOrNone(p)) is not aligned to \(r.alignment) pages", p) }
                guard let s = segmentIndex(of: p), segments[s].contains(p + n - 1) else {
                    broken("block \(hexOrNone(p)) order \(k) is not inside one segment", p); continue
                }
                if segments[s].zone > Int(r.zone) { broken("block \(hexOrNone(p)) is in zone \(segments[s].zone), above the constraint \(r.zone)", p) }
                if let bad = (p..<(p + n)).first(where: { !isTakable($0) || takenHere.contains($0) }) {
                    broken("frame \(hexOrNone(bad)) of block \(hexOrNone(p)) is not free (\(frameView(bad)))", bad)
                }
                takenHere.formUnion(p..<(p + n))
            case .free:
                if let m = checkFree(r.address, order: Int(r.order), byHeap: r.parent != 0) { broken("\(m.what) accepted", r.address) }
            case .allocateFrame:
                if !isTakable(r.address) { broken("claimed frame \(hexOrNone(r.address)), which is not free (\(frameView(r.address)))", r.address) }
            case .reserveRange:
                if r.size < 1 << 24, let bad = (r.address..<(r.address &+ r.size)).first(where: { !isTakable($0) }) {
                    broken("reserved frame \(hexOrNone(bad)), which is not free (\(frameView(bad)))", bad)
                }
            case .quarantine:
                if !isTakable(r.address) { broken("quarantined frame \(hexOrNone(r.address)), which is not free (\(frameView(r.address)))", r.address) }
            case .heapAllocate:
                let grew = group.contains { $0.kind == .allocate && $0.parent != 0 && $0.status == 0 }
                let pfn = (r.result &- heap.directMap) / Self.pageSize
                if !grew {
                    let free = heap.slabs[pfn]?.free.contains(r.result) ?? false
                    if !free { broken("object \(hexOrNone(r.result)) handed out while not free", pfn) }
                    else if let slab = heap.slabs[pfn], heap.caches[slab.cache].objectSize < max(r.size, 1, r.alignment) {
                        broken("object \(hexOrNone(r.result)) of \(heap.caches[slab.cache].objectSize) bytes for \(max(r.size, 1, r.alignment))", pfn)
                    }
                }
            case .heapFree:
                if let why = kfreeMisuse(r.address) { broken("\(why) accepted", (r.address &- heap.directMap) / Self.pageSize) }
            case .get, .put:
                if let why = referenceMisuse(r.address, adding: r.kind == .get) { broken("\(r.kind!.name) of \(hexOrNone(r.address)): \(why), accepted", r.address) }
            case .freeCount:
                if r.size >= 1 && r.size <= Self.pages(Self.maxOrder) && r.address <= UInt64.max - r.size {
                    for (p, k) in Self.maximalBlocks(r.address, r.address + r.size) {
                        if let m = checkFree(p, order: k, byHeap: false) { broken("\(m.what) accepted (piece \(hexOrNone(p)) order \(k))", p) }
                    }
                } else {
                    broken("a count of \(r.size) accepted", r.address)
                }
            case .unreserve:
                if r.size < 1 << 24, let bad = (r.address..<(r.address &+ r.size)).first(where: { reserved[$0].map { $0.quarantined } ?? true }) {
                    broken("unreserved frame \(hexOrNone(bad)), which is not reserved (\(frameView(bad)))", bad)
                }
            default: break
            }
        }
        return (reasons, frames)
    }
}
