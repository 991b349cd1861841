/// Why kernel type information (BTF) could not be read or did not hold what the decoder needs.
public enum BTFError: Error, Equatable, CustomStringConvertible {
    /// `__stop_BTF` is not above `__start_BTF`, or the range is implausibly large.
    case badRange(start: UInt64, stop: UInt64)
    /// The blob does not start with BTF's magic 0xeb9f.
    case badMagic(found: UInt16)
    /// libbpf's `btf__new` refused the blob.
    case parseFailed(errno: Int32)
    /// No struct (or union) of that name.
    case missingType(String)
    /// The struct has no member of that name (searched through anonymous members too).
    case missingMember(type: String, member: String)
    /// A member has a different shape than expected (e.g. not an array, a bitfield).
    case unexpectedShape(type: String, member: String, expected: String)

    public var description: String {
        switch self {
        case .badRange(let start, let stop):
            return "BTF range __start_BTF=0x\(String(start, radix: 16)) __stop_BTF=0x\(String(stop, radix: 16)) is not a plausible blob (does the symbol map belong to this kernel?)"
        case .badMagic(let found):
            return "BTF blob starts with 0x\(String(found, radix: 16)), not 0xeb9f (wrong symbol map, or the kernel has no CONFIG_DEBUG_INFO_BTF)"
        case .parseFailed(let errno):
            return "libbpf could not parse the kernel's BTF (errno \(errno))"
        case .missingType(let name):
            return "the kernel's types (BTF or DWARF) have no 'struct \(name)' (a kernel version kmemscope does not know?)"
        case .missingMember(let type, let member):
            return "'struct \(type)' has no member '\(member)'"
        case .unexpectedShape(let type, let member, let expected):
            return "'struct \(type)'.\(member) is not \(expected)"
        }
    }
}
