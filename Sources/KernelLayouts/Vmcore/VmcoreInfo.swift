/// Linux's VMCOREINFO (`kernel/crash_core.c`): `KEY=VALUE` lines the kernel prepares for dump
/// tools — `OSRELEASE`, `BUILD-ID`, `PAGESIZE`, `SYMBOL(name)=hex` (runtime addresses, KASLR
/// applied), `NUMBER(name)=decimal`, `KERNELOFFSET=hex`. In a QEMU dump it is the `VMCOREINFO`
/// note (the guest must have told QEMU where it is: `-device vmcoreinfo` and the `qemu_fw_cfg`
/// module); a kdump file carries it in its header. Untrusted text: at most ``lineLimit`` lines
/// are read, a value that does not parse is absent.
public struct VmcoreInfo: Sendable, Equatable {
    /// Each key's value (the first line of a key wins).
    public var values: [String: String]

    public static let lineLimit = 100_000

    /// Parses the note's text (NULs and a missing final newline are tolerated).
    public init(text: String) {
        var values: [String: String] = [:]
        for line in text.split(whereSeparator: { $0 == "\n" || $0 == "\0" }).prefix(Self.lineLimit) {
            guard let eq = line.firstIndex(of: "=") else { continue }
            let key = String(line[..<eq])
            if values[key] == nil { values[key] = String(line[line.index(after: eq)...]) }
        }
        self.values = values
    }

    /// `OSRELEASE` (`uname -r`).
    public var osRelease: String? { values["OSRELEASE"] }
    /// `BUILD-ID`: the vmlinux's GNU build-id, hex (5.9 and later).
    public var buildID: String? { values["BUILD-ID"]?.lowercased() }
    /// `KERNELOFFSET`: the KASLR offset of the kernel image.
    public var kernelOffset: UInt64? { values["KERNELOFFSET"].flatMap { UInt64($0, radix: 16) } }
    /// `SYMBOL(name)`: the runtime address.
    public func symbol(_ name: String) -> UInt64? { values["SYMBOL(\(name))"].flatMap { UInt64($0, radix: 16) } }
    /// `NUMBER(name)`.
    public func number(_ name: String) -> Int64? { values["NUMBER(\(name))"].flatMap { Int64($0) } }
    /// Every `SYMBOL(name)` with its address, sorted by name.
    public var symbols: [(name: String, address: UInt64)] {
        values.compactMap { key, value -> (String, UInt64)? in
            guard key.hasPrefix("SYMBOL("), key.hasSuffix(")"), let address = UInt64(value, radix: 16) else { return nil }
            return (String(key.dropFirst(7).dropLast()), address)
        }.sorted { $0.0 < $1.0 }
    }

    /// The physical address of the kernel's own top-level page table (`init_top_pgt`, x86-64):
    /// `SYMBOL(init_top_pgt) - __START_KERNEL_map + phys_base`, as crash and makedumpfile find
    /// it. Nil without those lines, with 5-level paging, or when the symbol is not in the image mapping.
    public var kernelPageTable: UInt64? {
        guard let top = symbol("init_top_pgt"), let physBase = number("phys_base"), physBase >= 0,
              number("pgtable_l5_enabled") ?? 0 == 0 else { return nil }
        let startKernelMap: UInt64 = 0xffff_ffff_8000_0000
        guard top >= startKernelMap else { return nil }
        let (physical, overflow) = (top - startKernelMap).addingReportingOverflow(UInt64(physBase))
        return overflow ? nil : physical
    }
}
