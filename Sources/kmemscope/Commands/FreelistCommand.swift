import ArgumentParser
import BundledState
import BundledKernel
import KernelLayouts
import AllocatorView

/// `kmemscope freelist ZONE ORDER [MIGRATETYPE]`: walks free lists and prints their blocks in
/// list order, marking where a list breaks (a link out of its segment, a cycle, a node that is
/// not a free head of the list's order and migratetype).
struct FreelistCommand: GuestCommand {
    static let configuration = CommandConfiguration(
        commandName: "freelist",
        abstract: "Walk a zone's free lists of one order (one migratetype, or all) and print their blocks in order.",
        discussion: ViewHelp.freelist)

    @Argument(help: "The zone: DMA, DMA32, Normal (any case) or its index.")
    var zone: String

    @Argument(help: "The order (0…11; Linux 6.1: 0…10).")
    var order: Int

    @Argument(help: "The migratetype: Unmovable, Movable (Linux: also Reclaimable, HighAtomic, Isolate…) or its slot number (default: every slot).")
    var migratetype: String?

    @Option(help: "Linux: the NUMA node whose lists to walk (default 0).")
    var node: Int?

    @OptionGroup var profile: KernelProfileOptions
    @OptionGroup var image: ImageOptions
    @OptionGroup var stub: TargetOptions
    @OptionGroup var settling: SettleOptions

    func validate() throws {
        if node != nil && !profile.isLinux { throw ValidationError("--node goes with --kernel linux (the bundled kernel has one node)") }
    }

    func run(in context: CommandContext) throws {
        if profile.isLinux {
            let (text, broken) = try LinuxAttach.run(profile, stub, in: context, settling: settling) { linux in
                let id = node ?? 0
                let nodes = try linux.nodes().ids
                guard nodes.contains(id) else {
                    throw ValidationError("no NUMA node \(id): the guest has node\(nodes.count == 1 ? "" : "s") \(nodes.map(String.init).joined(separator: ", "))")
                }
                return try LinuxFreelist(zone: zone, order: order, migratetype: migratetype, json: image.json).render(try linux.decodeBuddy(node: id))
            }
            print(text)
            if broken { throw ExitCode(1) }
            return
        }
        let s = try GuestSource(image, stub, in: context).read(settling: settling) { s in try SnapshotDecoder(info: s.info, memory: s.memory).decode() }
        guard let z = s.zones.first(where: { $0.name.lowercased() == zone.lowercased() || String($0.index) == zone }) else {
            throw ValidationError("no zone \(zone): the guest has \(s.zones.map(\.name).joined(separator: ", "))")
        }
        guard (0...s.maxOrder).contains(order) else { throw ValidationError("order must be 0…\(s.maxOrder)") }
        let names = MigratetypeName.names.map { $0.lowercased() }
        // every migratetype in use (the slots beyond them are room for more, always empty)
        var slots = Array(0..<max(0, min(s.migratetypes, s.migratetypeSlots)))
        if let mt = migratetype {
            guard let slot = names.firstIndex(of: mt.lowercased()) ?? Int(mt), slot >= 0, slot < s.migratetypeSlots else {
                throw ValidationError("no migratetype \(mt): Unmovable, Movable or a slot 0…\(s.migratetypeSlots - 1)")
            }
            slots = [slot]
        }
        var broken = false
        var lists: [FreelistJSON.List] = []
        for seg in s.segments where seg.zone == z.index {
            for mt in slots {
                let slot = mt * (s.maxOrder + 1) + order
                guard slot < seg.freeHeads.count else { continue }
                let walk = FreeListWalk(s, seg, migratetype: mt, order: order)
                let name = MigratetypeName.of(mt)
                if walk.broken != nil { broken = true }
                if image.json {
                    lists.append(FreelistJSON.List(segment: seg.index, migratetype: name, walked: walk.blocks.count,
                                                   counted: slot < seg.freeCounts.count ? seg.freeCounts[slot] : 0,
                                                   blocks: walk.blocks.map { "0x" + String($0, radix: 16) }, broken: walk.broken))
                    continue
                }
                print("segment \(seg.index) \(z.name) \(name) order \(order): \(walk.blocks.count) blocks (count says \(seg.freeCounts[slot]))")
                for chunk in stride(from: 0, to: walk.blocks.count, by: 8) {
                    print("  " + walk.blocks[chunk..<min(chunk + 8, walk.blocks.count)].map { "0x" + String($0, radix: 16) }.joined(separator: " "))
                }
                if let why = walk.broken { print("  -> broken: \(why)") }
            }
        }
        if image.json {
            print(try JSONOutput.string(FreelistJSON(sequence: s.sequence, zone: z.name, order: order, broken: broken, lists: lists)))
        }
        if broken { throw ExitCode(1) }
    }
}

/// `freelist --json` (schema version 1): each list walked, its blocks as hex PFNs in list
/// order, the kernel's own count beside the walked one, and where it broke.
struct FreelistJSON: Encodable {
    struct List: Encodable {
        var segment: Int
        var migratetype: String
        var walked: Int
        var counted: UInt64
        var blocks: [String]
        var broken: String?
    }
    var schemaVersion = 1
    var sequence: UInt64
    var zone: String
    var order: Int
    var broken: Bool
    var lists: [List]
}

/// One free list walked as `freelist` prints it: its blocks in order and where it broke.
struct FreeListWalk {
    var blocks: [UInt64] = []
    var broken: String?

    init(_ s: KernelSnapshot, _ seg: SegmentSnapshot, migratetype mt: Int, order: Int) {
        var seen: Set<UInt64> = []
        var prev = KernelSnapshot.none
        var p = seg.freeHeads[mt * (s.maxOrder + 1) + order]
        while p != KernelSnapshot.none {
            guard p >= seg.startPFN && p < seg.endPFN, let f = s.frames[p] else { broken = "a link to \(hex(p)), outside the segment"; return }
            guard seen.insert(p).inserted else { broken = "a cycle back to \(hex(p))"; return }
            guard UInt64(blocks.count) < seg.pageCount else { broken = "more blocks than the segment has pages"; return }
            if f.flags & s.flags.free == 0 || f.flags & s.flags.head == 0 || Int(f.order) != order || Int(f.migratetype) != mt {
                broken = "\(hex(p)) is not a free head of order \(order), migratetype \(mt) (flags 0x\(String(f.flags, radix: 16)) order \(f.order) migratetype \(f.migratetype))"
                return
            }
            if f.prev != prev { broken = "\(hex(p))'s prev is \(hex(f.prev)), not \(prev == KernelSnapshot.none ? "none" : hex(prev))"; return }
            blocks.append(p)
            prev = p
            p = f.next
        }
    }
}
