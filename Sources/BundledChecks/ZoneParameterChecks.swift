import AllocatorView
import AllocatorModel
import BundledState

/// What the zone's parameters must be by the contract's formulas (kernel/README.md,
/// "Watermarks"), and the frames' own zone and segment fields — fields no list or bitmap
/// walk would notice.
extension Verifier {
    /// Watermarks, lowmem reserve and per-CPU sizes from the managed pages (Linux's formulas),
    /// and the zone's span, present, managed and segment range against its segments.
    func checkZoneParameters(_ r: inout VerifyReport) {
        let zones = snapshot.zones
        // one statement of the formulas: the reference model's (AllocatorModel)
        let expected = ModelState.Parameters.formulas(managed: zones.map(\.managedPages))
        for (z, want) in zip(zones, expected) {
            func fail(_ what: String, _ want: UInt64, _ found: UInt64) {
                r.add(Violation(.zoneParameters, zone: z.name, expected: "\(what) \(want)", found: "\(found)"))
            }
            let managed = z.managedPages
            if z.watermarkMin != want.min { fail("min watermark", want.min, z.watermarkMin) }
            if z.watermarkLow != want.low { fail("low watermark", want.low, z.watermarkLow) }
            if z.watermarkHigh != want.high { fail("high watermark", want.high, z.watermarkHigh) }
            for (j, have) in z.lowmemReserve.enumerated() where j < want.lowmemReserve.count && have != want.lowmemReserve[j] {
                fail("lowmem reserve[\(j)]", want.lowmemReserve[j], have)
            }
            for cache in z.perCPU {  // every CPU's cache of the zone has the zone's parameters
                let cpu = z.perCPU.count > 1 ? "cpu \(cache.cpu) " : ""
                if cache.batch != want.batch { fail("\(cpu)per-CPU batch", want.batch, cache.batch) }
                if cache.high != want.pcpHigh { fail("\(cpu)per-CPU high", want.pcpHigh, cache.high) }
            }
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
                                expected: "a segment inside the zone's span", found: "[\(hexOrNone(s.startPFN)), \(hexOrNone(s.endPFN)))"))
            }
        }
    }

    /// Every managed frame names its segment's zone; a frame outside every segment is a hole
    /// or a boot reservation: no free, allocated or cached state, no segment index.
    /// `suspect[i]` false: the tiling walk read every frame of `snapshot.segments[i]` and found each in
    /// its segment's zone with lastSeq in range, so its frames are not read again (nil: all are).
    func checkFrameFields(_ r: inout VerifyReport, suspect: [Bool]? = nil) {
        snapshot.frames.withReader { checkFrameFields(&r, $0, suspect: suspect) }
    }

    private func checkFrameFields(_ r: inout VerifyReport, _ frames: FrameTable.Reader, suspect: [Bool]?) {
        let f = snapshot.flags
        var next: UInt64 = 0
        let count = UInt64(snapshot.frames.count)
        func outside(_ from: UInt64, _ to: UInt64) {
            var p = from
            while p < min(to, count) {
                if let m = frames[p], m.flags & (f.free | f.allocated | f.pcp) != 0 || m.segment != 0xFFFF {
                    r.add(Violation(.frameFields, pfn: p, expected: "a hole or a boot reservation (no free, allocated or cached state, segment 0xffff)",
                                    found: "flags 0x\(String(m.flags, radix: 16)) segment \(m.segment)"))
                }
                p += 1
            }
        }
        for position in snapshot.segments.indices.sorted(by: { snapshot.segments[$0].startPFN < snapshot.segments[$1].startPFN }) {
            let seg = snapshot.segments[position]
            if seg.startPFN > next { outside(next, seg.startPFN) }
            var p = seg.startPFN
            if let suspect, position < suspect.count, !suspect[position] { p = seg.endPFN }
            while p < min(seg.endPFN, count) {
                // Two loads per frame; the record only for a frame that fails.
                if Int(frames.zone(p)) != seg.zone || frames.lastSeq(p) > snapshot.sequence, let m = frames[p] {
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
}
