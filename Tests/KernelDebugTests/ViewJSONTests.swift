import Foundation
import Testing

/// Each view's JSON (and `zones --tree`) against the kernel's own report at its last checkpoint:
/// the buddyinfo and slabinfo lines it prints by walking its own structures, and its `zonestat`
/// line (free pages per migratetype, per-CPU pages).
@Suite("View JSON against the kernel's report")
struct ViewJSONTests {
    @Test func viewsAgreeWithTheKernelsCheckpoint() throws {
        let boot = try DebugBoot(memory: "1G", append: "seed=4 ops=5000 phases=2")
        defer { boot.stop() }
        try boot.runUntil()
        let report = try boot.report(afterCheckpoint: 2)
        let kernelBuddy = report.filter { $0.hasPrefix("Node 0, zone") }
        let target = ["--target", "unix:" + boot.socket, "--elf", DebugBoot.kernel]
        func json(_ args: [String]) throws -> [String: Any] {
            let r = try InfoCommandTests.kmemscope(args + ["--json"] + target)
            #expect(r.status == 0, "\(args): \(r.err)")
            let object = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any]
            let document = try #require(object, "\(args): \(r.out) \(r.err)")
            #expect(document["schemaVersion"] as? Int == 1, "\(args)")
            return document
        }
        /// `Node 0, zone DMA32 1 2 …` → ("DMA32", [1, 2, …])
        func row(_ line: String) -> (String, [Int]) {
            let f = line.split(whereSeparator: { $0 == " " || $0 == "," })
            return (String(f[3]), f[4...].compactMap { Int($0) })
        }
        let kernelRows = kernelBuddy.map(row)

        // buddyinfo: the lines, exactly (Linux's trailing space aside)
        let buddy = try json(["buddyinfo"])
        #expect((buddy["lines"] as? [String])?.map { $0.hasSuffix(" ") ? String($0.dropLast()) : $0 } == kernelBuddy)

        // zones: free blocks per order and per-CPU pages of each zone
        let zones = try #require(try json(["zones"])["zones"] as? [[String: Any]])
        for (name, counts) in kernelRows {
            let zone = zones.first { $0["name"] as? String == name }
            #expect(zone?["freeBlocks"] as? [Int] == counts, "\(name): \(zone ?? [:])")
        }
        for line in report where line.hasPrefix("kmem: zonestat ") {
            let f = line.split(separator: " ").map(String.init)   // kmem: zonestat NAME … Unmovable N Movable M pcp P
            let zone = zones.first { $0["name"] as? String == f[2] }
            #expect(zone?["perCPUPages"] as? Int == Int(f[f.count - 1]), "\(line)")
            let free = Int(f[f.count - 5])! + Int(f[f.count - 3])!
            #expect(zone?["freePages"] as? Int == free, "\(line)")
        }

        // zones --tree: per zone, Σ over segments of blocks per order = buddyinfo; pages per
        // migratetype = the kernel's zonestat
        let tree = try #require(try json(["zones", "--tree"])["zones"] as? [[String: Any]])
        for (name, counts) in kernelRows {
            let zone = try #require(tree.first { $0["name"] as? String == name })
            var perOrder = Array(repeating: 0, count: counts.count)
            var pages: [String: Int] = [:]
            for segment in zone["segments"] as? [[String: Any]] ?? [] {
                for order in segment["orders"] as? [[String: Any]] ?? [] {
                    let k = order["order"] as? Int ?? 0, blocks = order["blocks"] as? [String: Int] ?? [:]
                    perOrder[k] += blocks.values.reduce(0, +)
                    for (mt, n) in blocks { pages[mt, default: 0] += n << k }
                }
            }
            #expect(perOrder == counts, "\(name)")
            let stat = try #require(report.first { $0.hasPrefix("kmem: zonestat \(name) ") }).split(separator: " ").map(String.init)
            #expect(pages["Unmovable"] == Int(stat[stat.count - 5]) && pages["Movable"] == Int(stat[stat.count - 3]), "\(name): \(pages) vs \(stat)")
        }
        let treeText = try InfoCommandTests.kmemscope(["zones", "--tree"] + target)
        #expect(treeText.out.contains("zone DMA32  pfn [0x1000, ") && treeText.out.contains("  segment ") && treeText.out.contains("    order  0: Unmovable "), "\(treeText.out)")

        // slabinfo: name, active objects, objects, object size, objects per slab; slabs
        let slab = try #require(try json(["slabinfo"])["lines"] as? [String])
        #expect(slab.first == "slabinfo - version: 2.1")
        for line in report where line.hasPrefix("slabinfo: kmalloc-") {
            let k = line.split(separator: " ").dropFirst().map(String.init)
            let mine = try #require(slab.first { $0.hasPrefix(k[0] + " ") }?.split(separator: " ").map(String.init), "\(k[0])")
            #expect(Array(mine[0...4]) == Array(k[0...4]) && mine[mine.count - 3] == k[k.count - 1], "\(line) vs \(mine)")
        }

        // pagetypeinfo and zoneinfo: the free table sums to buddyinfo; zoneinfo's "pages free"
        let types = try #require(try json(["pagetypeinfo"])["lines"] as? [String])
        for (name, counts) in kernelRows {
            let rows = types.filter { $0.contains("zone \(String(repeating: " ", count: max(0, 8 - name.count)))\(name), type") }
            let sums = rows.map { $0.split(separator: " ").compactMap { Int($0) } }   // "0," (the node) is no number
                .reduce(Array(repeating: 0, count: counts.count)) { acc, r in zip(acc, r).map(+) }
            #expect(sums == counts, "\(name): \(rows)")
        }
        let zoneinfo = try #require(try json(["zoneinfo"])["lines"] as? [String])
        for zone in zones where (zone["presentPages"] as? Int ?? 0) > 0 {
            #expect(zoneinfo.contains("  pages free     \(zone["freePages"] as? Int ?? -1)"), "\(zone["name"] ?? "")")
        }
    }
}
