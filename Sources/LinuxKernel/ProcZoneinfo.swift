/// The per-zone "pages free" of /proc/zoneinfo (the zone's `vm_stat[NR_FREE_PAGES]`).
public enum ProcZoneinfo {
    /// Zone name → pages free, for node `node`, from the guest's /proc/zoneinfo text.
    public static func freePages(_ text: String, node: Int = 0) -> [String: UInt64] {
        var result: [String: UInt64] = [:]
        var zone: String?
        for line in text.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\t" || $0 == "\r" })
            if fields.count == 4, fields[0] == "Node", fields[2] == "zone" {
                zone = Int(fields[1]) == node ? String(fields[3]) : nil
            } else if let name = zone, fields.count == 3, fields[0] == "pages", fields[1] == "free",
                      let value = UInt64(fields[2]) {
                result[name] = value
            }
        }
        return result
    }

    /// Zone name → the `count:` of each CPU's pageset, in CPU order, for node `node`.
    public static func perCPUCounts(_ text: String, node: Int = 0) -> [String: [Int]] {
        var result: [String: [Int]] = [:]
        var zone: String?
        for line in text.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\t" || $0 == "\r" })
            if fields.count == 4, fields[0] == "Node", fields[2] == "zone" {
                zone = Int(fields[1]) == node ? String(fields[3]) : nil
            } else if let name = zone, fields.count == 2, fields[0] == "count:", let value = Int(fields[1]) {
                result[name, default: []].append(value)
            }
        }
        return result
    }
}
