import KernelLayouts

/// Why /proc/zoneinfo's fields cannot be read from this guest.
public enum LinuxZoneinfoError: Error, CustomStringConvertible {
    case noVmstatText
    case implausibleCount(what: String, count: Int)

    public var description: String {
        switch self {
        case .noVmstatText:
            return "the symbols have no vmstat_text (the counters' names zoneinfo prints): take the guest's /proc/kallsyms with vmstat_text in it, or its System.map"
        case .implausibleCount(let what, let count):
            return "\(what) has \(count) entries in BTF: not a counter array (at most \(LinuxZoneinfoReader.counterLimit))"
        }
    }
}

/// Reads what /proc/zoneinfo prints (`zoneinfo_show_print`, mm/vmstat.c) for every node of the
/// guest, into an ``AllocatorView`` (free areas are not walked: zoneinfo prints none):
/// per node `pglist_data.vm_stat[]` (`node_page_state_pages`, the huge-page items divided by
/// `HPAGE_PMD_NR`) and `kswapd_failures`; per zone `vm_stat[]` (`zone_page_state`),
/// `vm_numa_event[]` plus each CPU's unfolded `per_cpu_zonestat.vm_numa_event[]` (what
/// `fold_vm_zone_numa_events` adds before printing), the watermarks with the boost, promo where
/// the kernel prints it, span, present, managed, `cma_pages`, `lowmem_reserve[]`, and each CPU's
/// `per_cpu_pages` count/high/batch (and `high_min`/`high_max`) and `stat_threshold`. Names are
/// the guest's own `vmstat_text[]`.
public struct LinuxZoneinfoReader {
    public var linux: LinuxKernelTarget
    public var layout: LinuxVmstatLayout
    /// The most entries any counter array may have (6.12 has fewer than 100 of each kind).
    public static let counterLimit = 512
    /// The first release whose zoneinfo prints the `promo` watermark: measured, 6.1 does not and
    /// 6.12 does; the cut at 6.10 is the release of the upstream change ("mm: print the promo
    /// watermark in zoneinfo"), not measured. BTF cannot say it: `WMARK_PROMO` is in 6.1 too.
    public static let promoSince = LinuxKernelVersion(major: 6, minor: 10)

    public init(linux: LinuxKernelTarget) throws {
        self.linux = linux
        layout = try LinuxVmstatLayout(btf: linux.btf)
    }

    /// Every node's zones, as zoneinfo prints them.
    public func read() throws -> AllocatorView {
        let names = try counterNames()
        let decoder = linux.decoder
        let cpuOffsets = decoder.perCPUOffsets()
        let version = linux.kernelVersion()
        let printsPromo = layout.watermark.count >= 4 && (version.map { $0 >= Self.promoSince } ?? false)
        let table = try linux.symbols.address(of: "node_data")
        var nodes: [NodeView] = []
        for id in try linux.nodes().ids {
            let pgdat = try linux.memory.readU64(at: table &+ UInt64(id * 8))
            var node = NodeView(id: id, zones: [])
            if let stat = layout.nodeStat, let nodeNames = names.node {
                let bytes = try linux.memory.read(at: pgdat &+ UInt64(stat.offset), count: stat.count * 8)
                node.stats = (0..<min(stat.count, nodeNames.count)).map { i in
                    var pages = UInt64(max(0, Int64(bitPattern: loadU64(bytes, i * 8))))
                    if layout.nodeItemsInHugePages.contains(i) { pages /= LinuxVmstatLayout.pagesPerHugePage }
                    return NamedCount(name: nodeNames[i], value: .unsigned(pages))
                }
            }
            if let offset = layout.kswapdFailuresOffset {
                let failures = loadU32(try linux.memory.read(at: pgdat &+ UInt64(offset), count: 4), 0)
                node.unreclaimable = failures >= LinuxVmstatLayout.maxReclaimRetries
            }
            for index in 0..<linux.layout.zoneCount {
                let address = pgdat &+ UInt64(linux.layout.nodeZonesOffset) &+ UInt64(index * linux.layout.nodeZoneStride)
                node.zones.append(try zone(index: index, at: address, names: names, cpuOffsets: cpuOffsets, printsPromo: printsPromo))
            }
            nodes.append(node)
        }
        return AllocatorView(kernel: "linux", pageSize: 4096, orderCount: linux.layout.orderCount,
                             pageblockOrder: LinuxPerCPUReader.pageblockOrder, migratetypeNames: [], migratetypesInUse: 0,
                             nodes: nodes, procListCountLimit: LinuxBuddyState.procListCountLimit)
    }

    private func zone(index: Int, at address: UInt64, names: CounterNames, cpuOffsets: [UInt64], printsPromo: Bool) throws -> ZoneView {
        let m = linux.layout
        let bytes = try linux.memory.read(at: address, count: m.zoneSize)
        func word(_ offset: Int) -> UInt64 { loadU64(bytes, offset) }
        let name = (try? linux.decoder.readCString(at: word(m.zoneNameOffset), limit: 32)) ?? "zone\(index)"
        let start = word(m.zoneStartPFNOffset), spanned = word(m.zoneSpannedPagesOffset)
        let present = word(m.zonePresentPagesOffset)
        let boost = layout.watermarkBoostOffset.map(word) ?? 0
        let mark = { (i: Int) in word(layout.watermark.offset + i * 8) &+ boost }
        let stats = (0..<min(layout.zoneStat.count, names.zone.count)).map { i in
            NamedCount(name: names.zone[i], value: .signed(Int64(bitPattern: word(layout.zoneStat.offset + i * 8))))
        }
        let freeIndex = (try? linux.btf.enumValue("NR_FREE_PAGES", in: "zone_stat_item")).map(Int.init) ?? 0
        var zone = ZoneView(index: index, name: name, populated: present != 0, startPFN: start, endPFN: start &+ spanned,
                            spannedPages: spanned, presentPages: present, managedPages: word(m.zoneManagedPagesOffset),
                            freePages: freeIndex < stats.count ? stats[freeIndex].value : nil,
                            watermarks: Watermarks(min: mark(0), low: mark(1), high: mark(2), boost: boost,
                                                   promo: printsPromo ? mark(3) : nil),
                            lowmemReserve: (0..<layout.lowmemReserve.count).map { word(layout.lowmemReserve.offset + $0 * 8) },
                            freeAreas: [], stats: stats, cmaPages: layout.cmaPagesOffset.map(word))
        guard present != 0 else { return zone }
        // the CPUs' own parts: pageset fields, threshold, and the NUMA events not folded yet
        var numa = layout.zoneNumaEvent.map { a in (0..<a.count).map { word(a.offset + $0 * 8) } }
        if let pagesetOffset = m.zonePerCPUPagesetOffset, let statsOffset = m.zonePerCPUZonestatsOffset {
            let pageset = word(pagesetOffset), zonestats = word(statsOffset)
            let pcpSpan = [layout.pcpCountOffset, layout.pcpHighOffset, layout.pcpBatchOffset, layout.pcpHighMinOffset,
                           layout.pcpHighMaxOffset].compactMap { $0 }.map { $0 + 4 }.max() ?? 8
            for (cpu, base) in cpuOffsets.enumerated() {
                let pcp = try linux.memory.read(at: pageset &+ base, count: pcpSpan)
                func int(_ offset: Int?) -> Int32? { offset.flatMap { $0 + 4 <= pcp.count ? Int32(bitPattern: loadU32(pcp, $0)) : nil } }
                func unsigned(_ offset: Int?) -> UInt64? { int(offset).map { UInt64(max(0, $0)) } }
                var cache = PerCPUCache(cpu: cpu, count: int(layout.pcpCountOffset).map { .signed(Int64($0)) },
                                        high: unsigned(layout.pcpHighOffset), batch: unsigned(layout.pcpBatchOffset),
                                        highMin: unsigned(layout.pcpHighMinOffset), highMax: unsigned(layout.pcpHighMaxOffset))
                let span = max((layout.zonestatThresholdOffset ?? 0) + 1,
                               layout.zonestatNumaEvent.map { $0.offset + $0.count * 8 } ?? 0)
                let pz = try linux.memory.read(at: zonestats &+ base, count: span)
                if let t = layout.zonestatThresholdOffset { cache.statThreshold = Int(Int8(bitPattern: pz[t])) }
                if let diff = layout.zonestatNumaEvent, var sums = numa {
                    for i in 0..<min(diff.count, sums.count) { sums[i] &+= loadU64(pz, diff.offset + i * 8) }
                    numa = sums
                }
                zone.perCPU.append(cache)
            }
        }
        if let numa, let numaNames = names.numa {
            zone.numaEvents = zip(numaNames, numa).map { NamedCount(name: $0, value: .unsigned($1)) }
        }
        return zone
    }

    /// The names zoneinfo prints: `vmstat_text[]` is the zone items, then the NUMA events, then
    /// the node items (`zone_stat_name`, `numa_stat_name`, `node_stat_name`).
    struct CounterNames {
        var zone: [String]
        var numa: [String]?
        var node: [String]?
    }

    private func counterNames() throws -> CounterNames {
        guard let text = linux.symbols.symbol(named: "vmstat_text")?.address else { throw LinuxZoneinfoError.noVmstatText }
        let zoneCount = layout.zoneStat.count, numaCount = layout.zoneNumaEvent?.count ?? 0, nodeCount = layout.nodeStat?.count ?? 0
        for (what, count) in [("zone.vm_stat", zoneCount), ("zone.vm_numa_event", numaCount), ("pglist_data.vm_stat", nodeCount)]
        where count > Self.counterLimit {
            throw LinuxZoneinfoError.implausibleCount(what: what, count: count)
        }
        let total = zoneCount + numaCount + nodeCount
        let pointers = try linux.memory.read(at: text, count: total * 8)
        let decoder = linux.decoder
        let all = (0..<total).map { i in (try? decoder.readCString(at: loadU64(pointers, i * 8), limit: 48)) ?? "item\(i)" }
        return CounterNames(zone: Array(all[0..<zoneCount]),
                            numa: layout.zoneNumaEvent == nil ? nil : Array(all[zoneCount..<zoneCount + numaCount]),
                            node: layout.nodeStat == nil ? nil : Array(all[zoneCount + numaCount..<total]))
    }
}

extension LinuxKernelTarget {
    /// Every node's zones as /proc/zoneinfo prints them (see ``LinuxZoneinfoReader``).
    public func zoneinfoView() throws -> AllocatorView { try LinuxZoneinfoReader(linux: self).read() }
}
