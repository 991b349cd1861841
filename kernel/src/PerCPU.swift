import KernelSupport

/// One CPU's own data, reached through GS (IA32_GS_BASE holds its address): the first word is
/// the area's own address, so `%gs:0` gives a pointer to it and `%gs:8` the CPU number without
/// one. The areas are `kmem_percpu` in boot.S (`KMEM_PERCPU_SIZE` bytes each, CPU N at
/// `kmem_percpu + N × KMEM_PERCPU_SIZE`); a debugger reads them there.
struct PerCPU {
    /// The area's own virtual address (`%gs:0`).
    var selfAddress: UInt64
    /// The CPU number: 0 for the boot CPU, then the MADT's order (`%gs:8`).
    var cpu: UInt32
    /// The local APIC ID.
    var apicID: UInt32
    /// The CPU's state word (`CPUState`): offline, running, parked; written by that CPU once
    /// it runs (the BSP writes `offline` when it prepares the area).
    var state: UInt32
    var reserved: UInt32
    /// The top of the CPU's stack (the boot stack for CPU 0, its `ap_stacks` slot otherwise).
    var stackTop: UInt64
    /// The CPU's own GDT: null, 0x08 64-bit code, 0x10 data, and a spare pair for a TSS.
    var gdt: (UInt64, UInt64, UInt64, UInt64, UInt64)

    static let gsBaseMSR: UInt32 = 0xC000_0101
    static let cpuOffset: UInt64 = 8
    static let stateOffset = 16

    /// CPU `n`'s area (n < `KMEM_MAX_CPUS`).
    static func area(_ n: Int) -> UnsafeMutablePointer<PerCPU> {
        UnsafeMutableRawPointer(percpu_areas()! + n &* Int(KMEM_PERCPU_SIZE)).assumingMemoryBound(to: PerCPU.self)
    }

    /// Fills CPU `n`'s area (called by the boot CPU for every CPU before any of them runs).
    static func prepare(_ n: Int, apicID: UInt32, stackTop: UInt64) {
        let p = area(n)
        p.pointee = PerCPU(selfAddress: UInt64(UInt(bitPattern: p)), cpu: UInt32(n), apicID: apicID, state: CPUState.offline,
                           reserved: 0, stackTop: stackTop,
                           gdt: (0, 0x00AF_9A00_0000_FFFF, 0x00CF_9200_0000_FFFF, 0, 0))
    }

    /// On CPU `n` itself: loads its GDT and points GS at its area, then says it is online.
    static func install(_ n: Int) {
        let p = area(n)
        let gdt = withUnsafeMutablePointer(to: &p.pointee.gdt) { UInt64(UInt(bitPattern: $0)) }
        load_gdt(gdt, UInt16(5 &* 8 &- 1))
        wrmsr(gsBaseMSR, p.pointee.selfAddress)
        volatile_store_u32(p.pointee.selfAddress &+ UInt64(stateOffset), CPUState.running)
    }

    /// On CPU `n` itself (an AP): says it is parked and halts in boot.S `ap_park` for good.
    static func park(_ n: Int) -> Never {
        volatile_store_u32(UInt64(UInt(bitPattern: area(n))) &+ UInt64(stateOffset), CPUState.parked)
        ap_park_forever()
    }

    /// Whether CPU `n` has said it is online (running or parked; read by another CPU).
    static func isOnline(_ n: Int) -> Bool {
        volatile_load_u32(UInt64(UInt(bitPattern: area(n))) &+ UInt64(stateOffset)) != CPUState.offline
    }

    /// The number of the CPU running this code (through GS).
    static var current: Int { Int(gs_read_u32(cpuOffset)) }
}

/// The values of a CPU's state word (`PerCPU.state`, kernel/README.md "Several CPUs"), which
/// `kmem_info` publishes as `CPU_STATE(name)`.
public enum CPUState {
    /// Not started, or did not start.
    public static let offline: UInt32 = 0
    /// Running kernel code: the BSP always; an AP only before it parks (or in `locktest=`).
    public static let running: UInt32 = 1
    /// An AP halted in `ap_park` with interrupts off: it touches nothing.
    public static let parked: UInt32 = 2
}
