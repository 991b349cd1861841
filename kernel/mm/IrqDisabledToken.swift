#if KMEM_KERNEL
/// boot.S: `kmem_irq_save` returns RFLAGS and clears IF; `kmem_irq_restore` sets IF again when
/// the saved RFLAGS had it.
@_extern(c, "kmem_irq_save")
func kmemIrqSave() -> UInt64
@_extern(c, "kmem_irq_restore")
func kmemIrqRestore(_ flags: UInt64)
#endif

/// Proof that interrupts are off on the running CPU, as strat9's `IrqDisabledToken`: the only
/// way to get one is ``withInterruptsDisabled(_:)``, which lends it to its closure. It is
/// `~Copyable` and only ever borrowed, so it cannot be kept past the closure, when interrupts
/// may be on again. An API that must run with interrupts off (a lock an interrupt handler may
/// also take) asks for one, so a caller cannot forget to turn them off.
public struct IrqDisabledToken: ~Copyable {
    fileprivate init() {}
}

/// Runs `body` with interrupts off on this CPU (in the kernel: RFLAGS saved, `cli`, restored
/// after; on the host, where there are none, it only makes the token), lending it the token.
/// Nests: an inner call leaves interrupts off when it returns if they were off before it.
@inline(__always)
public func withInterruptsDisabled<R, E: Error>(_ body: (borrowing IrqDisabledToken) throws(E) -> R) throws(E) -> R {
    #if KMEM_KERNEL
    let flags = kmemIrqSave()
    defer { kmemIrqRestore(flags) }
    #endif
    let token = IrqDisabledToken()
    return try body(token)
}
