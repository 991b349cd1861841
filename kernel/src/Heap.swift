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
        if p == 0 { return 12 }  // ENOMEM: the runtime reports it and traps
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
