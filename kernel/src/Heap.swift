/// The kernel's page allocator, once booted. The Swift runtime's allocation entry points
/// below are served by its slab heap, so the kernel's own arrays and class instances live
/// there and every runtime allocation is an operation in the log.
nonisolated(unsafe) var kernelAllocator: PageAllocator? = nil

/// The Embedded Swift runtime's allocation entry point (`posix_memalign` in boot.S jumps here).
@_cdecl("kmem_runtime_memalign")
func posixMemalign(_ out: UnsafeMutablePointer<UnsafeMutableRawPointer?>, _ alignment: Int, _ size: Int) -> Int32 {
    guard let a = kernelAllocator else { kmemBug(.heapNotReady) }
    do {
        let p = try a.kmalloc(size: UInt64(size), alignment: UInt64(max(alignment, 16)))
        if p == 0 {
            // The runtime would trap with a bare invalid-opcode exception: say what happened.
            a.writeBuddyinfo(to: &console)
            let seq = a.state.pointee.sequence
            kernelBug(.outOfMemory, code: 0, sequence: seq, detail: UInt64(size), detail2: UInt64(alignment)) { out in
                out.write("out of memory: the Swift runtime's allocation of ")
                out.dec(UInt64(size)); out.write(" bytes (alignment "); out.dec(UInt64(alignment))
                out.write(") failed at seq "); out.dec(seq)
                out.write(": no zone has a free block of that size above its watermark")
            }
        }
        out.pointee = UnsafeMutableRawPointer(bitPattern: UInt(p))
        return 0
    } catch {
        kmemBug(error)
    }
}

/// The Embedded Swift runtime's deallocation entry point (`free` in boot.S jumps here).
@_cdecl("kmem_runtime_free")
func heapFree(_ p: UnsafeMutableRawPointer?) {
    guard let p else { return }
    guard let a = kernelAllocator else { kmemBug(.heapNotReady) }
    do {
        try a.kfree(UInt64(UInt(bitPattern: p)))
    } catch {
        kmemBug(error)
    }
}
