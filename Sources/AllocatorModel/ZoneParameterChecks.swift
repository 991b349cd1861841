/// What the zone's parameters must be by the contract's formulas (kernel/README.md,
/// "Watermarks"), and the frames' own zone and segment fields — fields no list or bitmap
/// walk would notice.
extension Verifier {
    /// Watermarks, lowmem reserve and per-CPU sizes from the managed pages (Linux's formulas),
    /// and the zone's span, present, managed and segment range against its segments.
    func checkZoneParameters(_ r: inout VerifyReport) {
        let zones = snapshot.zones
        let total = zones.reduce(UInt64(0)) { $0 &+ $1.managedPages }
        let pageKB = max(snapshot.pageSize / 1024, 1)
        let minKB = min(max(Self.isqrt(total &* pageKB &* 16), 128), 65536)
        let minPages = minKB / pageKB
        let ratios: [UInt64] = [256, 256, 32]
        for z in zones {
            func fail(_ what: String, _ want: UInt64, _ found: UInt64) {
                r.add(Violation(.zoneParameters, zone: z.name, expected: "\(what) \(want)", found: "\(found)"))
            }
            let managed = z.managedPages
            let share = total == 0 ? 0 : minPages.multipliedReportingOverflow(by: managed).partialValue / total
            if z.watermarkMin != share { fail("min watermark", share, z.watermarkMin) }
            if z.watermarkLow != share + share / 4 { fail("low watermark", share + share / 4, z.watermarkLow) }
            if z.watermarkHigh != share + share / 2 { fail("high watermark", share + share / 2, z.watermarkHigh) }
            var sum: UInt64 = 0
            for (j, have) in z.lowmemReserve.enumerated() {
                if j > z.index, j < zones.count { sum &+= zones[j].managedPages }
                let want = j > z.index && z.index < ratios.count ? sum / ratios[z.index] : 0
                if have != want { fail("lowmem reserve[\(j)]", want, have) }
            }
            let batch = managed == 0 ? 0 : min(max(managed / 4096, 1), 31)
            if z.pcpBatch != batch { fail("per-CPU batch", batch, z.pcpBatch) }
            if z.pcpHigh != batch &* 6 { fail("per-CPU high", batch &* 6, z.pcpHigh) }
            if z.spannedPages != z.endPFN &- z.startPFN { fail("spanned = end - start", z.endPFN &- z.startPFN, z.spannedPages) }
            if z.presentPages != managed &+ z.bootReservedPages {
                fail("present = managed + boot-reserved", managed &+ z.bootReservedPages, z.presentPages)
            }
            let mine = snapshot.segments.filter { $0.zone == z.index }
            let pages = mine.reduce(UInt64(0)) { $0 &+ $1.pageCount }
            if managed != pages { fail("managed = the pages of its segments", pages, managed) }
            if UInt64(z.segmentCount) != UInt64(mine.count) { fail("segment count", UInt64(mine.count), UInt64(z.segmentCount)) }
            if let first = mine.first, z.firstSegment != first.index { fail("first segment", UInt64(first.index), UInt64(z.firstSegment)) }
            for s in mine where s.startPFN < z.startPFN || s.endPFN > z.endPFN {
                r.add(Violation(.zoneParameters, zone: z.name, segment: s.index, pfn: s.startPFN,
                                expected: "a segment inside the zone's span", found: "[\(hex(s.startPFN)), \(hex(s.endPFN)))"))
            }
        }
    }

    /// Every managed frame names its segment's zone; a frame outside every segment is a hole
    /// or a boot reservation: no free, allocated or cached state, no segment index.
    func checkFrameFields(_ r: inout VerifyReport) {
        let f = snapshot.flags
        var next: UInt64 = 0
        let count = UInt64(snapshot.frames.count)
        func outside(_ from: UInt64, _ to: UInt64) {
            var p = from
            while p < min(to, count) {
                if let m = snapshot.frames[p], m.flags & (f.free | f.allocated | f.pcp) != 0 || m.segment != 0xFFFF {
                    r.add(Violation(.frameFields, pfn: p, expected: "a hole or a boot reservation (no free, allocated or cached state, segment 0xffff)",
                                    found: "flags 0x\(String(m.flags, radix: 16)) segment \(m.segment)"))
                }
                p += 1
            }
        }
        for seg in snapshot.segments.sorted(by: { $0.startPFN < $1.startPFN }) {
            if seg.startPFN > next { outside(next, seg.startPFN) }
            var p = seg.startPFN
            while p < min(seg.endPFN, count) {
                if let m = snapshot.frames[p] {
                    if Int(m.zone) != seg.zone {
                        r.add(Violation(.frameFields, zone: zoneName(seg.zone), segment: seg.index, pfn: p,
                                        expected: "zone \(seg.zone), its segment's", found: "zone \(m.zone)"))
                    }
                    if m.lastSeq > snapshot.sequence {
                        r.add(Violation(.frameFields, zone: zoneName(seg.zone), segment: seg.index, pfn: p,
                                        expected: "lastSeq at most the sequence \(snapshot.sequence)", found: "\(m.lastSeq)"))
                    }
                }
                p += 1
            }
            next = max(next, seg.endPFN)
        }
        outside(next, count)
    }

    /// Integer square root (floor), as the kernel computes it.
    static func isqrt(_ n: UInt64) -> UInt64 {
        if n < 2 { return n }
        var x = n
        var y = (x &+ 1) / 2
        while y < x {
            x = y
            y = (x &+ n / x) / 2
        }
        return x
    }
}
