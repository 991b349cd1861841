import LinuxKernel
import AllocatorView

/// `info --kernel linux`: what kmemscope learned of the guest — its banner (`linux_banner`, as
/// /proc/version prints it), the KASLR offset, where the types came from, the runtime bases,
/// the allocator's shape from BTF, the CPUs and NUMA nodes, node 0's zones.
struct LinuxInfo: Encodable {
    struct Zone: Encodable {
        var name: String
        var startPFN: String
        var endPFN: String
        var present: UInt64
        var managed: UInt64
    }
    var schemaVersion = 1
    var kernel = "linux"
    var banner: String
    var release: String?
    var kaslrOffset: String
    var types: String
    var typeCount: Int
    var pageOffsetBase: String
    var vmemmapBase: String
    var vmallocBase: String?
    var structPageSize: Int
    var orders: Int
    var migratetypes: [String]
    var zonesPerNode: Int
    var cpus: Int
    var nodes: [Int]
    var zones: [Zone]

    init(_ linux: LinuxKernelTarget) throws {
        let state = try linux.decodeBuddy()
        let decoder = linux.decoder
        banner = linux.symbols.symbol(named: "linux_banner").flatMap { try? decoder.readCString(at: $0.address, limit: 256) } ?? "?"
        release = linux.kernelVersion()?.description
        kaslrOffset = hex(linux.kaslrOffset)
        types = linux.btf.origin
        typeCount = linux.btf.typeCount
        pageOffsetBase = hex(state.pageOffsetBase)
        vmemmapBase = hex(state.vmemmapBase)
        vmallocBase = linux.symbols.symbol(named: "vmalloc_base").flatMap { try? linux.memory.readU64(at: $0.address) }.map(hex)
        structPageSize = linux.layout.pageSize
        orders = linux.layout.orderCount
        migratetypes = state.migratetypeNames
        zonesPerNode = linux.layout.zoneCount
        cpus = decoder.perCPUOffsets().count
        nodes = try linux.nodes().ids
        zones = state.zones.filter(\.isPopulated).map {
            Zone(name: $0.name, startPFN: hex($0.startPFN), endPFN: hex($0.startPFN &+ $0.spannedPages), present: $0.presentPages, managed: $0.managedPages)
        }
    }

    var text: String {
        var lines = [banner.hasSuffix("\n") ? String(banner.dropLast()) : banner]
        lines.append("KASLR offset \(kaslrOffset); types: \(types) (\(typeCount) types)")
        lines.append("page_offset_base \(pageOffsetBase), vmemmap_base \(vmemmapBase)" + (vmallocBase.map { ", vmalloc_base \($0)" } ?? ""))
        lines.append("struct page \(structPageSize) bytes, orders 0…\(orders - 1), \(zonesPerNode) zones a node, migratetypes \(migratetypes.joined(separator: ", "))")
        lines.append("CPUs: \(cpus) (nr_cpu_ids); NUMA nodes: \(nodes.map(String.init).joined(separator: ", "))")
        for z in zones {
            lines.append("node 0 zone \(z.name.padding(toLength: 7, withPad: " ", startingAt: 0)) pfn [\(z.startPFN), \(z.endPFN)) present \(z.present) managed \(z.managed)")
        }
        return lines.joined(separator: "\n")
    }
}
