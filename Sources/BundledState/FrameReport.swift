import AllocatorView

/// What `kmemscope frame` says about one frame: its FrameMeta decoded with flag names, the
/// block it belongs to, its zone and segment, and the operation that last changed it (as
/// Linux's page_owner).
public struct FrameReport: Sendable {
    public var pfn: UInt64
    public var record: FrameRecord
    /// The block's head and order (the frame itself for a single frame), when it is in one.
    public var block: (head: UInt64, order: Int)?
    public var zone: String?
    public var segment: Int?
    /// The CPU whose per-CPU cache lists this frame (kernel/README.md "Per-CPU caches"), when
    /// it is on one: found by walking each CPU's list of the frame's zone and slot, bounded by
    /// the list's count plus one.
    public var perCPU: Int?

    /// Decodes frame `pfn` of a snapshot; nil past the frame table.
    public init?(_ s: KernelSnapshot, pfn: UInt64) {
        guard let m = s.frames[pfn] else { return nil }
        self.pfn = pfn
        record = m
        segment = s.segments.first { $0.startPFN <= pfn && pfn < $0.endPFN }?.index
        zone = Int(m.zone) < s.zones.count ? s.zones[Int(m.zone)].name : nil
        if m.flags & s.flags.pcp != 0, Int(m.zone) < s.zones.count {
            perCPU = Self.cacheHolding(pfn, s.zones[Int(m.zone)], slot: Int(m.migratetype), frames: s.frames)
        }
        // the head: this frame or the nearest HEAD frame below whose order covers it (≤ 12 reads)
        for k in 0...s.maxOrder {
            let h = pfn & ~((UInt64(1) << UInt64(k)) - 1)
            if let f = s.frames[h], f.flags & s.flags.head != 0, Int(f.order) >= k,
               h + (UInt64(1) << UInt64(f.order)) > pfn {
                block = (h, Int(f.order))
                break
            }
        }
    }

    /// The CPU whose list `slot` of zone `z` holds `pfn`, walking each list at most its count + 1 links.
    static func cacheHolding(_ pfn: UInt64, _ z: ZoneSnapshot, slot: Int, frames: FrameTable) -> Int? {
        for cache in z.perCPU where slot < cache.heads.count {
            var node = cache.heads[slot]
            var left = min(slot < cache.counts.count ? cache.counts[slot] : 0, 1 << 20) + 1
            while node != KernelSnapshot.none && left > 0 {
                if node == pfn { return cache.cpu }
                guard let f = frames[node] else { break }
                node = f.next
                left -= 1
            }
        }
        return nil
    }

    /// `allocated|kernel|head` from the kernel's published flag names (`FLAG(name)` values).
    public static func flagNames(_ flags: UInt32, names: [(String, UInt32)]) -> String {
        let set = names.filter { $0.1 != 0 && flags & $0.1 == $0.1 }.map(\.0)
        let known = names.reduce(UInt32(0)) { $0 | $1.1 }
        let unknown = flags & ~known
        return (set + (unknown != 0 ? ["0x" + String(unknown, radix: 16) + "?"] : [])).joined(separator: "|")
    }

    /// Two or three lines of text; `lastOperation` is the log entry of `lastSeq` when the ring
    /// still holds it.
    public func text(flagNames names: [(String, UInt32)], lastOperation: OpLogRecord?) -> String {
        var first = "pfn \(hexOrNone(pfn)) (phys \(hexOrNone(pfn << 12)))"
        if let block {
            first += block.head == pfn ? ": head of an order-\(block.order) block" : ": inside the order-\(block.order) block at \(hexOrNone(block.head))"
            first += " [\(hexOrNone(block.head)), \(hexOrNone(block.head + (UInt64(1) << UInt64(block.order)))))"
        }
        first += ", zone \(zone ?? "none (\(record.zone))"), " + (segment.map { "segment \($0)" } ?? "in no segment")
        var lines = [first]
        lines.append("  flags 0x\(String(record.flags, radix: 16)) (\(Self.flagNames(record.flags, names: names))) order \(record.order) "
                     + "migratetype \(MigratetypeName.of(Int(record.migratetype))) refcount \(record.refcount) owner \(hexOrNone(record.owner))"
                     + " next \(hexOrNone(record.next)) prev \(hexOrNone(record.prev))")
        if let perCPU { lines.append("  on cpu \(perCPU)'s per-CPU cache (list \(MigratetypeName.of(Int(record.migratetype))))") }
        if record.lastSeq == 0 {
            lines.append("  not changed since boot")
        } else if let op = lastOperation, op.sequence == record.lastSeq {
            lines.append("  last changed by " + op.text)
        } else {
            lines.append("  last changed by seq \(record.lastSeq) (no longer in the operation log)")
        }
        return lines.joined(separator: "\n")
    }
}
