/// Free-block counts as Linux prints them in /proc/buddyinfo and in /proc/pagetypeinfo's
/// "Free pages count per migrate type at order" table: parsed from the guest's text, or
/// rendered from a decoded ``LinuxBuddyState`` in the same layout.
public struct ProcFreeCounts: Sendable, Equatable {
    /// One row: node, zone name, migratetype name (nil in buddyinfo), a count per order.
    public struct Row: Sendable, Equatable {
        public var node: Int
        public var zone: String
        public var migratetype: String?
        public var counts: [UInt64]
    }

    public var rows: [Row]

    public init(rows: [Row]) { self.rows = rows }

    /// Parses /proc/buddyinfo: `Node 0, zone      DMA      1      0 …`. Lines that are not rows are skipped.
    public static func parseBuddyinfo(_ text: String) -> ProcFreeCounts {
        var rows: [Row] = []
        for line in text.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\t" })
            guard fields.count >= 4, fields[0] == "Node", let node = Int(fields[1]), fields[2] == "zone" else { continue }
            let counts = fields[4...].compactMap { UInt64($0) }
            rows.append(Row(node: node, zone: String(fields[3]), migratetype: nil, counts: counts))
        }
        return ProcFreeCounts(rows: rows)
    }

    /// Parses the per-migratetype table of /proc/pagetypeinfo:
    /// `Node    0, zone      DMA, type    Unmovable      0      1 …`.
    public static func parsePagetypeinfo(_ text: String) -> ProcFreeCounts {
        var rows: [Row] = []
        for line in text.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\t" })
            guard fields.count >= 6, fields[0] == "Node", let node = Int(fields[1]), fields[2] == "zone",
                  fields[4] == "type" else { continue }
            let counts = fields[6...].compactMap { UInt64($0) }
            rows.append(Row(node: node, zone: String(fields[3]), migratetype: String(fields[5]), counts: counts))
        }
        return ProcFreeCounts(rows: rows)
    }

    /// What /proc/buddyinfo would show for `state`: populated zones, nr_free per order.
    public static func buddyinfo(of state: LinuxBuddyState) -> ProcFreeCounts {
        ProcFreeCounts(rows: state.zones.filter(\.isPopulated).map {
            Row(node: state.node, zone: $0.name, migratetype: nil, counts: $0.nrFree)
        })
    }

    /// What /proc/pagetypeinfo's free table would show: populated zones × migratetypes,
    /// the blocks walked on each list (capped at 100,000, as the kernel caps them).
    public static func pagetypeinfo(of state: LinuxBuddyState) -> ProcFreeCounts {
        var rows: [Row] = []
        for zone in state.zones where zone.isPopulated {
            for (mt, counts) in zone.walked.enumerated() {
                let name = mt < state.migratetypeNames.count ? state.migratetypeNames[mt] : "MT\(mt)"
                rows.append(Row(node: state.node, zone: zone.name, migratetype: name,
                                counts: counts.map { UInt64(min($0, 100_000)) }))
            }
        }
        return ProcFreeCounts(rows: rows)
    }

    /// The text in the kernel's layout (`frag_show_print` / `pagetypeinfo_showfree_print`).
    public var text: String {
        rows.map { row in
            let zone = String(repeating: " ", count: max(0, 8 - row.zone.count)) + row.zone
            var line: String
            if let mt = row.migratetype {
                let node = String(row.node)
                line = "Node " + String(repeating: " ", count: max(0, 4 - node.count)) + node
                    + ", zone " + zone + ", type " + String(repeating: " ", count: max(0, 12 - mt.count)) + mt + " "
            } else {
                line = "Node \(row.node), zone \(zone) "
            }
            for count in row.counts {
                let digits = String(count)
                line += String(repeating: " ", count: max(0, 6 - digits.count)) + digits + " "
            }
            return line
        }.joined(separator: "\n")
    }
}
