/// Why a guest-memory source could not be opened or read. Each message names what to do.
public enum GuestMemoryError: Error, Equatable, CustomStringConvertible {
    /// The source does not read this address space.
    case unsupportedSpace(AddressSpace, source: String)
    /// No guest RAM (or no kernel mapping) covers the range.
    case unmapped(AddressSpace, address: UInt64, count: Int, source: String)
    /// A file, process or monitor answer could not be used.
    case unusable(String)
    /// The system refused access to another process's memory.
    case permission(pid: Int32, reason: String)

    public var description: String {
        switch self {
        case let .unsupportedSpace(space, source):
            return "\(source) cannot read \(space) addresses"
        case let .unmapped(space, address, count, source):
            return "\(source): no guest RAM at \(space) 0x\(String(address, radix: 16)) (+\(count) bytes)"
        case let .unusable(reason):
            return reason
        case let .permission(pid, reason):
            return "cannot read QEMU's memory (pid \(pid)): \(reason). Reading another process needs ptrace rights: "
                + "the same user and /proc/sys/kernel/yama/ptrace_scope 0 (or CAP_SYS_PTRACE); or use --memory-file, or --memory-source stub"
        }
    }
}
