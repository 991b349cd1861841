import KernelSupport
import Synchronization

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

/// Calls `kmem_checkpoint` when a debugger's `kmem_stop_seq` has been reached (once): the first
/// operation to end with the sequence at or past it (on whichever CPU, with turns or running
/// free) clears it by compare-exchange, so exactly one CPU stops, between its operations; the
/// other CPUs run on until the debugger's breakpoint stops them all.
func checkStopSequence(_ a: PageAllocator, phase: UInt64) {
    let stop = volatile_load_u64(stop_sequence_address())
    guard stop != 0, FreeRun.sequence(a) >= stop,
          let word = UnsafeMutablePointer<UInt64>(bitPattern: UInt(stop_sequence_address())),
          atomicWord(word).pointee.compareExchange(expected: stop, desired: 0, ordering: .sequentiallyConsistent).exchanged
    else { return }
    kmemCheckpoint(phase)
}
