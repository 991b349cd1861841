/// The `slab_flags_t` bits of a cache that say which `slub_debug` features it has: red zones
/// (`SLAB_RED_ZONE`, the `Z` of `slub_debug=`), poisoning (`SLAB_POISON`, `P`) and whether free
/// objects are filled with poison (`__OBJECT_POISON`: set with `SLAB_POISON` unless the cache
/// has a constructor or is `SLAB_TYPESAFE_BY_RCU`, mm/slub.c `calculate_sizes`).
///
/// 6.12 declares the bits as `enum _slab_flag_bits` (`_SLAB_RED_ZONE`, `_SLAB_POISON`,
/// `_SLAB_OBJECT_POISON`, bit numbers): read from BTF when it has the enum. 6.1 has macros BTF
/// cannot carry (include/linux/slab.h: `SLAB_RED_ZONE` 0x400, `SLAB_POISON` 0x800; mm/slub.c:
/// `__OBJECT_POISON` 0x80000000): used only for 6.1, the release they were read from.
public struct SlubDebugFlags: Sendable, Equatable {
    public var redZone: UInt32
    public var poison: UInt32
    public var objectPoison: UInt32
    /// `SLAB_STORE_USER` (`U`): two `struct track` after the free pointer (the padding check
    /// needs their size); nil when not known for this kernel.
    public var storeUser: UInt32?
    /// `SLAB_KMALLOC`: with `SLAB_STORE_USER`, a kmalloc object's orig_size after the tracks
    /// (`slub_debug_orig_size`); nil when not known.
    public var kmalloc: UInt32?
    /// The bytes that orig_size takes there: 4 (`unsigned int`) in 6.1, 8 (`unsigned long`) in
    /// 6.12, both measured (the requested sizes in the first 4 bytes, 6.12's next 4 zero);
    /// nil for the releases between, where the object padding of a kmalloc cache that stores
    /// users is then not checked (never guessed).
    public var origSizeBytes: Int?
    /// Where the bits came from, for notes.
    public var source: String

    /// 6.1's values (include/linux/slab.h and mm/slub.c, Linux 6.1).
    /// `SLAB_STORE_USER` 0x10000 and `SLAB_KMALLOC` 0x1000 (include/linux/slab.h): 6.1 stores a
    /// kmalloc object's `orig_size` after its two tracks too (`slub_debug_orig_size`). Measured:
    /// on a 6.1.192 guest with `U` for kmalloc-32, kmalloc-64 and dentry, the 4 bytes after the
    /// tracks held the requested sizes (0x14, 0x28…) in the kmalloc caches only.
    public static let linux61 = SlubDebugFlags(redZone: 0x400, poison: 0x800, objectPoison: 0x8000_0000, storeUser: 0x10000,
                                               kmalloc: 0x1000, origSizeBytes: 4,
                                               source: "Linux 6.1's SLAB_RED_ZONE/SLAB_POISON/__OBJECT_POISON/SLAB_STORE_USER/SLAB_KMALLOC constants")

    public init(redZone: UInt32, poison: UInt32, objectPoison: UInt32, storeUser: UInt32? = nil, kmalloc: UInt32? = nil,
                origSizeBytes: Int? = nil, source: String) {
        self.origSizeBytes = origSizeBytes
        self.redZone = redZone
        self.poison = poison
        self.objectPoison = objectPoison
        self.storeUser = storeUser
        self.kmalloc = kmalloc
        self.source = source
    }

    /// From BTF's `enum _slab_flag_bits`, else 6.1's constants for a 6.1 kernel; nil otherwise
    /// (the red-zone and poison checks are then skipped with a note, never guessed).
    public init?(btf: KernelTypes, version: LinuxKernelVersion?) {
        if let cases = try? btf.enumCases(of: "_slab_flag_bits") {
            func bit(_ name: String) -> UInt32? {
                cases.first { $0.name == name }.flatMap { $0.value >= 0 && $0.value < 32 ? UInt32(1) << UInt32($0.value) : nil }
            }
            guard let red = bit("_SLAB_RED_ZONE"), let poison = bit("_SLAB_POISON"), let object = bit("_SLAB_OBJECT_POISON") else { return nil }
            self.init(redZone: red, poison: poison, objectPoison: object, storeUser: bit("_SLAB_STORE_USER"),
                      kmalloc: bit("_SLAB_KMALLOC"),
                      origSizeBytes: version.map { $0 >= LinuxKernelVersion(major: 6, minor: 12) ? 8 : nil } ?? nil,
                      source: "BTF enum _slab_flag_bits")
            return
        }
        guard let version, version == LinuxKernelVersion(major: 6, minor: 1) else { return nil }
        self = .linux61
    }
}

/// The byte values `slub_debug` writes (include/linux/poison.h): what `check_object` expects.
public enum SlubPoison {
    /// `SLUB_RED_INACTIVE`: a free object's red zones.
    public static let redInactive: UInt8 = 0xbb
    /// `SLUB_RED_ACTIVE`: an allocated object's red zones.
    public static let redActive: UInt8 = 0xcc
    /// `POISON_FREE`: a free object's bytes, but the last.
    public static let free: UInt8 = 0x6b
    /// `POISON_END`: a free object's last byte.
    public static let end: UInt8 = 0xa5
    /// `POISON_INUSE`: with `SLAB_POISON`, each object's padding after its metadata and the
    /// slab's bytes after its last object (`setup_slab_debug` fills the whole slab first).
    public static let inuse: UInt8 = 0x5a
}
