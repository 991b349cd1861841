import BundledChecks

/// Rows of docs/fault-matrix.md.
public enum FaultMatrix {
    /// `| Structure.field | how | expected | found | location |` for a field corruption.
    public static func row(_ r: CorruptionResult) -> String {
        let c = r.corruption
        let expected = c.expected.isEmpty ? "— (\(c.uncheckable ?? "?"))" : c.expected.map { "`\($0.rawValue)`" }.joined(separator: " / ")
        let found: String
        let location: String
        switch r.outcome {
        case .noTarget: found = "no target in this guest"; location = "—"
        case .refused(let why): found = "decoder refuses: \(why)"; location = "—"
        case .verified(let report):
            found = report.passed ? "**unnoticed**" : report.failedChecks.map { "`\($0.rawValue)`" }.joined(separator: ", ")
            location = r.hit.map(where_) ?? (report.violations.first.map { "elsewhere: " + where_($0) } ?? "—")
        }
        let verdict = r.asPromised ? "" : " **NOT AS DOCUMENTED**"
        return "| `\(c.name)` | \(c.how) | \(expected) | \(found)\(verdict) | \(location) |"
    }

    /// `| kind | kernel's line | checks | where |` for a fault kind.
    /// With `pfn`, the location is the first violation at that frame (or its pageblock).
    public static func row(label: String, at: String, report: VerifyReport, pfn: UInt64? = nil) -> String {
        let checks = report.passed ? "**unnoticed**" : report.failedChecks.map { "`\($0.rawValue)` (\(report.counts[$0]!))" }.joined(separator: ", ")
        let there = pfn.flatMap { p in report.violations.first { v in v.pfn.map { $0 == p || $0 == p & ~511 || ($0 ^ p).nonzeroBitCount == 1 } ?? false } }
        let first = there.map { "`\($0.check.rawValue)` at " + where_($0) }
            ?? report.violations.first.map { "`\($0.check.rawValue)` at " + where_($0) + (pfn == nil || $0.pfn == nil ? "" : " (none at the corrupted frame)") } ?? "—"
        return "| `\(label)` | \(at) | \(checks) | \(first) |"
    }

    static func where_(_ v: Violation) -> String {
        var parts: [String] = []
        if let z = v.zone { parts.append("zone \(z)") }
        if let c = v.cache { parts.append("cache \(c)") }
        if let s = v.segment { parts.append("segment \(s)") }
        if let p = v.pfn { parts.append("pfn 0x" + String(p, radix: 16)) }
        return parts.isEmpty ? "global" : parts.joined(separator: ", ")
    }
}
