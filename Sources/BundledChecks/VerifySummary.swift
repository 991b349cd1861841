import BundledState

/// The first lines of `verify`, in the manner of illumos MDB's `::kmem_verify`: one line per
/// zone and per slab cache, `clean` or `N corrupt`, before the details.
public enum VerifySummary {
    public static func text(_ s: KernelSnapshot, _ report: VerifyReport) -> String {
        var lines: [String] = []
        for z in s.zones where z.managedPages > 0 {
            let n = report.violations.filter { $0.zone == z.name }.count
            lines.append("zone  " + z.name.padding(12) + (n == 0 ? "clean" : "\(n) corrupt"))
        }
        for c in s.heap?.caches ?? [] {
            let n = report.violations.filter { $0.cache == c.name }.count
            lines.append("cache " + c.name.padding(12) + (n == 0 ? "clean" : "\(n) corrupt"))
        }
        let elsewhere = report.violations.filter { $0.zone == nil && $0.cache == nil }.count
        if elsewhere > 0 { lines.append("other             \(elsewhere) corrupt") }
        return lines.joined(separator: "\n")
    }
}

extension String {
    /// Left-aligned in `width` columns (at least one space after).
    func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(1, width - count)) }
}
