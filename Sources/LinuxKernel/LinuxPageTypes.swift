/// How a kernel keeps a page's type (buddy, slab, page table…) in `page->page_type`, the word
/// it shares with `_mapcount`. Learned from BTF where BTF can say it:
///
/// - 6.12 and later have `enum pagetype` (`PGTY_buddy = 0xf0`, `PGTY_slab = 0xf5`, …): the top
///   byte of the word *is* the type (`page_type >> 24 == PGTY_buddy`, include/linux/page-flags.h
///   `PAGE_TYPE_OPS`); a word whose top byte is no type is a map count.
/// - 6.1 has no such enum: under `PAGE_TYPE_BASE` 0xf0000000 a type's bit is *cleared*
///   (`PG_buddy` 0x80, `PG_offline` 0x100, `PG_table` 0x200, `PG_guard` 0x400). These are macros
///   BTF cannot carry: they are 6.1's constants, named as such.
///
/// 6.1's test applied to a 6.12 word calls every type buddy (all 6.12 types have the top nibble
/// 0xf and the 0x80 bit clear): a slab page read as "head of an order 2148466703 buddy block".
public enum LinuxPageTypes: Sendable, Equatable {
    /// 6.12+: type byte → name, from `enum pagetype` (`PGTY_` dropped).
    case typeByte([UInt8: String])
    /// 6.1: cleared bits under `PAGE_TYPE_BASE`.
    case clearedBits

    /// 6.1's `PAGE_TYPE_BASE` and type bits (include/linux/page-flags.h, Linux 6.1).
    public static let linux61Base: UInt32 = 0xf000_0000
    public static let linux61Bits: [(UInt32, String)] = [(0x80, "buddy"), (0x100, "offline"), (0x200, "table"), (0x400, "guard")]

    /// Why the page-type scheme of a kernel cannot be trusted.
    public struct Unknown: Error, CustomStringConvertible {
        public var description: String
    }

    /// The releases whose page-type macros ``linux61Base`` / ``linux61Bits`` were read from and
    /// measured on (Debian's 6.1 and its PREEMPT_RT flavour): a kernel without `enum pagetype`
    /// is read with them only when its banner says one of these.
    public static let clearedBitsVersions: [LinuxKernelVersion] = [LinuxKernelVersion(major: 6, minor: 1)]

    /// `enum pagetype` from BTF when the kernel has it (6.12+), else 6.1's table when `version`
    /// is one it came from (``clearedBitsVersions``).
    /// - Throws: ``Unknown`` when `enum pagetype` exists but has no `PGTY_buddy` in the top byte,
    ///   or when it is absent and `version` is not a release the table is known for (nil: the
    ///   banner could not be read): a scheme this version of kmemscope does not know is refused,
    ///   never misread.
    public init(btf: KernelTypes, version: LinuxKernelVersion?) throws(Unknown) {
        guard let cases = try? btf.enumCases(of: "pagetype") else {
            guard let version, Self.clearedBitsVersions.contains(version) else {
                throw Unknown(description: Self.unknownVersionMessage(version))
            }
            self = .clearedBits
            return
        }
        var names: [UInt8: String] = [:]
        for (name, value) in cases where name.hasPrefix("PGTY_") && name != "PGTY_mapcount_underflow" {
            guard value >= 0x80, value <= 0xfe else { continue }
            names[UInt8(value)] = String(name.dropFirst("PGTY_".count))
        }
        guard names.values.contains("buddy") else {
            throw Unknown(description: "this kernel's enum pagetype has no PGTY_buddy between 0x80 and 0xfe (\(cases.map { "\($0.name)=\($0.value)" }.joined(separator: ", "))): its page types are kept in a way kmemscope does not know")
        }
        self = .typeByte(names)
    }

    /// What a kernel with no `enum pagetype` in BTF and no table for its release is told.
    public static func unknownVersionMessage(_ version: LinuxKernelVersion?) -> String {
        let known = clearedBitsVersions.map(\.description).joined(separator: ", ")
        let which = version.map { "Linux \($0)" } ?? "this kernel (linux_banner unreadable, so its release is unknown)"
        return "\(which) has no enum pagetype in its BTF, and kmemscope has a page-type table (PAGE_TYPE_BASE, PG_buddy) only for Linux \(known) (6.12 and later are read from BTF): how its pages say buddy or slab is unknown, so it is not read rather than misread"
    }

    /// The types the word says the page has (empty when it is a map count).
    public func names(_ word: UInt32) -> [String] {
        switch self {
        case .typeByte(let names):
            return names[UInt8(word >> 24)].map { [$0] } ?? []
        case .clearedBits:
            guard word & Self.linux61Base == Self.linux61Base, word != UInt32.max else { return [] }
            return Self.linux61Bits.filter { word & $0.0 == 0 }.map(\.1)
        }
    }

    /// `PageBuddy`: the word says buddy (a free block's head on a buddy list).
    public func isBuddy(_ word: UInt32) -> Bool {
        switch self {
        case .typeByte(let names): return names[UInt8(word >> 24)] == "buddy"
        case .clearedBits: return word & (Self.linux61Base | 0x80) == Self.linux61Base
        }
    }

    /// What a reader is told about where the scheme came from.
    public var source: String {
        switch self {
        case .typeByte: return "BTF enum pagetype (top byte)"
        case .clearedBits: return "Linux 6.1's PAGE_TYPE_BASE/PG_* constants (no enum pagetype in BTF)"
        }
    }
}
