import KernelSupport

/// Bringing up the application processors (APs): the boot CPU (BSP) finds the CPUs in the
/// ACPI MADT, copies the real-mode trampoline (boot.S) to `AP_TRAMPOLINE_PHYS`, and starts
/// each AP in turn with INIT, start-up, start-up through its local APIC. An AP runs the
/// trampoline to long mode, takes its stack from its CPU number, loads its own GDT and GS
/// (`PerCPU`), says it is online and halts with interrupts off (`ap_main`). The allocator is
/// not touched: this runs before it boots, and only the BSP runs it afterwards.
enum SMP {
    /// How long the BSP waits for one AP to say it is online after the second start-up IPI.
    static let startTimeoutMilliseconds: UInt64 = 2000

    /// Starts every CPU the firmware lists (up to `KMEM_MAX_CPUS`), prints what it did and
    /// `kmem: cpus N`, and returns N (1 when there is no MADT or the APIC cannot be used).
    /// `reserved` are physical ranges the trampoline page must not overlap (the boot information).
    static func bringUp(rsdpHint: UInt64, memoryMap: UnsafeBufferPointer<MemoryRegion>,
                        reserved: UnsafeBufferPointer<PhysRange>) -> Int {
        let bspAPIC = LocalAPIC.isXAPIC ? LocalAPIC.id : 0
        PerCPU.prepare(0, apicID: bspAPIC, stackTop: boot_stack_top_address())
        PerCPU.install(0)
        set_cpu_apic_id(0, bspAPIC)
        let count = withUnsafeTemporaryAllocation(of: UInt32.self, capacity: Int(KMEM_MAX_CPUS)) { ids in
            startAPs(bspAPIC: bspAPIC, rsdpHint: rsdpHint, memoryMap: memoryMap, reserved: reserved, ids: ids)
        }
        set_cpu_count(UInt64(count))
        console.write("kmem: cpus "); console.dec(UInt64(count)); console.newline()
        return count
    }

    private static func startAPs(bspAPIC: UInt32, rsdpHint: UInt64, memoryMap: UnsafeBufferPointer<MemoryRegion>,
                                 reserved: UnsafeBufferPointer<PhysRange>, ids: UnsafeMutableBufferPointer<UInt32>) -> Int {
        guard let rsdp = ACPI.findRSDP(hint: rsdpHint) else { return note("no ACPI RSDP") }
        guard let madt = ACPI.findTable(ACPI.madtSignature, rsdp: rsdp) else { return note("no ACPI MADT") }
        guard let listed = ACPI.processors(madt: madt, into: ids) else { return note("the MADT is malformed") }
        console.write("kmem: smp: RSDP at "); console.hex(rsdp); console.write(rsdp == rsdpHint ? " (PVH start info)" : " (BIOS area)")
        console.write(" MADT at "); console.hex(madt); console.write(" lists "); console.dec(UInt64(listed))
        console.write(" CPU(s), boot CPU APIC ID "); console.dec(UInt64(bspAPIC)); console.newline()
        if listed > ids.count {
            console.write("kmem: smp: only the first "); console.dec(UInt64(ids.count)); console.write(" are started (KMEM_MAX_CPUS)")
            console.newline()
        }
        guard listed > 1 else { return 1 }
        guard LocalAPIC.isXAPIC else { return note("the local APIC is off or in x2APIC mode") }
        guard trampolinePageIsFree(memoryMap: memoryMap, reserved: reserved) else {
            return note("the trampoline page is not free RAM")
        }
        let size = ap_trampoline_size()
        guard size <= Kmem.pageSize else { return note("the trampoline is larger than a page") }
        let page = UnsafeMutableRawPointer(bitPattern: UInt(directMapOffset &+ AP_TRAMPOLINE_PHYS))!
        page.copyMemory(from: ap_trampoline_image()!, byteCount: Int(size))
        LocalAPIC.enable()

        var online = 1
        for i in 0 ..< min(listed, ids.count) where ids[i] != bspAPIC {
            guard online < Int(KMEM_MAX_CPUS) else { break }
            if start(cpu: online, apicID: ids[i]) {
                online &+= 1
            } else {
                set_cpu_apic_id(UInt32(online), 0xFFFF_FFFF)  // a late AP finds no slot and halts
                console.write("kmem: smp: CPU with APIC ID "); console.dec(UInt64(ids[i]))
                console.write(" did not start"); console.newline()
            }
        }
        return online
    }

    /// INIT, start-up, start-up (Intel's MP protocol), then waits for CPU `cpu` to be online.
    private static func start(cpu: Int, apicID: UInt32) -> Bool {
        PerCPU.prepare(cpu, apicID: apicID, stackTop: ap_stack_top(UInt32(cpu)))
        set_cpu_apic_id(UInt32(cpu), apicID)
        let vector = UInt32(truncatingIfNeeded: AP_TRAMPOLINE_PHYS >> 12)
        guard LocalAPIC.sendIPI(to: apicID, LocalAPIC.initIPI) else { return false }
        if needsINITDelay { PIT.delay(microseconds: 10_000) }
        for _ in 0 ..< 2 {
            guard LocalAPIC.sendIPI(to: apicID, LocalAPIC.startupIPI | vector) else { return false }
            PIT.delay(microseconds: 200)
            if PerCPU.isOnline(cpu) { return true }
        }
        for _ in 0 ..< startTimeoutMilliseconds {
            if PerCPU.isOnline(cpu) { return true }
            PIT.delay(microseconds: 1000)
        }
        return PerCPU.isOnline(cpu)
    }

    /// Whether to wait 10 ms after INIT, as Intel's MP protocol says for old processors. Linux
    /// (`smp_quirk_init_udelay`) skips it on Intel family 6, AMD family 0xF and later, and Hygon
    /// 0x18 and later; so does this kernel (QEMU's default qemu64 is AMD family 0xF).
    static var needsINITDelay: Bool {
        var r: (UInt32, UInt32, UInt32, UInt32) = (0, 0, 0, 0)
        let (vendor, family): (UInt32, UInt32) = withUnsafeMutableBytes(of: &r) { raw in
            let words = raw.baseAddress!.assumingMemoryBound(to: UInt32.self)
            cpuid(0, words)
            let v = words[1]  // EBX: "Genu" / "Auth" / "Hygo"
            cpuid(1, words)
            let base = (words[0] >> 8) & 0xF
            return (v, base == 0xF ? base &+ ((words[0] >> 20) & 0xFF) : base)
        }
        switch vendor {
        case 0x756E_6547: return family != 6                  // GenuineIntel
        case 0x6874_7541: return family < 0xF                 // AuthenticAMD
        case 0x6F67_7948: return family < 0x18                // HygonGenuine
        default: return true
        }
    }

    /// Whether the trampoline's page lies in usable RAM (e820 type 1) and overlaps none of `reserved`.
    private static func trampolinePageIsFree(memoryMap: UnsafeBufferPointer<MemoryRegion>,
                                             reserved: UnsafeBufferPointer<PhysRange>) -> Bool {
        let start = AP_TRAMPOLINE_PHYS, end = AP_TRAMPOLINE_PHYS &+ Kmem.pageSize
        guard memoryMap.contains(where: { $0.type == 1 && $0.base <= start && end &- $0.base <= $0.length }) else { return false }
        return !reserved.contains { $0.start < end && start < $0.end }
    }

    private static func note(_ why: StaticString) -> Int {
        console.write("kmem: smp: "); console.write(why); console.write(", running on the boot CPU only"); console.newline()
        return 1
    }
}

/// An AP's first Swift code (boot.S `ap_start64`, on its own stack): it loads its GDT and GS,
/// says it is running, takes its turns in the workload when there is one (`Turns`), then says
/// it is parked and halts in `ap_park` with interrupts off.
@_cdecl("ap_main")
func apMain(_ cpu: UInt32) -> Never {
    PerCPU.install(Int(cpu))
    LockTest.run(isAP: true)
    PCPTest.runOnAP(Int(cpu))
    PCPBench.runOnAP(Int(cpu))
    Turns.runOnAP(Int(cpu))
    PerCPU.park(Int(cpu))
}
