import KernelSupport

/// The running CPU's local APIC in xAPIC mode, through its registers at the physical address
/// IA32_APIC_BASE names (0xFEE00000 under QEMU), read and written through the direct map
/// (boot.S maps that 2 MiB page uncached).
enum LocalAPIC {
    static let baseMSR: UInt32 = 0x1B

    /// The registers' virtual address.
    static var base: UInt64 { directMapOffset &+ (rdmsr(baseMSR) & 0x000F_FFFF_FFFF_F000) }

    /// Whether the APIC is on and in xAPIC mode (IA32_APIC_BASE: enable bit 11 set, x2APIC bit 10 clear).
    static var isXAPIC: Bool { rdmsr(baseMSR) & (1 << 11 | 1 << 10) == 1 << 11 }

    static func read(_ register: UInt64) -> UInt32 { volatile_load_u32(base &+ register) }
    static func write(_ register: UInt64, _ value: UInt32) { volatile_store_u32(base &+ register, value) }

    /// This CPU's APIC ID.
    static var id: UInt32 { read(0x20) >> 24 }

    /// Software-enables the APIC (spurious vector 0xFF). Interrupts stay off (IF = 0), so no
    /// vector is ever delivered.
    static func enable() { write(0xF0, read(0xF0) | 0x1FF) }

    static let initIPI: UInt32 = 0x0000_4500     // delivery mode INIT, level assert
    static let startupIPI: UInt32 = 0x0000_4600  // delivery mode start-up, level assert; | vector

    /// Sends `command` to the APIC `destination` and waits (bounded) until it is delivered.
    /// Returns false when the delivery-status bit never cleared.
    @discardableResult
    static func sendIPI(to destination: UInt32, _ command: UInt32) -> Bool {
        write(0x310, destination << 24)
        write(0x300, command)
        var spins = 0
        while read(0x300) & (1 << 12) != 0 {
            guard spins < 10_000_000 else { return false }
            cpu_relax()
            spins &+= 1
        }
        return true
    }
}
