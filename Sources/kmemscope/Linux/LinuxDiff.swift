import Foundation
import KernelLayouts
import LinuxKernel

/// `diff --kernel linux A B`: what changed between two moments of one kernel build, each a
/// `snapshot --kernel linux` file or a vmcore — per node, zone and order the free blocks (`nr_free`, and per migratetype the
/// blocks walked), the free-page counter, the free blocks that appeared and went, and SLUB's
/// caches whose slab or object counts moved. Linux keeps no operation log, so nothing is
/// "explained": exit 0 when both files were read, 2 when one cannot be or the builds differ.
struct LinuxDiff {
    /// `--json` (schema version 1).
    struct Document: Encodable {
        struct Zone: Encodable {
            var node: Int
            var zone: String
            var freePagesBefore: Int64?
            var freePagesAfter: Int64?
            var nrFreeBefore: [UInt64]
            var nrFreeAfter: [UInt64]
        }
        struct Block: Encodable {
            var node: Int
            var zone: String
            var pfn: String
            var order: Int
            var migratetype: String
        }
        struct Cache: Encodable {
            var name: String
            var objectsBefore: Int
            var objectsAfter: Int
            var activeBefore: Int
            var activeAfter: Int
            var slabsBefore: Int
            var slabsAfter: Int
        }
        var schemaVersion = 1
        var kernel = "linux"
        var before: String
        var after: String
        var zones: [Zone]
        var freed: [Block]
        var taken: [Block]
        var caches: [Cache]
    }

    /// One file's state: every node's buddy state and SLUB's caches.
    struct Side {
        var buildID: String
        var states: [LinuxBuddyState]
        var slub: SlubState?
    }

    var before: String
    var after: String
    var limit: Int

    /// Reads one side: a `snapshot --kernel linux` file, or a vmcore (`--vmcore`, or any file
    /// that is not a snapshot: the vmcore reader names what it is not). Both sides name their
    /// build the same way, by the FNV-1a hash of `linux_banner` (``LinuxSnapshot/buildID(_:)``).
    static func read(_ path: String, _ profile: KernelProfileOptions) throws -> Side {
        let (map, types) = try LinuxAttach.symbols(profile.symbols ?? "")
        func side(_ linux: LinuxKernelTarget) throws -> Side {
            Side(buildID: LinuxSnapshot.buildID(linux), states: try linux.nodes().ids.map { try linux.decodeBuddy(node: $0) }, slub: try? linux.decodeSlub())
        }
        if isSnapshot(path) {
            let recorded = (try? SnapshotFile(path: path))?.header.buildID ?? ""
            var read = try LinuxAttach.fromSnapshot(path, profile, map: map, types: types) { linux, _ in try side(linux) }
            read.buildID = recorded
            return read
        }
        return try LinuxAttach.fromVmcore(path, profile, map: map, types: types, recording: false) { linux, _ in try side(linux) }
    }

    /// Whether the file at `path` starts with a snapshot file's magic.
    static func isSnapshot(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return true }   // the snapshot reader says why
        defer { try? handle.close() }
        return (try? handle.read(upToCount: SnapshotFormat.magic.count)).map { Array($0) == SnapshotFormat.magic } ?? true
    }

    func document(_ a: Side, _ b: Side) -> Document {
        var zones: [Document.Zone] = []
        var freed: [Document.Block] = [], taken: [Document.Block] = []
        for sb in b.states {
            guard let sa = a.states.first(where: { $0.node == sb.node }) else { continue }
            for zb in sb.zones where zb.isPopulated {
                guard let za = sa.zones.first(where: { $0.index == zb.index }) else { continue }
                if za.nrFree != zb.nrFree || za.freePagesCounter != zb.freePagesCounter {
                    zones.append(Document.Zone(node: sb.node, zone: zb.name, freePagesBefore: za.freePagesCounter, freePagesAfter: zb.freePagesCounter,
                                               nrFreeBefore: za.nrFree, nrFreeAfter: zb.nrFree))
                }
                struct Key: Hashable { var pfn: UInt64; var order: Int; var mt: Int }
                let ka = Set(za.blocks.map { Key(pfn: $0.pfn, order: $0.order, mt: $0.migratetype) })
                let kb = Set(zb.blocks.map { Key(pfn: $0.pfn, order: $0.order, mt: $0.migratetype) })
                func block(_ k: Key) -> Document.Block {
                    Document.Block(node: sb.node, zone: zb.name, pfn: "0x" + String(k.pfn, radix: 16), order: k.order,
                                   migratetype: k.mt < sb.migratetypeNames.count ? sb.migratetypeNames[k.mt] : "MT\(k.mt)")
                }
                freed += kb.subtracting(ka).sorted { ($0.pfn, $0.order) < ($1.pfn, $1.order) }.map(block)
                taken += ka.subtracting(kb).sorted { ($0.pfn, $0.order) < ($1.pfn, $1.order) }.map(block)
            }
        }
        var caches: [Document.Cache] = []
        for cb in b.slub?.caches ?? [] {
            guard let ca = a.slub?.caches.first(where: { $0.name == cb.name }),
                  ca.objects != cb.objects || ca.activeObjects != cb.activeObjects || ca.slabs != cb.slabs else { continue }
            caches.append(Document.Cache(name: cb.name, objectsBefore: ca.objects, objectsAfter: cb.objects, activeBefore: ca.activeObjects,
                                         activeAfter: cb.activeObjects, slabsBefore: ca.slabs, slabsAfter: cb.slabs))
        }
        return Document(before: before, after: after, zones: zones, freed: freed, taken: taken, caches: caches)
    }

    func text(_ d: Document) -> String {
        func delta<N: BinaryInteger>(_ a: N, _ b: N) -> String { "\(a) → \(b) (\(b >= a ? "+" : "")\(Int64(b) - Int64(a)))" }
        var lines = ["diff \(before) → \(after) (Linux)"]
        if d.zones.isEmpty { lines.append("free lists: unchanged") }
        for z in d.zones {
            lines.append("Node \(z.node), zone \(z.zone): free pages " + (z.freePagesBefore.flatMap { a in z.freePagesAfter.map { delta(a, $0) } } ?? "?"))
            for order in 0..<min(z.nrFreeBefore.count, z.nrFreeAfter.count) where z.nrFreeBefore[order] != z.nrFreeAfter[order] {
                lines.append("  order \(order): \(delta(z.nrFreeBefore[order], z.nrFreeAfter[order])) blocks")
            }
        }
        lines.append("free blocks: \(d.freed.count) appeared, \(d.taken.count) went")
        for (word, blocks) in [("appeared", d.freed), ("went", d.taken)] {
            for b in blocks.prefix(limit) { lines.append("  \(word): node \(b.node) \(b.zone) pfn \(b.pfn) order \(b.order) \(b.migratetype)") }
            if blocks.count > limit { lines.append("  … \(blocks.count - limit) more \(word)") }
        }
        lines.append("slab caches: \(d.caches.count) changed")
        for c in d.caches.prefix(limit) {
            lines.append("  \(c.name): objects \(delta(c.objectsBefore, c.objectsAfter)), active \(delta(c.activeBefore, c.activeAfter)), slabs \(delta(c.slabsBefore, c.slabsAfter))")
        }
        if d.caches.count > limit { lines.append("  … \(d.caches.count - limit) more caches") }
        return lines.joined(separator: "\n")
    }
}
