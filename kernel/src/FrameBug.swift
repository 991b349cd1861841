/// The allocator's report of a frame moved between states its state machine does not allow
/// (`mm/FrameState.swift`): a bug in the allocator itself, so the kernel stops there.
/// `flags` is the frame's whole flags word before the move, `to` the state it was moving to,
/// `move` a `FrameMove` raw value. Published in `kmem_bug` (kind 3).
@_cdecl("kmem_illegal_move")
func kmemIllegalMoveBody(_ pfn: UInt64, _ flags: UInt32, _ to: UInt32, _ move: UInt32) {
    kernelBug(.illegalMove, code: UInt64(move), pfn: pfn, detail: UInt64(flags), detail2: UInt64(to)) { out in
        out.write("illegal frame state change pfn "); out.hex(pfn)
        out.write(" from flags "); out.hex(UInt64(flags)); out.write(" to "); out.hex(UInt64(to))
        out.write(" by ")
        if let m = FrameMove(rawValue: move) { out.write(m.name) } else { out.hex(UInt64(move)) }
    }
}

/// A debug-build check of the buddy allocator's arithmetic failed (`mm/DebugVM.swift`, only
/// with `KMEM_DEBUG_VM`): `what` names the step, the kernel stops there, as Linux's VM_BUG_ON.
/// Published in `kmem_bug` (kind 4).
@_cdecl("kmem_debug_vm_failed")
func kmemDebugVMFailedBody(_ pfn: UInt64, _ order: UInt64, _ what: UInt32) {
    kernelBug(.debugVM, code: UInt64(what), pfn: pfn, detail: order) { out in
        out.write("debug check failed at pfn "); out.hex(pfn)
        out.write(" order "); out.hex(order)
        out.write(": ")
        out.write(DebugVMCheck(rawValue: what)?.message ?? "unknown check")
    }
}
