/// Which addresses a guest-memory read means.
public enum AddressSpace: Sendable, Equatable, CustomStringConvertible {
    /// The kernel's virtual addresses: its image mapping and its direct map of RAM.
    case kernelVirtual
    /// Guest-physical addresses (what the guest's RAM layout maps to QEMU's RAM block).
    case guestPhysical

    public var description: String { self == .kernelVirtual ? "kernel-virtual" : "guest-physical" }
}
