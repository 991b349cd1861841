import KernelLayouts

/// The Linux kernel profile: what kmemscope learns about a stock Linux guest before it can
/// decode or check anything — symbol addresses (a System.map moved by the KASLR offset found
/// in the guest, or the guest's own kallsyms), the types from the BTF in guest memory, and
/// the runtime bases from the guest's variables. The bundled kernel's profile is its layout
/// descriptor (`kmem_info`); this one is its Linux counterpart.
///
/// ```swift
/// let linux = try LinuxKernelTarget(memory: memory, symbols: map)
/// let state = try linux.decodeBuddy()           // node 0's free areas
/// let report = try LinuxVerifier.verify(linux)  // Linux's rules, by name
/// ```
public final class LinuxKernelTarget {
    public let memory: GuestMemory
    /// The symbols, moved by ``kaslrOffset``.
    public let symbols: SymbolMap
    /// What was added to the map's kernel-image addresses (0 with nokaslr or a kallsyms copy).
    public let kaslrOffset: UInt64
    /// The types: BTF from guest memory, or a vmlinux's DWARF.
    public let btf: KernelTypes
    public let layout: LinuxMMLayout
    public let page: LinuxPageLayout

    /// Finds the KASLR offset, takes `types` (a vmlinux's DWARF) or reads and parses the BTF
    /// in guest memory, learns the layouts.
    public init(memory: GuestMemory, symbols: SymbolMap, types: KernelTypes? = nil) throws {
        self.memory = memory
        kaslrOffset = try KASLR.offset(memory: memory, symbols: symbols)
        self.symbols = symbols.relocated(by: kaslrOffset)
        btf = try types ?? BTFTypes.load(from: memory, symbols: self.symbols)
        layout = try LinuxMMLayout(btf: btf)
        page = try LinuxPageLayout(btf: btf, version: Self.bannerVersion(memory: memory, symbols: self.symbols))
    }

    /// The release `linux_banner` states, read before the decoder exists (nil when the symbol
    /// is missing or its text is no banner).
    static func bannerVersion(memory: GuestMemory, symbols: SymbolMap) -> LinuxKernelVersion? {
        guard let address = symbols.symbol(named: "linux_banner")?.address else { return nil }
        // as kernelVersion() reads it (64 bytes, else 8 at a time): a snapshot holds that read
        var bytes = (try? memory.read(at: address, count: 64)) ?? []
        while bytes.isEmpty || (bytes.count < 64 && !bytes.contains(0)) {
            guard let more = try? memory.read(at: address &+ UInt64(bytes.count), count: 8) else { break }
            bytes += more
        }
        return LinuxKernelVersion(banner: String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self))
    }

    /// The most nodes one free list is walked for (``LinuxFreeAreaDecoder/listLimit``); a list
    /// cut there is named in ``LinuxZoneFreeArea/cutShort``.
    public var listLimit = 1 << 22

    /// The free-area decoder for node 0.
    public var decoder: LinuxFreeAreaDecoder {
        var d = LinuxFreeAreaDecoder(memory: memory, symbols: symbols, layout: layout)
        d.listLimit = listLimit
        return d
    }

    /// Node `node`'s zones and free lists (node 0 by default).
    public func decodeBuddy(node: Int = 0) throws -> LinuxBuddyState { try decoder.decode(node: node) }

    /// The state of the node whose zones span `pfn` (every node read in turn, node 0 first);
    /// node 0's when none does.
    public func decodeBuddy(holding pfn: UInt64) throws -> LinuxBuddyState {
        let first = try decodeBuddy()
        if first.holds(pfn) { return first }
        for id in (try? nodes().others) ?? [] {
            let state = try decodeBuddy(node: id)
            if state.holds(pfn) { return state }
        }
        return first
    }

    /// The `struct page` of `pfn` (`vmemmap_base + pfn × sizeof(struct page)`).
    public func page(_ pfn: UInt64, vmemmapBase: UInt64) throws -> LinuxPage {
        let (offset, o1) = pfn.multipliedReportingOverflow(by: UInt64(page.size))
        let (address, o2) = vmemmapBase.addingReportingOverflow(offset)
        guard !o1, !o2 else { throw LinuxDecodeError.implausible(what: "pfn", value: pfn) }
        let bytes: [UInt8]
        do { bytes = try memory.read(at: address, count: page.size) } catch {
            throw LinuxDecodeError.unreadable(what: "struct page of pfn 0x\(String(pfn, radix: 16))", address: address, underlying: "\(error)")
        }
        return LinuxPage(pfn: pfn, address: address, bytes: bytes, layout: page)
    }

    /// Each CPU's per-CPU lists of zone `index` of node `node`.
    /// - Throws: ``LinuxPerCPUReader/Unavailable`` when BTF or the symbols do not allow reading
    ///   them, or no CPU's offset can be read (`nr_cpu_ids` unreadable or outside 1…1024).
    public func perCPULists(zone index: Int, node: Int = 0, vmemmapBase: UInt64) throws -> [LinuxPerCPULists] {
        guard let pagesetOffset = layout.zonePerCPUPagesetOffset else {
            throw LinuxPerCPUReader.Unavailable(description: "struct zone has no per_cpu_pageset in BTF")
        }
        let reader = try LinuxPerCPUReader(btf: btf, page: page, memory: memory, vmemmapBase: vmemmapBase)
        let pageset = try memory.readU64(at: try zoneAddress(index, node: node) &+ UInt64(pagesetOffset))
        let offsets = decoder.perCPUOffsets()
        guard !offsets.isEmpty else {
            throw LinuxPerCPUReader.Unavailable(description: decoder.perCPUOffsetsUnavailable() ?? "no CPU's per-CPU offset could be read")
        }
        return offsets.enumerated().map { cpu, offset in reader.read(cpu: cpu, at: pageset &+ offset) }
    }

    /// SLUB's caches, as /proc/slabinfo counts them.
    public func decodeSlub() throws -> SlubState {
        try SlubDecoder(memory: memory, symbols: symbols, layout: try SlubLayout(btf: btf)).decode()
    }

    /// Pageblocks per migratetype of every populated zone of `state`, by zone name, as
    /// /proc/pagetypeinfo's "Number of blocks type" table counts them.
    /// - Throws: ``LinuxPageblockReader/Unavailable`` when the symbols or BTF do not allow it.
    public func pageblockCounts(_ state: LinuxBuddyState) throws -> [String: [Int]] {
        let reader = try LinuxPageblockReader(btf: btf, symbols: symbols, memory: memory)
        var counts: [String: [Int]] = [:]
        for zone in state.zones where zone.isPopulated {
            let (end, overflow) = zone.startPFN.addingReportingOverflow(zone.spannedPages)
            guard !overflow, zone.spannedPages <= 1 << 40 else {
                throw LinuxPageblockReader.Unavailable(description: "zone \(zone.name) spans 0x\(String(zone.spannedPages, radix: 16)) pages from pfn 0x\(String(zone.startPFN, radix: 16)): not a zone")
            }
            counts[zone.name] = try reader.count(start: zone.startPFN, end: end, migratetypeCount: state.migratetypeNames.count)
        }
        return counts
    }

    /// A zone's watermarks (`_watermark[WMARK_MIN…WMARK_HIGH]`), if BTF has them.
    public func watermarks(zone index: Int, node: Int = 0) throws -> [UInt64]? {
        guard let marks = try? btf.arrayMember("_watermark", of: "zone"), marks.elementSize == 8, marks.count >= 3 else { return nil }
        let bytes = try memory.read(at: try zoneAddress(index, node: node) &+ UInt64(marks.offset), count: 24)
        return (0..<3).map { loadU64(bytes, $0 * 8) }
    }

    /// `&node_data[node]->node_zones[index]`.
    func zoneAddress(_ index: Int, node: Int = 0) throws -> UInt64 {
        guard node >= 0, node < LinuxNodes.limit else { throw LinuxDecodeError.implausible(what: "node", value: UInt64(truncatingIfNeeded: node)) }
        let pgdat = try memory.readU64(at: try symbols.address(of: "node_data") &+ UInt64(node * 8))
        guard pgdat != 0 else { throw LinuxDecodeError.implausible(what: "node_data[\(node)]", value: 0) }
        return pgdat &+ UInt64(layout.nodeZonesOffset) &+ UInt64(index * layout.nodeZoneStride)
    }
}
