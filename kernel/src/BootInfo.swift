/// PVH `hvm_start_info` (Xen's arch/x86/include/public/hvm/start_info.h), version 1.
struct HVMStartInfo {
    var magic: UInt32
    var version: UInt32
    var flags: UInt32
    var moduleCount: UInt32
    var moduleListPhys: UInt64
    var commandLinePhys: UInt64
    var rsdpPhys: UInt64
    var memoryMapPhys: UInt64
    var memoryMapEntries: UInt32
    var reserved: UInt32

    /// `XEN_HVM_START_MAGIC_VALUE`.
    static let magicValue: UInt32 = 0x336E_C578
}

/// What the kernel learned from the boot loader.
struct BootInfo {
    let startInfoPhys: UInt64
    let info: HVMStartInfo

    /// Reads and validates the start info at `phys`; halts with a message when it is not PVH.
    init(phys: UInt64) {
        startInfoPhys = phys
        info = UnsafePointer<HVMStartInfo>(bitPattern: UInt(directMapOffset &+ phys))!.pointee
        if info.magic != HVMStartInfo.magicValue {
            let magic = UInt64(info.magic)
            kernelBug(.boot, code: 1, detail: phys, detail2: magic) { out in
                out.write("boot: no PVH start info at "); out.hex(phys)
                out.write(" (magic "); out.hex(magic); out.write(")")
            }
        }
        if info.version < 1 || info.memoryMapEntries == 0 {
            let version = UInt64(info.version)
            kernelBug(.boot, code: 2, detail: version) { out in
                out.write("boot: PVH start info has no memory map (version "); out.dec(version); out.write(")")
            }
        }
    }

    /// The e820 memory map, read in place through the direct map.
    var memoryMap: UnsafeBufferPointer<MemoryRegion> {
        UnsafeBufferPointer(start: UnsafePointer(bitPattern: UInt(directMapOffset &+ info.memoryMapPhys)),
                            count: Int(min(info.memoryMapEntries, 128)))
    }

    /// The command line (NUL-terminated, at most 4 KiB), empty when none.
    var commandLine: CommandLine {
        guard info.commandLinePhys != 0 else { return CommandLine(bytes: nil, count: 0) }
        let p = UnsafePointer<UInt8>(bitPattern: UInt(directMapOffset &+ info.commandLinePhys))!
        var n = 0
        while n < 4096 && p[n] != 0 { n += 1 }
        return CommandLine(bytes: p, count: n)
    }
}
