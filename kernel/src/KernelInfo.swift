import KernelSupport

/// Fills `kmem_info`: the binary header (magic, version, text size) and the layout
/// descriptor text, the allocator's part plus what only the kernel knows, ending with the
/// boot's identity (`BOOT_ID`, `CMDLINE_HASH`, `SEED`: run-time values).
func publishKernelInfo(_ a: PageAllocator, kernel: PhysRange, boot: BootIdentity) {
    let buffer = kmem_info_buffer()!
    var out = BufferSink(base: buffer + 16, capacity: LayoutDescriptor.capacity - 16)
    a.writeLayoutDescriptor(to: &out)
    func addr(_ key: StaticString, _ v: UInt64) { out.write(key); out.put(61); out.hex(v); out.newline() }
    addr("KERNEL_VIRT_BASE", kernelVMA)
    addr("KERNEL_PHYS_START", kernel.start)
    addr("KERNEL_PHYS_END", kernel.end)
    addr("STOP_SEQ", stop_sequence_address())
    addr("KMEM_STATE_ADDRESS", UInt64(UInt(bitPattern: a.state)))
    out.write("BUILD-ID=")
    let note = build_id_note()!
    let descsz = Int(UnsafeRawPointer(note).load(fromByteOffset: 4, as: UInt32.self))
    let namesz = Int(UnsafeRawPointer(note).load(fromByteOffset: 0, as: UInt32.self))
    let desc = note + 12 + ((namesz + 3) & ~3)
    if build_id_note_size() >= UInt64(12 + descsz) {
        for i in 0..<descsz {
            let b = desc[i]
            out.put(hexDigit(b >> 4)); out.put(hexDigit(b & 15))
        }
    }
    out.newline()
    // last, so that a reader of an older layout finds every earlier line where it was
    addr("BOOT_ID", boot.id)
    addr("CMDLINE_HASH", boot.commandLineHash)
    out.write("SEED="); out.dec(boot.seed); out.newline()
    // the BUG record (kernel/README.md, "A kernel halted at its BUG"), after the boot identity
    addr("BUG", kmem_bug_address())
    addr("BUG_HALT", kmem_bug_halt_address())
    addr("BUG_MAGIC", BugRecord.magicValue)
    LayoutDescriptor.writeBugRecordLayout(to: &out)
    // the CPUs (kernel/README.md "Several CPUs"), after the BUG record
    writeCPUKeys(to: &out)
    // the zone locks (kernel/README.md "Zone locks"), after the CPU keys
    a.writeZoneLockLayout(to: &out)
    // the per-CPU cache table (kernel/README.md "Per-CPU caches"), after the zone locks
    a.writePerCPULayout(to: &out)
    // each CPU's in-operation row and the heap lock (kernel/README.md "Operations in progress"),
    // then the turn word (Workload), after the per-CPU cache table
    a.writeCPUOperationLayout(to: &out)
    addr("TURNS", turn_area())
    out.write("TURNS_MODE="); out.dec(48); out.newline()
    a.writePerCPULockLayout(to: &out)
    let header = UnsafeMutableRawPointer(buffer)
    header.storeBytes(of: LayoutDescriptor.magic, as: UInt64.self)
    header.storeBytes(of: LayoutDescriptor.version, toByteOffset: 8, as: UInt32.self)
    header.storeBytes(of: UInt32(out.count), toByteOffset: 12, as: UInt32.self)
    if out.dropped != 0 {
        let dropped = UInt64(out.dropped)
        kernelBug(.boot, code: 3, detail: dropped) { o in
            o.write("kmem_info is too small by "); o.dec(dropped); o.write(" bytes")
        }
    }
}

/// `CPU_COUNT`, `CPU_MAX`, `PERCPU`, `PERCPU_STRIDE`, the `PerCPU` layout measured on CPU 0's
/// area, the state values and `AP_PARK`.
func writeCPUKeys(to out: inout BufferSink) {
    func addr(_ key: StaticString, _ v: UInt64) { out.write(key); out.put(61); out.hex(v); out.newline() }
    func dec(_ key: StaticString, _ v: UInt64) { out.write(key); out.put(61); out.dec(v); out.newline() }
    dec("CPU_COUNT", cpu_count())
    dec("CPU_MAX", UInt64(KMEM_MAX_CPUS))
    addr("PERCPU", UInt64(UInt(bitPattern: percpu_areas()!)))
    dec("PERCPU_STRIDE", UInt64(KMEM_PERCPU_SIZE))
    out.writeLayout(of: PerCPU.area(0), section: .cpus)
    dec("CPU_STATE(offline)", UInt64(CPUState.offline))
    dec("CPU_STATE(running)", UInt64(CPUState.running))
    dec("CPU_STATE(parked)", UInt64(CPUState.parked))
    addr("AP_PARK", ap_park_address())
}

func hexDigit(_ n: UInt8) -> UInt8 { n < 10 ? n + 48 : n + 87 }

/// `dumpinfo=1`: prints the layout descriptor text, each line prefixed `kmem_info: `.
func printKernelInfo() {
    let buffer = kmem_info_buffer()!
    let size = Int(UnsafeRawPointer(buffer).load(fromByteOffset: 12, as: UInt32.self))
    console.write("kmem_info: ")
    for i in 0..<size {
        let b = buffer[16 + i]
        console.put(b)
        if b == 10 && i + 1 < size { console.write("kmem_info: ") }
    }
}
