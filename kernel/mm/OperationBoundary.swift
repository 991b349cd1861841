#if KMEM_KERNEL
/// The kernel's `kmem_op_end` (a bare `ret` in `arch/boot.S`, so no optimiser can drop the
/// call): a debugger that stopped the guest inside an operation breaks there to reach the
/// next boundary between operations.
@_extern(c, "kmem_op_end")
func kmemOpEnd()
#endif

extension PageAllocator {
    /// Called each time `KmemState.busy` returns to 0 (the host build has no debugger hook).
    @inline(__always)
    func operationBoundary() {
        #if KMEM_KERNEL
        kmemOpEnd()
        #endif
    }
}
