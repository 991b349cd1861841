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
            console.write("kmem: BUG: boot: no PVH start info at "); console.hex(phys)
            console.write(" (magic "); console.hex(UInt64(info.magic)); console.write(")"); console.newline()
            haltForever()
        }
        if info.version < 1 || info.memoryMapEntries == 0 {
            console.write("kmem: BUG: boot: PVH start info has no memory map (version ")
            console.dec(UInt64(info.version)); console.write(")"); console.newline()
            haltForever()
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
