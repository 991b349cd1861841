/// The allocator's report of a frame moved between states its state machine does not allow
/// (`mm/FrameState.swift`): a bug in the allocator itself, so the kernel stops there.
/// `flags` is the frame's whole flags word before the move, `to` the state it was moving to,
/// `move` a `FrameMove` raw value.
@_cdecl("kmem_illegal_move")
func kmemIllegalMoveBody(_ pfn: UInt64, _ flags: UInt32, _ to: UInt32, _ move: UInt32) {
    console.write("kmem: BUG: illegal frame state change pfn "); console.hex(pfn)
    console.write(" from flags "); console.hex(UInt64(flags)); console.write(" to "); console.hex(UInt64(to))
    console.write(" by ")
    if let m = FrameMove(rawValue: move) { console.write(m.name) } else { console.hex(UInt64(move)) }
    console.newline()
    haltForever()
}

/// A debug-build check of the buddy allocator's arithmetic failed (`mm/DebugVM.swift`, only
/// with `KMEM_DEBUG_VM`): `what` names the step, the kernel stops there, as Linux's VM_BUG_ON.
@_cdecl("kmem_debug_vm_failed")
func kmemDebugVMFailedBody(_ pfn: UInt64, _ order: UInt64, _ what: UInt32) {
    console.write("kmem: BUG: debug check failed at pfn "); console.hex(pfn)
    console.write(" order "); console.hex(order)
    console.write(": ")
    console.write(DebugVMCheck(rawValue: what)?.message ?? "unknown check")
    console.newline()
    haltForever()
}
