import KernelLayouts

/// Why the Linux decoder stopped (a list that walks badly is an issue, not an error).
public enum LinuxDecodeError: Error, CustomStringConvertible {
    case unreadable(what: String, address: UInt64, underlying: String)
    case implausible(what: String, value: UInt64)

    public var description: String {
        switch self {
        case .unreadable(let what, let address, let underlying):
            return "cannot read \(what) at 0x\(String(address, radix: 16)): \(underlying)"
        case .implausible(let what, let value):
            return "\(what) = 0x\(String(value, radix: 16)) is not a kernel address (is the guest stopped in a booted kernel, with this symbol map?)"
        }
    }
}

/// Reads Linux's buddy allocator (node 0) from guest memory: `node_data[0]` → `node_zones[i]`
/// → `free_area[order]` (nr_free, free_list[migratetype]) → each free page's `struct page`
/// → its PFN through `vmemmap_base`.
public struct LinuxFreeAreaDecoder {
    public var memory: GuestMemory
    public var symbols: SymbolMap
    public var layout: LinuxMMLayout
    /// The most nodes any one free list may have before the walk gives up (the kernel's own
    /// /proc/pagetypeinfo stops counting at 100,000).
    public var listLimit = 1 << 22

    public init(memory: GuestMemory, symbols: SymbolMap, layout: LinuxMMLayout) {
        self.memory = memory
        self.symbols = symbols
        self.layout = layout
    }

    /// Decodes node `node` (0 by default; any id ``LinuxNodes`` lists).
    public func decode(node: Int = 0) throws -> LinuxBuddyState {
        let pageOffsetBase = try readPointer(symbol: "page_offset_base")
        let vmemmapBase = try readPointer(symbol: "vmemmap_base")
        // node_data is `struct pglist_data *node_data[MAX_NUMNODES]`: entry i is node i.
        guard node >= 0, node < LinuxNodes.limit else { throw LinuxDecodeError.implausible(what: "node", value: UInt64(truncatingIfNeeded: node)) }
        let pgdat = try readPointer(symbol: "node_data", index: node)
        let names = try migratetypeNames()

        let cpuOffsets = perCPUOffsets()
        var zones: [LinuxZoneFreeArea] = []
        for index in 0..<layout.zoneCount {
            let zoneAddress = pgdat &+ UInt64(layout.nodeZonesOffset) &+ UInt64(index * layout.nodeZoneStride)
            var zone = try decodeZone(index: index, at: zoneAddress, vmemmapBase: vmemmapBase)
            if zone.isPopulated {
                zone.perCPUCounts = perCPUCounts(zoneAddress: zoneAddress, cpuOffsets: cpuOffsets)
                zone.freePagesCounterDiffs = freePagesDiffs(zoneAddress: zoneAddress, cpuOffsets: cpuOffsets)
            }
            zones.append(zone)
        }
        return LinuxBuddyState(node: node, zones: zones, migratetypeNames: names,
                               pageOffsetBase: pageOffsetBase, vmemmapBase: vmemmapBase)
    }

    private func decodeZone(index: Int, at address: UInt64, vmemmapBase: UInt64) throws -> LinuxZoneFreeArea {
        let bytes = try read("struct zone \(index)", at: address, count: layout.zoneSize)
        func word(_ offset: Int) -> UInt64 { loadU64(bytes, offset) }
        let namePointer = word(layout.zoneNameOffset)
        let name = (try? readCString(at: namePointer, limit: 32)) ?? "zone\(index)"
        var zone = LinuxZoneFreeArea(
            index: index, name: name,
            startPFN: word(layout.zoneStartPFNOffset), spannedPages: word(layout.zoneSpannedPagesOffset),
            presentPages: word(layout.zonePresentPagesOffset), managedPages: word(layout.zoneManagedPagesOffset),
            freePagesCounter: layout.zoneFreePagesCounterOffset.map { Int64(bitPattern: word($0)) },
            nrFree: [], walked: Array(repeating: Array(repeating: 0, count: layout.orderCount),
                                      count: layout.migratetypeCount),
            blocks: [], issues: [])
        for order in 0..<layout.orderCount {
            let area = layout.zoneFreeAreaOffset + order * layout.freeAreaSize
            let nrFree = word(area + layout.nrFreeOffset)
            zone.nrFree.append(nrFree)
            // An empty zone's lists were never initialised (all zero): nothing to walk.
            guard zone.presentPages != 0 else { continue }
            for mt in 0..<layout.migratetypeCount {
                let headOffset = area + layout.freeListOffset + mt * layout.listHeadSize
                let head = address &+ UInt64(headOffset)
                // nr_free counts this order's blocks on all lists: no one list is longer
                // (one step more lets a list that outgrows nr_free show as such).
                let bound = Int(clamping: min(UInt64(listLimit), nrFree)) + 1
                let (walk, privates, types) = walkList(head: head, limit: bound)
                for node in walk.nodes {
                    switch pfn(ofListNode: node, vmemmapBase: vmemmapBase) {
                    case .success(let pfn):
                        zone.blocks.append(LinuxFreeBlock(pfn: pfn, order: order, migratetype: mt,
                                                          recordedOrder: privates[node], pageType: types[node]))
                    case .failure(let problem):
                        zone.issues.append(LinuxFreeListIssue(zone: name, order: order, migratetype: mt, problem: problem.text))
                    }
                }
                zone.walked[mt][order] = walk.nodes.count
                if case .limitReached = walk.end, nrFree > UInt64(listLimit) {
                    zone.cutShort.append(LinuxFreeListIssue(zone: name, order: order, migratetype: mt,
                        problem: "walked the first \(walk.nodes.count) blocks; nr_free \(nrFree) is above the walk's bound \(listLimit)"))
                } else if walk.end != .closed {
                    zone.issues.append(LinuxFreeListIssue(zone: name, order: order, migratetype: mt,
                                                          problem: "walk ended: \(walk.end)"))
                }
            }
        }
        return zone
    }

    /// Follows `next`, checking `prev`, through nodes of the guest. When `page.private` and
    /// `page._mapcount` lie shortly after the list node (as in 6.1: node at +8, private at +40,
    /// _mapcount at +48) the same read brings them, and they are returned per node.
    private func walkList(head: UInt64, limit: Int) -> (ListWalk, [UInt64: UInt64], [UInt64: UInt32]) {
        var span = max(layout.listNextOffset, layout.listPrevOffset) + 8
        func delta(_ offset: Int?, _ width: Int) -> Int? {
            guard let offset, offset - layout.pageBuddyListOffset >= 0, offset - layout.pageBuddyListOffset <= 256 - width else { return nil }
            span = max(span, offset - layout.pageBuddyListOffset + width)
            return offset - layout.pageBuddyListOffset
        }
        let privateDelta = delta(layout.pagePrivateOffset, 8)
        let typeDelta = delta(layout.pageMapcountOffset, 4)
        var privates: [UInt64: UInt64] = [:]
        var types: [UInt64: UInt32] = [:]
        let walk = ListWalk.walk(head: head, limit: limit) { node in
            let bytes = try memory.read(at: node, count: span)
            if node != head {
                if let privateDelta { privates[node] = loadU64(bytes, privateDelta) }
                if let typeDelta { types[node] = loadU32(bytes, typeDelta) }
            }
            return (loadU64(bytes, layout.listNextOffset), loadU64(bytes, layout.listPrevOffset))
        }
        return (walk, privates, types)
    }

    /// container_of(node, struct page, buddy_list), then its index in the vmemmap array.
    func pfn(ofListNode node: UInt64, vmemmapBase: UInt64) -> Result<UInt64, ListNodeProblem> {
        let (page, o1) = node.subtractingReportingOverflow(UInt64(layout.pageBuddyListOffset))
        let (delta, o2) = page.subtractingReportingOverflow(vmemmapBase)
        guard !o1, !o2, layout.pageSize > 0 else {
            return .failure(ListNodeProblem(text: "node 0x\(String(node, radix: 16)) lies below vmemmap_base"))
        }
        let stride = UInt64(layout.pageSize)
        guard delta % stride == 0 else {
            return .failure(ListNodeProblem(text: "node 0x\(String(node, radix: 16)) is not a struct page's \(layout.pageBuddyListName)"))
        }
        return .success(delta / stride)
    }

    /// The most CPUs whose per-CPU lists are read.
    public static let cpuLimit: UInt32 = 1024

    /// `__per_cpu_offset[0 ..< nr_cpu_ids]`, empty when the symbols are missing or unreadable.
    public func perCPUOffsets() -> [UInt64] {
        guard let table = symbols.symbol(named: "__per_cpu_offset")?.address,
              let countAddress = symbols.symbol(named: "nr_cpu_ids")?.address,
              let countBytes = try? memory.read(at: countAddress, count: 4) else { return [] }
        let count = UInt32(countBytes[0]) | UInt32(countBytes[1]) << 8 | UInt32(countBytes[2]) << 16 | UInt32(countBytes[3]) << 24
        guard count > 0, count <= Self.cpuLimit, let bytes = try? memory.read(at: table, count: Int(count) * 8) else { return [] }
        return (0..<Int(count)).map { loadU64(bytes, $0 * 8) }
    }

    /// Why ``perCPUOffsets()`` is empty, or nil when it is not: a verdict that could read no
    /// CPU's lists says so (issue 22) instead of passing over them.
    public func perCPUOffsetsUnavailable() -> String? {
        guard symbols.symbol(named: "__per_cpu_offset") != nil, let countAddress = symbols.symbol(named: "nr_cpu_ids")?.address else {
            return "__per_cpu_offset or nr_cpu_ids is not in the symbols"
        }
        guard let bytes = try? memory.read(at: countAddress, count: 4), bytes.count == 4 else { return "nr_cpu_ids cannot be read" }
        let count = UInt32(bytes[0]) | UInt32(bytes[1]) << 8 | UInt32(bytes[2]) << 16 | UInt32(bytes[3]) << 24
        guard count > 0, count <= Self.cpuLimit else { return "nr_cpu_ids is \(count), outside 1…\(Self.cpuLimit)" }
        return perCPUOffsets().isEmpty ? "__per_cpu_offset[0..<\(count)] cannot be read" : nil
    }

    /// `per_cpu_ptr(zone->per_cpu_pageset, cpu)->count` for each CPU (-1 where unreadable).
    private func perCPUCounts(zoneAddress: UInt64, cpuOffsets: [UInt64]) -> [Int] {
        guard let pagesetOffset = layout.zonePerCPUPagesetOffset, let countOffset = layout.perCPUPagesCountOffset,
              !cpuOffsets.isEmpty,
              let pointerBytes = try? memory.read(at: zoneAddress &+ UInt64(pagesetOffset), count: 8) else { return [] }
        let pageset = loadU64(pointerBytes, 0)
        return cpuOffsets.map { offset in
            guard let bytes = try? memory.read(at: pageset &+ offset &+ UInt64(countOffset), count: 4) else { return -1 }
            return Int(Int32(bitPattern: UInt32(bytes[0]) | UInt32(bytes[1]) << 8 | UInt32(bytes[2]) << 16 | UInt32(bytes[3]) << 24))
        }
    }

    // MARK: - guest reads

    /// Each CPU's `vm_stat_diff[NR_FREE_PAGES]` for the zone at `zoneAddress`; empty when BTF
    /// lacks the fields or a CPU's byte cannot be read (the check then says it went without).
    private func freePagesDiffs(zoneAddress: UInt64, cpuOffsets: [UInt64]) -> [Int] {
        guard let statsOffset = layout.zonePerCPUZonestatsOffset, let diffOffset = layout.zonestatFreePagesDiffOffset,
              !cpuOffsets.isEmpty,
              let pointerBytes = try? memory.read(at: zoneAddress &+ UInt64(statsOffset), count: 8) else { return [] }
        let stats = loadU64(pointerBytes, 0)
        var diffs: [Int] = []
        for offset in cpuOffsets {
            guard let byte = try? memory.read(at: stats &+ offset &+ UInt64(diffOffset), count: 1) else { return [] }
            diffs.append(Int(Int8(bitPattern: byte[0])))
        }
        return diffs
    }

    private func read(_ what: String, at address: UInt64, count: Int) throws -> [UInt8] {
        do { return try memory.read(at: address, count: count) }
        catch { throw LinuxDecodeError.unreadable(what: what, address: address, underlying: "\(error)") }
    }

    private func readPointer(symbol name: String, index: Int = 0) throws -> UInt64 {
        let address = try symbols.address(of: name) &+ UInt64(index * 8)
        let value = loadU64(try read(name, at: address, count: 8), 0)
        guard value >= 0xffff_8000_0000_0000 else { throw LinuxDecodeError.implausible(what: name, value: value) }
        return value
    }

    /// `migratetype_names[]` (one `const char *` per free_list entry), or `MT<n>` when the
    /// symbol is not in the map.
    private func migratetypeNames() throws -> [String] {
        let fallback = (0..<layout.migratetypeCount).map { "MT\($0)" }
        guard let base = symbols.symbol(named: "migratetype_names")?.address else { return fallback }
        let bytes = try read("migratetype_names", at: base, count: 8 * layout.migratetypeCount)
        return (0..<layout.migratetypeCount).map { i in
            (try? readCString(at: loadU64(bytes, i * 8), limit: 32)) ?? fallback[i]
        }
    }

    /// A NUL-terminated string of at most `limit` bytes. Read whole first; if that range is
    /// not all mapped (a short string at the end of a page), 8 bytes at a time up to the NUL.
    public func readCString(at address: UInt64, limit: Int) throws -> String {
        var bytes: [UInt8]
        if let whole = try? memory.read(at: address, count: limit) {
            bytes = whole
        } else {
            bytes = []
            while bytes.count < limit, !bytes.contains(0) {
                bytes += try memory.read(at: address &+ UInt64(bytes.count), count: 8)
            }
        }
        let end = bytes.firstIndex(of: 0) ?? min(bytes.count, limit)
        return String(decoding: bytes[..<end], as: UTF8.self)
    }
}

/// A free-list node that is not the list node of a `struct page` in the vmemmap.
struct ListNodeProblem: Error {
    var text: String
}

/// Little-endian UInt64 at `offset`, 0 when out of range (the layout's offsets come from BTF
/// and are checked against the struct size, but never trap on them).
func loadU64(_ bytes: [UInt8], _ offset: Int) -> UInt64 {
    guard offset >= 0, offset <= bytes.count - 8 else { return 0 }
    var value: UInt64 = 0
    for i in 0..<8 { value |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
    return value
}
