import KernelSupport

/// Called between workload phases with the phase number, and when the sequence number
/// reaches `kmem_stop_seq`. Never inlined, with this exact C name, so a debugger can break
/// here and look. Prints the phase, the sequence number, buddyinfo per zone and slabinfo per
/// cache, all counted by walking the kernel's own structures, holding every lock of the
/// allocator (with CPUs running free the others go on meanwhile; a debugger stopped at the
/// entry finds this CPU between operations, holding none).
@_cdecl("kmem_checkpoint")
@inline(never)
public func kmemCheckpointBody(_ phase: UInt64) {
    guard let a = kernelAllocator else { return }
    do {
        try a.withEveryLock {
            console.write("kmem: checkpoint phase "); console.dec(phase)
            console.write(" seq "); console.dec(a.state.pointee.sequence); console.newline()
            a.writeBuddyinfo(to: &console)
            a.writeSlabinfo(to: &console)
        }
    } catch { kmemBug(error) }
}

/// `kmem_checkpoint` by its C name: every call goes through the C symbol, so a breakpoint
/// there catches them all (and the linker keeps it).
@_extern(c, "kmem_checkpoint")
func kmemCheckpoint(_ phase: UInt64)

/// Calls `kmem_checkpoint` when a debugger's `kmem_stop_seq` has been reached (once).
func checkStopSequence(_ a: PageAllocator, phase: UInt64) {
    let stop = stop_sequence()
    if stop != 0 && a.state.pointee.sequence >= stop {
        clear_stop_sequence()
        kmemCheckpoint(phase)
    }
}
