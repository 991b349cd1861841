import AllocatorView
import BundledState

/// The rules of ``RuleModel``, judged on one log entry at a time and then applied as the kernel
/// logged it (the rule level follows the kernel, as the exact replay does after a divergence).
extension RuleModel {
    /// One broken rule: what, and the frame it was broken on.
    public struct Broken: Sendable, Equatable {
        public var sequence: UInt64
        public var frame: UInt64
        public var rule: String
    }

    /// Judges and applies the kernel's entries of one operation (top-level entry first, then
    /// the nested ones, in sequence order: each is judged on the state the ones before it left).
    public mutating func step(_ group: ArraySlice<OpLogRecord>) -> [Broken] {
        var broken: [Broken] = []
        for r in group where stoppedAt == nil { broken += step(r) }
        return broken
    }

    /// Judges and applies one entry. Failed and misuse entries changed nothing and are not judged.
    mutating func step(_ r: OpLogRecord) -> [Broken] {
        guard r.status == ModelStatus.ok.rawValue, let kind = r.kind else { return [] }
        var broken: [Broken] = []
        func breaks(_ frame: UInt64, _ rule: String) { broken.append(Broken(sequence: r.sequence, frame: frame, rule: rule)) }
        switch kind {
        case .allocate, .allocateCount:
            let k = Int(r.order), p = r.result
            guard k <= ModelState.maxOrder else { breaks(p, "an order-\(k) block handed out (orders are 0…11)"); return broken }
            let n = ModelState.pages(k)
            handOut(p, order: k, r, breaks)
            if kind == .allocateCount {
                guard r.size >= 1 && r.size <= n else { breaks(p, "a count of \(r.size) served by an order-\(k) block"); return broken }
                // The kept frames are the maximal aligned blocks from p up; the tail stays free.
                fill(p, r.size, .allocated)
                for (head, order) in ModelState.maximalBlocks(p, p &+ r.size) { setHead(head, order) }
            } else {
                fill(p, n, .allocated)
                setHead(p, k)
            }
        case .allocateFrame:
            if r.result == 1 {
                take(r.address, 1, what: "claimed", breaks)
                fill(r.address, 1, .allocated)
                setHead(r.address, 0)
            }
        case .reserveRange:
            if r.result == 1, r.size >= 1, r.size <= Self.maxSpan {
                take(r.address, r.size, what: "reserved", breaks)
                fill(r.address, r.size, .reserved)
            }
        case .quarantine:
            take(r.address, 1, what: "quarantined", breaks)
            fill(r.address, 1, .quarantined)
        case .unreserve:
            guard r.size >= 1, r.size <= Self.maxSpan else { breaks(r.address, "an unreserve of \(r.size) frames accepted"); return broken }
            if let bad = firstNot(.reserved, r.address, r.size) {
                breaks(bad, "unreserved frame \(hexOrNone(bad)), which was \(frameClass(bad)), not reserved")
            }
            fill(r.address, r.size, .free)
        case .free:
            give(r.address, order: Int(r.order), breaks)
        case .put:
            // The last reference gone (result 0): the block is freed exactly as `free` frees it.
            if r.result == 0 {
                guard let i = index(r.address), heads[i] > 0 else {
                    breaks(r.address, "the last put of \(hexOrNone(r.address)) freed a frame that was no allocated block's head (\(frameClass(r.address)))")
                    return broken
                }
                give(r.address, order: Int(heads[i]) - 1, breaks)
            } else if index(r.address).map({ heads[$0] == 0 }) ?? true {
                breaks(r.address, "put of \(hexOrNone(r.address)), which is no allocated block's head, accepted")
            }
        case .get:
            if index(r.address).map({ heads[$0] == 0 }) ?? true {
                breaks(r.address, "get of \(hexOrNone(r.address)), which is no allocated block's head, accepted")
            }
        case .freeCount:
            guard r.size >= 1, r.size <= ModelState.pages(ModelState.maxOrder), r.address <= UInt64.max - r.size else {
                breaks(r.address, "a free of \(r.size) frames accepted"); return broken
            }
            for (head, order) in ModelState.maximalBlocks(r.address, r.address + r.size) { give(head, order: order, breaks) }
        case .addMemory:
            stoppedAt = r.sequence
        case .heapAllocate, .heapFree, .drain:
            // Objects and per-CPU lists: no frame changes class (their page work is nested entries).
            break
        }
        return broken
    }

    /// The rules of a block handed out: aligned, in one segment of an allowed zone, every frame
    /// free, and the zone's watermark honoured.
    private func handOut(_ p: UInt64, order k: Int, _ r: OpLogRecord, _ breaks: (UInt64, String) -> Void) {
        let n = ModelState.pages(k)
        if p % n != 0 { breaks(p, "block \(hexOrNone(p)) handed out is not aligned to its order \(k)") }
        if r.alignment > 1 && p % r.alignment != 0 { breaks(p, "block \(hexOrNone(p)) handed out is not aligned to the \(r.alignment) pages asked for") }
        guard p <= UInt64.max - n, let s = span(holding: p, count: n) else {
            breaks(p, "block \(hexOrNone(p)) order \(k) handed out does not lie inside one segment"); return
        }
        let highest = min(Int(r.zone), 2)
        if s.zone > highest { breaks(p, "block \(hexOrNone(p)) handed out from zone \(s.zone), above the request's highest zone \(highest)") }
        if let bad = firstNot(.free, p, n) { breaks(bad, "frame \(hexOrNone(bad)) of block \(hexOrNone(p)) handed out was \(frameClass(bad)), not free") }
        if r.flags & 1 == 0, s.zone < zones.count {
            let z = zones[s.zone]
            let reserve = highest < z.lowmemReserve.count ? z.lowmemReserve[highest] : 0
            let needed = z.watermarkMin &+ reserve &+ n
            if z.freePages < needed {
                breaks(p, "block \(hexOrNone(p)) order \(k) handed out of zone \(s.zone) with \(z.freePages) pages free: under min \(z.watermarkMin) + reserve \(reserve) + \(n)")
            }
        }
    }

    /// A claim or reservation of `[p, p + count)`: every frame free.
    private func take(_ p: UInt64, _ count: UInt64, what: String, _ breaks: (UInt64, String) -> Void) {
        if p > UInt64.max - count { breaks(p, "\(what) \(count) frames from \(hexOrNone(p)), past the end of the PFN space"); return }
        if let bad = firstNot(.free, p, count) { breaks(bad, "\(what) frame \(hexOrNone(bad)), which was \(frameClass(bad)), not free") }
    }

    /// A block freed: it was allocated, as a block of `order` with its head at `p`.
    private mutating func give(_ p: UInt64, order k: Int, _ breaks: (UInt64, String) -> Void) {
        guard k <= ModelState.maxOrder, let i = index(p), p <= UInt64.max - ModelState.pages(k) else {
            breaks(p, "a free of \(hexOrNone(p)) order \(k) outside managed memory accepted"); return
        }
        let n = ModelState.pages(k)
        if heads[i] != UInt8(k + 1) {
            let was = heads[i] == 0 ? "no allocated block's head (\(frameClass(p)))" : "the head of an order-\(Int(heads[i]) - 1) block"
            breaks(p, "free of \(hexOrNone(p)) order \(k) accepted, but it was \(was)")
        } else if let bad = firstNot(.allocated, p, n) {
            breaks(bad, "free of block \(hexOrNone(p)) order \(k) accepted, but its frame \(hexOrNone(bad)) was \(frameClass(bad))")
        }
        fill(p, n, .free)
        for j in i..<min(i + Int(n), heads.count) { heads[j] = 0 }
    }

    private mutating func setHead(_ p: UInt64, _ k: Int) {
        guard let i = index(p) else { return }
        heads[i] = UInt8(k + 1)
    }
}
