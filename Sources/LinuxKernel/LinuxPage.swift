import KernelLayouts

/// Where `struct page`'s fields lie and what its flag bits are called, learned from BTF
/// (`enum pageflags` names the bits; `NR_PAGEFLAGS` says how many there are: the bits above
/// hold the section, node and zone numbers).
public struct LinuxPageLayout: Sendable, Equatable {
    public var size: Int
    public var flagsOffset: Int
    public var refcountOffset: Int
    /// `_mapcount`, which shares its word with `page_type` (6.1: a union).
    public var mapcountOffset: Int
    public var privateOffset: Int
    /// `compound_head` (bit 0 set on tail pages of a compound page), if BTF has it.
    public var compoundHeadOffset: Int?
    /// The list node pages on per-CPU lists are linked through (`pcp_list` in 6.1, else `lru`).
    public var pcpListOffset: Int
    /// Flag bit → name (the first enumerator of each value: `PG_owner_priv_1`, not its aliases).
    public var flagNames: [Int: String]
    /// `__NR_PAGEFLAGS`: the flag bits below it are flags, the bits above are fields.
    public var flagCount: Int
    /// How `page_type` says a page's type (6.12's type byte or 6.1's cleared bits).
    public var types: LinuxPageTypes

    /// Learns the layout from BTF; `version` (the guest's banner) decides the page-type scheme
    /// where BTF has no `enum pagetype` (``LinuxPageTypes/init(btf:version:)``).
    /// - Throws: ``BTFError``, or ``LinuxPageTypes/Unknown`` for a page-type scheme kmemscope does not know.
    public init(btf: KernelTypes, version: LinuxKernelVersion?) throws {
        types = try LinuxPageTypes(btf: btf, version: version)
        size = try btf.size(ofStruct: "page")
        flagsOffset = try btf.member("flags", of: "page").offset
        refcountOffset = try btf.member("_refcount", of: "page").offset
        mapcountOffset = try btf.member("_mapcount", of: "page").offset
        privateOffset = try btf.member("private", of: "page").offset
        compoundHeadOffset = try? btf.member("compound_head", of: "page").offset
        if let pcp = try? btf.member("pcp_list", of: "page") {
            pcpListOffset = pcp.offset
        } else {
            pcpListOffset = try btf.member("lru", of: "page").offset
        }
        var names: [Int: String] = [:]
        var count = 0
        for (name, value) in try btf.enumCases(of: "pageflags") {
            if name == "__NR_PAGEFLAGS" || name == "NR_PAGEFLAGS" { count = Int(clamping: value); continue }
            guard value >= 0, value < 64, names[Int(value)] == nil else { continue }
            names[Int(value)] = name.hasPrefix("PG_") ? String(name.dropFirst(3)) : name
        }
        flagNames = names
        flagCount = count > 0 && count <= 64 ? count : 0
    }
}

/// One `struct page` as read from guest memory.
public struct LinuxPage: Sendable, Equatable {
    public var pfn: UInt64
    /// The `struct page`'s virtual address (`vmemmap_base + pfn * sizeof(struct page)`).
    public var address: UInt64
    public var flags: UInt64
    public var refcount: Int32
    /// `_mapcount` (as a signed count) — the same word as `page_type`.
    public var mapcount: Int32
    public var `private`: UInt64
    public var compoundHead: UInt64?

    /// How the kernel keeps page types in the `page_type` word.
    public var typeScheme: LinuxPageTypes

    /// The `page_type` word.
    public var pageType: UInt32 { UInt32(bitPattern: mapcount) }

    /// `PageBuddy(page)`: free, the head of a block on a buddy list.
    public var isBuddy: Bool { typeScheme.isBuddy(pageType) }

    /// The page types set (`buddy`, `slab`, …), empty when the word is a map count.
    public var pageTypes: [String] { typeScheme.names(pageType) }

    /// A tail page of a compound page points at its head (bit 0 of `compound_head`).
    public var compoundHeadPage: UInt64? {
        guard let c = compoundHead, c & 1 == 1 else { return nil }
        return c &- 1
    }

    /// Decodes the bytes of one `struct page`.
    public init(pfn: UInt64, address: UInt64, bytes: [UInt8], layout: LinuxPageLayout) {
        self.pfn = pfn
        self.address = address
        flags = loadU64(bytes, layout.flagsOffset)
        refcount = Int32(bitPattern: loadU32(bytes, layout.refcountOffset))
        mapcount = Int32(bitPattern: loadU32(bytes, layout.mapcountOffset))
        `private` = loadU64(bytes, layout.privateOffset)
        compoundHead = layout.compoundHeadOffset.map { loadU64(bytes, $0) }
        typeScheme = layout.types
    }

    /// Names of the flag bits set below `NR_PAGEFLAGS`, lowest first.
    public func flagNames(_ layout: LinuxPageLayout) -> [String] {
        (0..<layout.flagCount).filter { flags & (1 << UInt64($0)) != 0 }.map { layout.flagNames[$0] ?? "bit\($0)" }
    }

    /// The bits above `NR_PAGEFLAGS` (section, node and zone numbers).
    public func fieldBits(_ layout: LinuxPageLayout) -> UInt64 {
        layout.flagCount >= 64 ? 0 : flags >> UInt64(layout.flagCount)
    }
}

/// Little-endian UInt32 at `offset`, 0 when out of range.
func loadU32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
    guard offset >= 0, offset <= bytes.count - 4 else { return 0 }
    var value: UInt32 = 0
    for i in 0..<4 { value |= UInt32(bytes[offset + i]) << (8 * UInt32(i)) }
    return value
}
