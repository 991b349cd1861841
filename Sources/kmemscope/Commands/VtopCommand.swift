import ArgumentParser
import BundledState
import BundledKernel
import KernelLayouts
import KernelSession
import LinuxKernel

/// `kmemscope vtop VADDR`: the guest's own page tables walked from CR3 (read from the stub's
/// registers; tables read as physical memory), each level printed, the physical address and
/// the frame it lands in.
struct VtopCommand: GuestCommand {
    static let configuration = CommandConfiguration(
        commandName: "vtop",
        abstract: "Translate a virtual address through the guest's page tables from CR3, each level printed, and name the frame.",
        discussion: """
            Levels: PML4E, PDPTE, PDE, PTE, each with its index, the entry's physical address, its value and \
            flags (P present, RW writable, US user, PWT/PCD caching, A accessed, D dirty, PS large page, G global, \
            NX no-execute); a PS entry ends the walk with a 1 GiB or 2 MiB page. The tables are read through \
            QEMU's physical-memory mode, not through the guest's own mapping. An unmapped address is an answer \
            (exit 0, "not mapped"); 5-level paging and paging off are errors (exit 2).
            """)

    @Argument(help: "The virtual address: decimal or 0x hex.")
    var address: String

    @OptionGroup var profile: KernelProfileOptions
    @OptionGroup var image: ImageOptions
    @OptionGroup var stub: TargetOptions

    func validate() throws {
        guard Console.number(address) != nil else { throw ValidationError("\(address) is not an address (decimal, or hex with 0x)") }
    }

    func run(in context: CommandContext) throws {
        let virtual = Console.number(address) ?? 0
        if profile.isLinux { return print(try linuxWalk(virtual, in: context)) }
        let (walk, frame, names) = try GuestSource(image, stub, in: context).read(settling: nil) { s -> (PageTableWalk, FrameReport?, [(String, UInt32)]) in
            let cr0 = try s.register("cr0")
            let cr4 = try s.register("cr4")
            guard cr0 & (1 << 31) != 0 else { throw SessionError.other("paging is off in the guest (CR0.PG clear): every address is physical") }
            guard cr4 & (1 << 12) == 0 else { throw SessionError.other("the guest uses 5-level paging (CR4.LA57): vtop walks 4 levels only") }
            let cr3 = try s.register("cr3")
            let pageSize = try s.info.number("PAGE_SIZE")
            let frames = try s.info.number("FRAME_COUNT")
            let ram = frames.multipliedReportingOverflow(by: pageSize)
            let walk = try PageTableWalk(virtual: virtual, cr3: cr3, ram: ram.overflow ? .max : ram.partialValue) { physical in
                try s.memory.read(.guestPhysical, at: physical, count: 8).reversed().reduce(0) { $0 << 8 | UInt64($1) }
            }
            guard let physical = walk.physical, pageSize > 0 else { return (walk, nil, []) }
            let snapshot = try SnapshotDecoder(info: s.info, memory: s.memory).decode()
            return (walk, FrameReport(snapshot, pfn: physical / pageSize), s.info.flagNames)
        }
        print(image.json ? try JSONOutput.string(VtopJSON(walk, frame: frame, flagNames: names)) : VtopText.text(walk, frame: frame, flagNames: names))
    }

    /// Linux: the same walk from CR3, each table read through the direct map, and the frame as
    /// `frame --kernel linux` prints its `struct page`.
    func linuxWalk(_ virtual: UInt64, in context: CommandContext) throws -> String {
        try LinuxSnapshot.requireAddressLookups(stub)
        return try LinuxAttach.run(profile, stub, in: context) { linux, s in
            let cr0 = try s("cr0")
            let cr4 = try s("cr4")
            guard cr0 & (1 << 31) != 0 else { throw SessionError.other("paging is off in the guest (CR0.PG clear): every address is physical") }
            guard cr4 & (1 << 12) == 0 else { throw SessionError.other("the guest uses 5-level paging (CR4.LA57): vtop walks 4 levels only") }
            var state = try linux.decodeBuddy()
            let walk = try linux.pageTableWalk(virtual, cr3: try s("cr3"), state: state)
            var page: LinuxPage?
            if let physical = walk.physical, physical / 4096 < linux.pfnLimit(state) {
                state = try linux.decodeBuddy(holding: physical / 4096)
                page = try linux.page(physical / 4096, vmemmapBase: state.vmemmapBase)
            }
            if image.json {
                var document = VtopJSON(walk, frame: nil, flagNames: [])
                document.frame = page.map { p in
                    VtopJSON.Frame(pfn: "0x" + String(p.pfn, radix: 16), flags: p.flagNames(linux.page),
                                   zone: state.zones.first { z in z.isPopulated && p.pfn >= z.startPFN && p.pfn - z.startPFN < z.spannedPages }?.name)
                }
                return try JSONOutput.string(document)
            }
            return VtopText.text(walk, frame: nil, flagNames: [],
                                 frameLines: page.map { LinuxViews.frame(linux, $0, state).split(separator: "\n").map(String.init) } ?? (walk.physical == nil ? nil : ["past max_pfn: no struct page"]))
        }
    }
}
