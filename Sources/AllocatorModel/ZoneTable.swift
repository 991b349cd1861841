/// The zone view: one line per zone (as the kernel's boot report prints it), then buddyinfo.
public enum ZoneTable {
    public static func text(_ s: KernelSnapshot) -> String {
        var lines = ["sequence \(s.sequence)"]
        for z in s.zones {
            let name = z.name + String(repeating: " ", count: max(1, 7 - z.name.count))
            lines.append("zone \(name)pfn [0x\(String(z.startPFN, radix: 16)), 0x\(String(z.endPFN, radix: 16))) "
                + "spanned \(z.spannedPages) present \(z.presentPages) managed \(z.managedPages) "
                + "boot-reserved \(z.bootReservedPages) reserved \(z.reservedPages) free \(z.freePages) "
                + "pcp \(z.pcpCount) allocated \(z.allocatedPages) min \(z.watermarkMin) low \(z.watermarkLow) "
                + "high \(z.watermarkHigh) segments \(z.segmentCount)")
        }
        lines.append(Buddyinfo.text(s))
        return lines.joined(separator: "\n")
    }
}
