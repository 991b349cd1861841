/// `zoneinfo --kernel linux` against the guest's own /proc/zoneinfo of the same run, line by
/// line: every line byte-equal except the moving counters — the vmstat items (six-space
/// indented `name value` lines), "pages free" and a CPU's pageset `count:` — which change
/// while the guest runs between printing /proc and kmemscope stopping it; those must have the
/// same name and lie within ``tolerance`` pages (NUMA events: see ``agree(_:ours:proc:)``).
struct ZoneinfoComparison {
    /// Pages a moving counter may differ by (a per-CPU batch or two; vmstat folds every second).
    static let tolerance: Int64 = 512

    var total = 0
    var byteEqual = 0
    /// Lines that are neither equal nor a moving counter within the tolerance (ours, theirs).
    var mismatches: [(String, String)] = []
    /// The moving counters that differed: name, ours, theirs.
    var moved: [(String, Int64, Int64)] = []

    init(ours: String, guest: String) {
        let a = ours.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let b = guest.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        total = max(a.count, b.count)
        for i in 0..<total {
            let x = i < a.count ? a[i] : "<none>", y = i < b.count ? b[i] : "<none>"
            if x == y { byteEqual += 1; continue }
            if let (name, u) = Self.movingCounter(x), let (other, v) = Self.movingCounter(y), name == other, Self.agree(name, ours: u, proc: v) {
                moved.append((name, u, v))
            } else {
                mismatches.append((x, y))
            }
        }
    }

    /// NUMA events count allocations, not pages: read after /proc printed them, ours is never
    /// below /proc's and at most ``eventTolerance`` above; the page counters lie within ``tolerance``.
    static func agree(_ name: String, ours: Int64, proc: Int64) -> Bool {
        name.hasPrefix("numa_") ? ours >= proc && ours - proc <= eventTolerance : abs(ours - proc) <= tolerance
    }

    /// Allocations between /proc printing zoneinfo and kmemscope reading it (a few forks of /init).
    static let eventTolerance: Int64 = 4096

    /// A counter that moves while the guest runs: its label and value.
    static func movingCounter(_ line: String) -> (String, Int64)? {
        let fields = line.split(separator: " ")
        guard let value = fields.last.flatMap({ Int64($0) }) else { return nil }
        if line.hasPrefix("      "), !line.hasPrefix("       "), fields.count == 2 { return (String(fields[0]), value) }
        if line.hasPrefix("  pages free ") { return ("pages free", value) }
        if fields.count == 2, fields[0] == "count:" { return ("count:", value) }
        return nil
    }

    var summary: String {
        "\(byteEqual) of \(total) lines byte-equal, \(moved.count) moving counters within \(Self.tolerance) pages (NUMA events: at most \(Self.eventTolerance) more)"
            + (moved.isEmpty ? "" : " (" + moved.map { "\($0.0) \($0.1) vs \($0.2)" }.joined(separator: ", ") + ")")
            + (mismatches.isEmpty ? "" : "; \(mismatches.count) other lines differ: " + mismatches.prefix(5).map { "'\($0.0)' vs '\($0.1)'" }.joined(separator: ", "))
    }
}
