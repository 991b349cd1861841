/// The zone view: one line per zone (as the kernel's boot report prints it), then buddyinfo.
public enum ZoneTable {
    public static func text(_ s: KernelSnapshot) -> String {
        var lines = ["sequence \(s.sequence)"]
        for z in s.zones {
            let name = z.name + String(repeating: " ", count: max(1, 7 - z.name.count))
            lines.append("zone \(name)pfn [0x\(String(z.startPFN, radix: 16)), 0x\(String(z.endPFN, radix: 16))) "
                + "spanned \(z.spannedPages) present \(z.presentPages) managed \(z.managedPages) "
                + "boot-reserved \(z.bootReservedPages) reserved \(z.reservedPages) free \(z.freePages) "
                + "pcp \(z.cachedPages) allocated \(z.allocatedPages) min \(z.watermarkMin) low \(z.watermarkLow) "
                + "high \(z.watermarkHigh) segments \(z.segmentCount)")
        }
        let census = FreeListCensus(s)
        lines.append(ProcViews.buddyinfo(s, census).trimmingSuffixNewline)
        // never a count larger than the zone: a broken list is named, its count is what was walked
        for b in census.broken {
            lines.append("broken free list: " + b.text(zoneName: b.zone < s.zones.count ? s.zones[b.zone].name : "zone \(b.zone)"))
        }
        return lines.joined(separator: "\n")
    }
}

extension String {
    /// The string without one trailing newline.
    var trimmingSuffixNewline: String { hasSuffix("\n") ? String(dropLast()) : self }
}
