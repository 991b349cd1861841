import KernelSupport

/// Delays measured by the 8254 PIT's channel 2 (the PC speaker's), polled through port 0x61:
/// no interrupt is needed. Used between the INIT and start-up IPIs.
enum PIT {
    static let hz: UInt64 = 1_193_182

    /// Waits about `microseconds` (at most 54 ms per call; longer waits are cut there). The poll
    /// is bounded, so a machine without the speaker port's OUT2 bit still returns.
    static func delay(microseconds: UInt64) {
        let ticks = min(max(hz &* microseconds / 1_000_000, 1), 0xFFFF)
        let gate = inb(0x61)
        outb(0x61, (gate & ~0x02) & ~0x01)             // speaker off, gate low
        outb(0x43, 0xB0)                                // channel 2, low then high byte, mode 0
        outb(0x42, UInt8(truncatingIfNeeded: ticks))
        outb(0x42, UInt8(truncatingIfNeeded: ticks >> 8))
        outb(0x61, (gate & ~0x02) | 0x01)              // gate high: count down; OUT2 rises at 0
        var spins = 0
        while inb(0x61) & 0x20 == 0 && spins < 50_000_000 { spins &+= 1 }
        outb(0x61, gate & ~0x03)
    }
}
