import KernelSupport

/// Where the direct map of physical memory starts (set up by boot.S).
let directMapOffset: UInt64 = 0xFFFF_8880_0000_0000
/// Where the kernel image runs: virtual = KERNEL_VMA + physical.
let kernelVMA: UInt64 = 0xFFFF_FFFF_8000_0000

/// Stops the CPU for good. A debugger can still attach and read memory.
func haltForever() -> Never {
    while true { cpu_halt() }
}

/// Leaves QEMU through isa-debug-exit (`-device isa-debug-exit,iobase=0xf4,iosize=4`):
/// QEMU exits with status `(code << 1) | 1`, so 0 → 1 (self-check passed), 1 → 3 (failed).
/// Without the device the write is ignored and the kernel halts.
func qemuExit(_ code: UInt32) -> Never {
    outl(0xF4, code)
    haltForever()
}

/// Prints `kmem: BUG: …` for an allocator error, publishes it in `kmem_bug` (the operation
/// that failed, from the log) and halts.
func kmemBug(_ error: KmemError) -> Never {
    let kind = error.bugKind
    let failed: UInt64 = kind == .boot ? 0 : (kernelAllocator?.failedOperation() ?? 0)
    kernelBug(kind, code: error.code, pfn: error.pfn.raw, sequence: failed, detail: error.heapAddress) { out in
        error.write(to: &out)
    }
}

/// The Swift runtime's fatal paths (`fatalError`, overflow traps in non-Embedded code)
/// and `print` end up here.
@_cdecl("putchar")
func putchar(_ c: Int32) -> Int32 {
    console.put(UInt8(truncatingIfNeeded: c))
    return c
}
