import KernelLayouts
import AllocatorView

/// Where a kernel address lies in x86_64 Linux's layout (Documentation/arch/x86/x86_64/mm.rst),
/// with the bases the guest chose at boot (`page_offset_base`, `vmemmap_base`, `vmalloc_base`,
/// moved by KASLR's memory randomisation) and the image's own symbols (`_text`, `_end`).
public enum LinuxAddressKind: String, Sendable, Equatable {
    case directMap = "direct map"
    case vmemmap = "vmemmap (struct page array)"
    case vmalloc = "vmalloc"
    case kernelImage = "kernel image"
    case physical = "physical address"
}

/// An address read as Linux would: its kind, the physical address it maps to (through the
/// direct map's offset, or the guest's page tables for vmalloc and the image), and for a
/// vmemmap address the PFN whose `struct page` it is in.
public struct LinuxAddress: Sendable, Equatable {
    public var address: UInt64
    public var kind: LinuxAddressKind
    /// nil when the page tables map nothing there.
    public var physical: UInt64?
    public var structPageOf: UInt64?
    /// Why no physical address (the walk's stop), if none.
    public var unmapped: String?
}

/// Why an address is none of the kinds.
public struct LinuxAddressError: Error, CustomStringConvertible {
    public var description: String
}

extension LinuxKernelTarget {
    /// `VMALLOC_SIZE_TB` with 4-level paging (arch/x86/include/asm/pgtable_64_types.h, a macro: 32 TiB).
    public static let vmallocSize: UInt64 = 32 << 40

    /// The highest PFN plus one (`max_pfn` when the symbols have it, else the end of node 0's
    /// last zone).
    public func pfnLimit(_ state: LinuxBuddyState) -> UInt64 {
        if let address = symbols.symbol(named: "max_pfn")?.address, let value = try? memory.readU64(at: address), value > 0, value < 1 << 40 {
            return value
        }
        return state.zones.map { $0.startPFN &+ $0.spannedPages }.max() ?? 0
    }

    /// Reads `address` as Linux lays out kernel addresses; `cr3` (the guest's, physical) walks
    /// the page tables through the direct map for vmalloc and image addresses.
    /// - Throws: ``LinuxAddressError`` when it is none of them.
    public func classify(_ address: UInt64, state: LinuxBuddyState, cr3: UInt64) throws -> LinuxAddress {
        let limit = pfnLimit(state)
        let ram = limit &* 4096
        func walk(_ kind: LinuxAddressKind) throws -> LinuxAddress {
            let w = try pageTableWalk(address, cr3: cr3, state: state)
            return LinuxAddress(address: address, kind: kind, physical: w.physical, unmapped: w.physical == nil ? (w.stop ?? "not mapped") : nil)
        }
        if address >= state.pageOffsetBase, address - state.pageOffsetBase < ram {
            return LinuxAddress(address: address, kind: .directMap, physical: address - state.pageOffsetBase)
        }
        let structPage = UInt64(page.size)
        if address >= state.vmemmapBase, structPage > 0, address - state.vmemmapBase < limit &* structPage {
            var a = try walk(.vmemmap)
            a.structPageOf = (address - state.vmemmapBase) / structPage
            return a
        }
        if let base = symbols.symbol(named: "vmalloc_base").flatMap({ try? memory.readU64(at: $0.address) }),
           address >= base, address - base < Self.vmallocSize {
            return try walk(.vmalloc)
        }
        if let text = symbols.symbol(named: "_text")?.address, let end = symbols.symbol(named: "_end")?.address,
           address >= text, address < end {
            return try walk(.kernelImage)
        }
        if address < ram { return LinuxAddress(address: address, kind: .physical, physical: address) }
        throw LinuxAddressError(description: "\(hex(address)) is not in the direct map [\(hex(state.pageOffsetBase)), \(hex(state.pageOffsetBase &+ ram))), "
            + "the vmemmap, vmalloc, the kernel image or physical memory [0, \(hex(ram))): give a kernel virtual or a physical address")
    }

    /// The guest's page tables from `cr3`, each table read through the direct map.
    /// - Throws: when a table cannot be read (never taken for "not mapped").
    public func pageTableWalk(_ virtual: UInt64, cr3: UInt64, state: LinuxBuddyState) throws -> PageTableWalk {
        let ram = pfnLimit(state) &* 4096
        let base = state.pageOffsetBase
        return try PageTableWalk(virtual: virtual, cr3: cr3, ram: ram) { physical in try memory.readU64(at: base &+ physical) }
    }
}
