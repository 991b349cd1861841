import KernelSupport

/// Virtual address of the allocator's `KmemState` (0 until boot has laid it out). A
/// debugger finds everything else from here; the linker script also names it `kmem_state`.
nonisolated(unsafe) var kmemStateAddress: UInt64 = 0

/// The kernel's entry, called by boot.S in long mode on the boot stack.
@_cdecl("kmain")
func kmain(_ startInfoPhys: UInt64) -> Never {
    Serial.initialize()
    console.write("kmem: kmemscope kernel, Embedded Swift, x86_64"); console.newline()
    #if KMEM_DEBUG_VM
    console.write("kmem: debug-vm checks on (order, alignment, segment bounds at each step)"); console.newline()
    #endif
    let boot = BootInfo(phys: startInfoPhys)
    let cmdline = boot.commandLine
    console.write("kmem: command line: "); cmdline.write(to: &console); console.newline()
    printMemoryMap(boot.memoryMap)

    var config = BootConfig(directMapOffset: directMapOffset)
    config.kernel = PhysRange(start: kernel_image_start() &- kernelVMA, end: kernel_image_end() &- kernelVMA)
    config.limitPFN = 64 << (30 - 12)
    config.poison = cmdline.has("poison", "1")
    config.perCPUTable = pcp_table_address()
    config.cpuOperationTable = cpu_ops_table_address()
    let hotAdd = cmdline.hotAdd
    if cmdline.value("hotadd") != nil && hotAdd == nil {
        console.write("kmem: hotadd: cannot parse hotadd=START,SIZE (bytes), ignored"); console.newline()
    }
    if let h = hotAdd { config.heldBack = h }
    let allocator: PageAllocator
    do {
        allocator = try withUnsafeTemporaryAllocation(of: PhysRange.self, capacity: 3) { (r: UnsafeMutableBufferPointer<PhysRange>) throws(KmemError) -> PageAllocator in
            r[0] = PhysRange(start: startInfoPhys, end: startInfoPhys &+ UInt64(MemoryLayout<HVMStartInfo>.size))
            r[1] = PhysRange(start: boot.info.memoryMapPhys,
                             end: boot.info.memoryMapPhys &+ UInt64(boot.info.memoryMapEntries) &* 24)
            // The command line is read for the whole run (workload, faults): keep its bytes
            // out of the allocator, as the start info and memory map.
            let cmd = boot.info.commandLinePhys
            r[2] = cmd == 0 ? r[0] : PhysRange(start: cmd, end: cmd &+ UInt64(cmdline.count) &+ 1)
            // The other CPUs, before the allocator exists: they halt, and only this CPU runs it.
            LockTest.rounds.pointee = cmdline.number("locktest", default: 0)
            PCPTest.request(cmdline.number("pcptest", default: 0))
            PCPBench.request(cmdline.number("pcpbench", default: 0))
            // With a workload, the APs take turns in it instead of parking (src/Turns.swift).
            // `smp=free`: they run their streams at once, without turns (src/FreeRun.swift).
            Turns.enable(cmdline.number("ops", default: 0) > 0, stall: cmdline.number("turnstall", default: 0),
                         free: cmdline.has("smp", "free"))
            let cpus = SMP.bringUp(rsdpHint: boot.info.rsdpPhys, memoryMap: boot.memoryMap, reserved: UnsafeBufferPointer(r))
            LockTest.finish(cpus: cpus)
            return try PageAllocator.boot(regions: boot.memoryMap, reservations: UnsafeBufferPointer(r), config: config)
        }
    } catch {
        kmemBug(error)
    }
    kmemStateAddress = UInt64(UInt(bitPattern: allocator.state))
    kernelAllocator = allocator
    publishKernelInfo(allocator, kernel: config.kernel, boot: BootIdentity(commandLine: cmdline))
    if cmdline.has("dumpinfo", "1") { printKernelInfo() }

    console.write("kmem: kernel image phys ["); console.hex(config.kernel.start); console.write(", ")
    console.hex(config.kernel.end); console.write(") boot memory phys [")
    console.hex(allocator.state.pointee.bootMemStart); console.write(", ")
    console.hex(allocator.state.pointee.bootMemEnd); console.write(")")
    let metaPhys = allocator.state.pointee.frameMeta &- allocator.state.pointee.directMapOffset
    if metaPhys < allocator.state.pointee.bootMemStart || metaPhys >= allocator.state.pointee.bootMemEnd {
        console.write(" and ["); console.hex(metaPhys); console.write(", ")
        console.hex(metaPhys &+ ((allocator.frameCount &* 64 &+ Kmem.pageSize &- 1) & ~(Kmem.pageSize &- 1)))
        console.write(") for FrameMeta")
    }
    console.write(" frames ")
    console.dec(allocator.frameCount); console.write(" poison ")
    console.write(config.poison ? "on" : "off"); console.newline()
    allocator.writeZones(to: &console)
    allocator.writeSegments(to: &console)
    allocator.writeBuddyinfo(to: &console)
    allocator.writeZoneStatistics(to: &console)

    if cmdline.value("misuse") != nil { commitMisuse(allocator, cmdline) }
    if cmdline.has("crash", "pagefault") {
        // An unmapped address: the exception handler must report vector 14 and halt.
        console.write("kmem: crash: reading "); console.hex(0xDEAD_0000); console.newline()
        _ = volatile_read_u64(0xDEAD_0000)
    }

    let report = allocator.selfCheck()
    report.write(to: &console)
    console.write("kmem: ready"); console.newline()
    PCPTest.drive(allocator, cpus: Int(cpu_count()))
    PCPBench.drive(allocator, cpus: Int(cpu_count()))

    let ops = cmdline.number("ops", default: 0)
    // Without a workload, held-back RAM is added at once; the workload adds it after phase 1.
    if ops == 0, let h = hotAdd { hotAddMemory(allocator, h) }
    let fault = cmdline.fault
    if cmdline.value("fault") != nil && fault == nil {
        console.write("kmem: fault: cannot parse fault=KIND@SEQ (kinds: double-free broken-link list-cycle parity-flip alloc-bitmap-flip wrong-order counter-drift lost-block overlap refcount pageblock-tag slab-freelist use-after-free)")
        console.newline()
    }
    var passed = report.passed
    if ops > 0 {
        let seed = cmdline.number("seed", default: 1)
        let phases = cmdline.number("phases", default: 4)
        console.write("kmem: workload seed "); console.dec(seed); console.write(" ops "); console.dec(ops)
        console.write(" phases "); console.dec(phases); console.newline()
        var run = WorkloadRun(seed: seed, operations: ops, phases: phases, cpus: Turns.enabled ? Int(cpu_count()) : 1,
                              fault: fault?.kind, faultSequence: fault?.sequence ?? 0)
        run.hotAdd = hotAdd
        if run.cpus > 1 && Turns.free {
            console.write("kmem: workload on "); console.dec(UInt64(run.cpus)); console.write(" CPUs running free (smp=free)")
            console.newline()
        } else if run.cpus > 1 {
            console.write("kmem: workload on "); console.dec(UInt64(run.cpus)); console.write(" CPUs taking turns of ")
            console.dec(Turns.batch); console.write(" operations"); console.newline()
        }
        do { try withUnsafeMutablePointer(to: &run) { (p) throws(KmemError) in try Turns.runWorkload(allocator, run: p) } } catch { kmemBug(error) }
        if let kind = run.fault {
            console.write("kmem: fault: "); console.write(kind.name); console.write(" found no target"); console.newline()
        }
        var blocks: UInt64 = 0, pages: UInt64 = 0, objects: UInt64 = 0
        for cpu in 0 ..< run.cpus {
            guard let live = run.liveSet(cpu) else { continue }
            blocks &+= UInt64(live.pages.count); pages &+= live.pagesHeld; objects &+= UInt64(live.objects.count)
            if run.cpus > 1 {
                console.write("kmem: workload: cpu "); console.dec(UInt64(cpu)); console.write(" ran ")
                console.dec(run.operations(cpu: cpu)); console.write(" operations, holds page blocks ")
                console.dec(UInt64(live.pages.count)); console.write(" pages "); console.dec(live.pagesHeld)
                console.write(" heap objects "); console.dec(UInt64(live.objects.count)); console.newline()
            }
        }
        console.write("kmem: workload: live page blocks "); console.dec(blocks)
        console.write(" pages "); console.dec(pages)
        console.write(" heap objects "); console.dec(objects); console.newline()
        allocator.writeZoneStatistics(to: &console)
        let final = allocator.selfCheck()
        final.write(to: &console)
        passed = final.passed
        console.write("kmem: done seq "); console.dec(allocator.state.pointee.sequence); console.newline()
    }
    if cmdline.has("exit", "1") { qemuExit(passed ? 0 : 1) }
    haltForever()
}

/// Prints the e820 map as Linux does at boot.
func printMemoryMap(_ map: UnsafeBufferPointer<MemoryRegion>) {
    for r in map {
        console.write("kmem: e820: [mem "); console.hex(r.base, digits: 16); console.write("-")
        console.hex(r.base &+ r.length &- 1, digits: 16); console.write("] ")
        switch r.type {
        case 1: console.write("usable")
        case 2: console.write("reserved")
        case 3: console.write("ACPI data")
        case 4: console.write("ACPI NVS")
        default: console.write("type "); console.dec(UInt64(r.type))
        }
        console.newline()
    }
}

/// `misuse=KIND`: commits one API misuse on purpose; the allocator must catch it, and the
/// kernel prints `kmem: BUG: …` and halts.
func commitMisuse(_ a: PageAllocator, _ cmdline: CommandLine) {
    do {
        guard let pfn = try a.allocate(AllocationRequest(order: 4, owner: 0x6d69_7375_7365)) else {
            console.write("kmem: misuse: allocation failed"); console.newline()
            return
        }
        console.write("kmem: misuse: allocated order 4 at pfn "); console.hex(pfn.raw); console.newline()
        if cmdline.has("misuse", "double-free") {
            try a.free(pfn, order: 4)
            try a.free(pfn, order: 4)
        } else if cmdline.has("misuse", "wrong-order") {
            try a.free(pfn, order: 3)
        } else if cmdline.has("misuse", "interior") {
            try a.free(pfn &+ 1, order: 0)
        } else if cmdline.has("misuse", "outside") {
            try a.free(a.frameEnd &+ 16, order: 0)
        } else if cmdline.has("misuse", "free-reserved") {
            try a.free(pfn, order: 4)
            guard try a.reserveRange(start: pfn, count: 1) else { return }
            try a.free(pfn, order: 0)
        }
        console.write("kmem: misuse: unknown kind, nothing done"); console.newline()
    } catch {
        kmemBug(error)
    }
}

/// Adds RAM held back at boot (`hotadd=START,SIZE`) as new segments and says what changed.
func hotAddMemory(_ a: PageAllocator, _ range: PhysRange) {
    let start = PhysicalAddress(range.start &+ Kmem.pageSize &- 1).pfn
    let end = PhysicalAddress(range.end).pfn
    guard start < end else { return }
    do {
        let added = try a.addMemory(start: start, count: end &- start)
        console.write("kmem: hotadd: pfn ["); console.hex(start.raw); console.write(", "); console.hex(end.raw)
        console.write(") added as "); console.dec(UInt64(added)); console.write(" segment(s) at seq ")
        console.dec(a.state.pointee.sequence); console.newline()
        a.writeZones(to: &console)
        a.writeSegments(to: &console)
        let r = a.selfCheck()
        r.write(to: &console)
    } catch {
        kmemBug(error)
    }
}
