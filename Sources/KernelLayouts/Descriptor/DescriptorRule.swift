/// How one value the kernel publishes in `kmem_info` is checked against the ELF the user gave
/// before anything is decoded with it. The ELF is the truth for everything that does not change
/// at run time; a run-time value is checked against the allocator's own root (`KmemState`,
/// found through the image's `kmemStateAddress` global and read with DWARF's offsets, never
/// the descriptor's) and bounded by what the image's structures can hold.
public enum DescriptorRule: Sendable, Equatable {
    /// Equal to the image's own copy of the constant: the bytes of this symbol (a `static let`
    /// the kernel compiled into `.rodata`) read from the file.
    case imageConstant(String)
    /// Equal to this symbol's address in the image's symbol table.
    case imageAddress(String)
    /// Equal to `symbol` − `minus` (both addresses from the symbol table): a physical address.
    case imageAddressBelow(String, minus: String)
    /// Equal to the direct map the image's page tables build: the absolute symbol
    /// `DIRECT_MAP_PML4_INDEX` << 39, sign-extended.
    case directMapBase
    /// Equal to the image's GNU build-id note.
    case buildID
    /// `SIZE(Type)`: equal to DWARF's byte size of that struct.
    case dwarfSize
    /// `OFFSET(Type.field)`: equal to DWARF's offset of that member.
    case dwarfOffset
    /// Equal to the element count DWARF gives the array member `Type.member` (an `InlineArray`),
    /// minus `minus`.
    case dwarfCount(type: String, member: String, minus: UInt64)
    /// Equal to the guest's `kmemStateAddress` global (at the image's symbol).
    case rootAddress
    /// Equal to `KmemState.<field>` in guest memory (DWARF offset), masked with `mask`. Runs
    /// only when that `KmemState`'s magic is the image's `Kmem.stateMagic` (else the root is
    /// damaged, no witness, and verify's `state-fields` reports it).
    case rootField(String, mask: UInt64 = .max)
    /// At least 1 and at most `KmemState.<field>` in guest memory (a count that only grows).
    case atMostRootField(String)
    /// Equal to the (already checked) address `base` + DWARF's offset of `type.field`.
    case memberAddress(base: String, type: String, field: String)
    /// An 8-byte-aligned address inside the direct map the image builds
    /// (`DIRECT_MAP_GIB` GiB from the direct-map base).
    case inDirectMap
    /// A count of at least 1 whose elements of `bytesEach` (an already checked key, e.g.
    /// `PAGE_SIZE`, `SIZE(OpLogEntry)`) fit in the image's direct map.
    case fitsDirectMap(bytesEach: String)
    /// Equal to the value of this absolute symbol in the image (a boot.S `.set` constant such as
    /// `MAX_CPUS`).
    case imageAbsolute(String)
    /// Equal to the size the image's symbol table gives `symbol`, divided by the (already
    /// checked) key `per`: an array's element count (`kmem_percpu` / `PERCPU_STRIDE`).
    case symbolSize(String, per: String)
    /// Equal to the size the image's symbol table gives `symbol`, divided by the product of the
    /// (already checked) keys `per`: a table's row count (`kmem_pcp` / (`PCP_ZONES` × `PCP_STRIDE`)).
    case symbolSizeOver(String, per: [String])
    /// Equal to DWARF's byte size of the named type (a key that is not `SIZE(…)`: `PCP_STRIDE`).
    case dwarfSizeOf(String)
    /// Equal to the u64 the guest holds at the image's symbol (`kmem_cpus`).
    case guestWord(String)
    /// At least 1 and at most the (already checked) key's value.
    case countUpTo(String)
    /// At least the (already checked) key's value (`PERCPU_STRIDE` ≥ `SIZE(PerCPU)`).
    case atLeast(String)
    /// A value only the running guest knows and nothing in the ELF or the root bounds: read as
    /// published, trusted by no decoder for a size or an address.
    case runTimeOnly

    /// One phrase for docs and messages: what the value is compared with.
    public var summary: String {
        switch self {
        case .imageConstant(let s): return "= the image's \(s) (.rodata bytes in the file)"
        case .imageAddress(let s): return "= address of the image's symbol \(s)"
        case .imageAddressBelow(let s, let minus): return "= \(s) − \(minus) (image symbols)"
        case .directMapBase: return "= DIRECT_MAP_PML4_INDEX << 39 (image's absolute symbol)"
        case .buildID: return "= the image's GNU build-id note"
        case .dwarfSize: return "= DWARF byte size"
        case .dwarfOffset: return "= DWARF member offset"
        case .dwarfCount(let t, let m, let minus): return "= DWARF array count of \(t).\(m)" + (minus == 0 ? "" : " − \(minus)")
        case .rootAddress: return "= the guest's kmemStateAddress (image symbol)"
        case .rootField(let f, let mask): return "= KmemState.\(f) in guest memory" + (mask == .max ? "" : " & \(mask)")
        case .atMostRootField(let f): return "1 … KmemState.\(f) in guest memory"
        case .memberAddress(let base, let t, let f): return "= \(base) + DWARF offset of \(t).\(f)"
        case .inDirectMap: return "inside the image's direct map (DIRECT_MAP_GIB)"
        case .fitsDirectMap(let each): return "1 … direct map bytes / \(each)"
        case .imageAbsolute(let s): return "= the image's absolute symbol \(s)"
        case .symbolSize(let s, let per): return "= size of the image's symbol \(s) / \(per)"
        case .dwarfSizeOf(let t): return "= DWARF byte size of \(t)"
        case .symbolSizeOver(let s, let per): return "= size of the image's symbol \(s) / (\(per.joined(separator: " × ")))"
        case .guestWord(let s): return "= the u64 at the image's symbol \(s) in guest memory"
        case .countUpTo(let k): return "1 … \(k)"
        case .atLeast(let k): return "≥ \(k)"
        case .runTimeOnly: return "run time only (not cross-checked)"
        }
    }
}
