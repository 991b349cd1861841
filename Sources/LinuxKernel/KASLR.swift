import KernelLayouts

/// Finding the kernel image's KASLR offset from the guest itself.
///
/// A copy of the running guest's `/proc/kallsyms` already holds relocated addresses (offset 0).
/// A System.map holds link-time addresses: with KASLR on, the kernel image was moved by a
/// multiple of its alignment (2 MiB, `CONFIG_PHYSICAL_ALIGN`) within `KERNEL_IMAGE_SIZE` (1 GiB
/// on x86_64, arch/x86/include/asm/page_64_types.h). `linux_banner` is a string in the image
/// that begins `Linux version `: the offset is the one step at which the guest's memory shows
/// that string where the map puts the symbol (crash finds the offset from vmcoreinfo or the
/// IDT; this needs nothing but a memory read per candidate).
public enum KASLR {
    /// The step between candidate offsets.
    public static let alignment: UInt64 = 2 << 20
    /// How far the image may move.
    public static let range: UInt64 = 1 << 30
    /// What `linux_banner` begins with.
    static let banner = Array("Linux version ".utf8)

    /// Why no offset could be found.
    public enum Failure: Error, CustomStringConvertible {
        case notFound(linkAddress: UInt64)
        public var description: String {
            switch self {
            case .notFound(let address):
                return "no \"Linux version\" banner at linux_banner (0x\(String(address, radix: 16))) plus any KASLR offset up to 1 GiB: the symbol map is not this guest kernel's (take the guest's /proc/kallsyms, or the System.map of the same build)"
            }
        }
    }

    /// The offset to add to the map's kernel-image addresses (0 when they already match). A
    /// map without `linux_banner` is taken as it is (offset 0; the decoder's checks of the
    /// pointers it reads still catch a wrong map).
    public static func offset(memory: GuestMemory, symbols: SymbolMap) throws -> UInt64 {
        guard let linked = symbols.symbol(named: "linux_banner")?.address else { return 0 }
        var offset: UInt64 = 0
        while offset < range {
            let (address, overflow) = linked.addingReportingOverflow(offset)
            if overflow { break }
            if let bytes = try? memory.read(at: address, count: banner.count), bytes == banner { return offset }
            offset += alignment
        }
        throw Failure.notFound(linkAddress: linked)
    }
}

extension SymbolMap {
    /// The lowest address of the kernel image's mapping on x86_64 (`__START_KERNEL_map`):
    /// KASLR moves symbols at or above it; per-CPU offsets and absolute symbols stay.
    public static let kernelImageBase: UInt64 = 0xffff_ffff_8000_0000

    /// The map with every kernel-image symbol moved by `offset`.
    public func relocated(by offset: UInt64) -> SymbolMap {
        guard offset != 0 else { return self }
        var copy = self
        copy.moveImageSymbols(by: offset)
        return copy
    }
}
