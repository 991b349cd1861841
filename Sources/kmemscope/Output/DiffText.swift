import BundledState

/// `kmemscope diff`'s text.
enum DiffText {
    static func text(_ d: SnapshotDiff, before: String, after: String, flagNames: [(String, UInt32)], limit: Int, operations: Int) -> String {
        let window = d.sequenceAfter - d.sequenceBefore
        var lines = ["diff \(before) (sequence \(d.sequenceBefore)) → \(after) (sequence \(d.sequenceAfter)): \(window) operations, "
            + (d.missing.map { "sequences \($0.lowerBound)…\($0.upperBound) no longer in the log ring (take snapshots closer together)" } ?? "all in the log")]
        if d.framesBefore != d.framesAfter { lines.append("frame table: \(d.framesBefore) → \(d.framesAfter) frames (memory added)") }
        lines.append(d.zones.isEmpty ? "zones: no change" : "zones:")
        for z in d.zones {
            let orders = z.orders.map { "order \($0.order) \($0.before)→\($0.after)" }.joined(separator: ", ")
            lines.append("  \(z.name.padding(8)) free \(z.freeBefore) → \(z.freeAfter) (\(signed(z.freeBefore, z.freeAfter)))"
                + (orders.isEmpty ? "" : "; blocks: " + orders))
        }
        lines.append(d.caches.isEmpty ? "caches: no change" : "caches:")
        for c in d.caches {
            lines.append("  \(c.name.padding(13)) in use \(c.inUseBefore) → \(c.inUseAfter) (\(signed(c.inUseBefore, c.inUseAfter))), "
                + "slabs \(c.slabsBefore) → \(c.slabsAfter)")
        }
        let unexplained = d.frames.filter { !$0.explained }
        lines.append("frames: \(d.changedFrames) changed in \(d.frames.count) run(s), "
            + (unexplained.isEmpty ? "every change explained by the log" : "\(unexplained.reduce(0) { $0 + $1.count }) changed by no operation since sequence \(d.sequenceBefore)"))
        if !d.transitions.isEmpty {
            lines.append("  by state: " + d.transitions.map { "\($0.from) → \($0.to) \($0.frames)" }.joined(separator: ", "))
        }
        let byNumber = Dictionary(d.operations.map { ($0.sequence, $0) }, uniquingKeysWith: { a, _ in a })
        // unexplained runs first: they are what a reader is looking for
        let shown = (unexplained + d.frames.filter(\.explained)).prefix(limit)
        for r in shown {
            lines.append("  pfn 0x\(String(r.pfn, radix: 16)) +\(r.count)  \(state(r.before, flagNames)) → \(state(r.after, flagNames))")
            if !r.explained {
                lines.append("    UNEXPLAINED: no operation after sequence \(d.sequenceBefore) stamped it (lastSeq \(r.lastSeq)): something other than the allocator wrote it")
            }
            for seq in r.operations.prefix(operations) {
                lines.append("    " + (byNumber[seq].map(\.text) ?? "seq \(seq) (no longer in the log)"))
            }
            if r.operations.count > operations { lines.append("    … \(r.operations.count - operations) more operation(s)") }
        }
        if d.frames.count > shown.count { lines.append("  … \(d.frames.count - shown.count) more run(s) (--limit)") }
        return lines.joined(separator: "\n")
    }

    static func state(_ s: SnapshotDiff.FrameState?, _ names: [(String, UInt32)]) -> String {
        guard let s else { return "(not in the earlier frame table)" }
        let flags = FrameReport.flagNames(s.flags, names: names)
        let mt = s.migratetype == 0 ? "unmovable" : s.migratetype == 1 ? "movable" : "mt\(s.migratetype)"
        var out = (flags.isEmpty ? "no flags" : flags) + " order \(s.order) \(mt)"
        if s.owner != 0 && s.owner != .max { out += " owner 0x" + String(s.owner, radix: 16) }
        if s.refcount != 0 { out += " ref \(s.refcount)" }
        return out
    }

    static func signed(_ a: UInt64, _ b: UInt64) -> String { b >= a ? "+\(b - a)" : "-\(a - b)" }
}

extension String {
    /// Left-aligned in `width` columns.
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
