import KernelLayouts

/// One CPU's per-CPU page lists of one zone (`struct per_cpu_pages`, mm/page_alloc.c): pages
/// freed to the CPU and not yet given back to the buddy lists.
public struct LinuxPerCPULists: Sendable, Equatable {
    public var cpu: Int
    /// `pcp->count`: pages on the lists, as the kernel counts them.
    public var count: Int
    /// Pages found by walking the lists: Σ entries << order of each list.
    public var walkedPages: Int
    /// Entries per list, in `lists[]` order.
    public var entries: [Int]
    /// Entries whose `page_type` says PageBuddy (a page on a per-CPU list is not on a buddy list).
    public var buddyPages: [UInt64]
    /// Lists that did not walk cleanly.
    public var problems: [String]
}

/// Reads `zone->per_cpu_pageset` for each CPU and walks its `lists[]`.
///
/// The order of the pages on list `pindex` is `pindex_to_order()` (mm/page_alloc.c):
/// `pindex / MIGRATE_PCPTYPES`, and `pageblock_order` for the THP lists after the
/// `MIGRATE_PCPTYPES × (PAGE_ALLOC_COSTLY_ORDER + 1)` low-order lists (one in 6.1 as
/// released, `NR_PCP_THP` = 2 in Debian's 6.1 builds as measured: BTF says 14 lists). `MIGRATE_PCPTYPES` comes
/// from BTF (`enum migratetype`); `PAGE_ALLOC_COSTLY_ORDER` (3) and `pageblock_order` (9 on
/// x86_64) are macros, this version's constants — and the list count BTF gives must be what
/// they predict, or the per-CPU lists are not walked.
public struct LinuxPerCPUReader {
    public var memory: GuestMemory
    public var page: LinuxPageLayout
    public var vmemmapBase: UInt64
    /// `sizeof(struct per_cpu_pages)`, `count`, `lists[]` (offset, entries).
    var structSize: Int
    var countOffset: Int
    var listsOffset: Int
    var listCount: Int
    var listNextOffset: Int
    var listPrevOffset: Int
    /// Order of each list.
    public var orders: [Int]

    public static let costlyOrder = 3
    public static let pageblockOrder = 9

    /// Why the per-CPU lists cannot be read.
    public struct Unavailable: Error, CustomStringConvertible {
        public var description: String
    }

    /// Learns the layout.
    /// - Throws: ``Unavailable`` when BTF lacks the lists or their count is not the one expected.
    public init(btf: KernelTypes, page: LinuxPageLayout, memory: GuestMemory, vmemmapBase: UInt64) throws(Unavailable) {
        let size: Int, count: BTFMember, lists: (offset: Int, count: Int, elementSize: Int), next: BTFMember, prev: BTFMember
        let pcpTypes: Int64
        do {
            size = try btf.size(ofStruct: "per_cpu_pages")
            count = try btf.member("count", of: "per_cpu_pages")
            lists = try btf.arrayMember("lists", of: "per_cpu_pages")
            next = try btf.member("next", of: "list_head")
            prev = try btf.member("prev", of: "list_head")
            pcpTypes = try btf.enumValue("MIGRATE_PCPTYPES", in: "migratetype")
        } catch {
            throw Unavailable(description: "\(error)")
        }
        let low = Int(pcpTypes) * (Self.costlyOrder + 1)
        guard pcpTypes > 0, lists.count >= low, lists.count <= low + Int(pcpTypes) else {
            throw Unavailable(description: "per_cpu_pages.lists has \(lists.count) entries; MIGRATE_PCPTYPES \(pcpTypes) and PAGE_ALLOC_COSTLY_ORDER \(Self.costlyOrder) predict \(low) low-order lists and at most \(pcpTypes) THP lists")
        }
        self.memory = memory
        self.page = page
        self.vmemmapBase = vmemmapBase
        structSize = size
        countOffset = count.offset
        listsOffset = lists.offset
        listCount = lists.count
        listNextOffset = next.offset
        listPrevOffset = prev.offset
        orders = (0..<lists.count).map { $0 < low ? $0 / Int(pcpTypes) : Self.pageblockOrder }
        listStride = lists.elementSize
    }
    var listStride: Int

    /// The lists of the `per_cpu_pages` at `address` (one CPU's), each walk bounded by the
    /// count plus one.
    public func read(cpu: Int, at address: UInt64) -> LinuxPerCPULists {
        var result = LinuxPerCPULists(cpu: cpu, count: -1, walkedPages: 0, entries: [], buddyPages: [], problems: [])
        guard let bytes = try? memory.read(at: address, count: structSize) else {
            result.problems.append("per_cpu_pages at 0x\(String(address, radix: 16)) unreadable")
            return result
        }
        result.count = Int(Int32(bitPattern: loadU32(bytes, countOffset)))
        let bound = max(0, result.count) + 1
        let typeDelta = page.mapcountOffset - page.pcpListOffset
        let span = max(max(listNextOffset, listPrevOffset) + 8, typeDelta + 4)
        for pindex in 0..<listCount {
            let head = address &+ UInt64(listsOffset + pindex * listStride)
            var types: [UInt64: UInt32] = [:]
            let walk = ListWalk.walk(head: head, limit: bound) { node in
                let b = try memory.read(at: node, count: span)
                if node != head, typeDelta >= 0 { types[node] = loadU32(b, typeDelta) }
                return (loadU64(b, listNextOffset), loadU64(b, listPrevOffset))
            }
            result.entries.append(walk.nodes.count)
            result.walkedPages += walk.nodes.count << orders[pindex]
            if walk.end != .closed { result.problems.append("list \(pindex) (order \(orders[pindex])): walk ended: \(walk.end)") }
            for node in walk.nodes {
                if page.types.isBuddy(types[node] ?? UInt32.max) {
                    let pageAddress = node &- UInt64(page.pcpListOffset)
                    result.buddyPages.append((pageAddress &- vmemmapBase) / UInt64(max(page.size, 1)))
                }
            }
        }
        return result
    }
}
