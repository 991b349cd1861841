/// Just enough ACPI to find the CPUs: the RSDP (from the PVH start info, else the BIOS areas),
/// the RSDT or XSDT, and the MADT's processor entries. Every table is read through the direct
/// map, its address checked to lie inside it, its length bounded and its checksum verified.
enum ACPI {
    /// The direct map covers physical [0, 64 GiB) (boot.S).
    static let directMapLimit: UInt64 = 64 << 30

    /// `count` bytes at physical `phys`, or nil when they are not all inside the direct map.
    static func bytes(_ phys: UInt64, _ count: UInt64) -> UnsafeRawPointer? {
        guard phys != 0, count <= directMapLimit, phys <= directMapLimit &- count else { return nil }
        return UnsafeRawPointer(bitPattern: UInt(directMapOffset &+ phys))
    }

    /// Whether the `count` bytes at `p` sum to 0 (mod 256), as every ACPI checksum requires.
    static func checksumOK(_ p: UnsafeRawPointer, _ count: Int) -> Bool {
        var sum: UInt8 = 0
        for i in 0 ..< count { sum &+= p.load(fromByteOffset: i, as: UInt8.self) }
        return sum == 0
    }

    static let rsdpSignature: UInt64 = 0x2052_5450_2044_5352  // "RSD PTR "

    /// The RSDP's physical address: `hint` (the start info's `rsdp_paddr`) when it holds a valid
    /// RSDP, else the first valid one on a 16-byte boundary in the EBDA's first KiB or in
    /// [0xE0000, 0x100000), as ACPI specifies for BIOS systems; nil when there is none.
    static func findRSDP(hint: UInt64) -> UInt64? {
        if isRSDP(hint) { return hint }
        if let bda = bytes(0x40E, 2) {
            let ebda = UInt64(bda.loadUnaligned(as: UInt16.self)) << 4
            if ebda >= 0x8_0000 && ebda < 0xA_0000 {
                var p = ebda
                while p < ebda &+ 1024 { if isRSDP(p) { return p }; p &+= 16 }
            }
        }
        var p: UInt64 = 0xE_0000
        while p < 0x10_0000 { if isRSDP(p) { return p }; p &+= 16 }
        return nil
    }

    static func isRSDP(_ phys: UInt64) -> Bool {
        guard let p = bytes(phys, 20), p.loadUnaligned(as: UInt64.self) == rsdpSignature else { return false }
        return checksumOK(p, 20)
    }

    /// The physical address of the table with `signature` (4 ASCII bytes, little-endian), found
    /// through the XSDT (ACPI 2.0 and later) or the RSDT, or nil.
    static func findTable(_ signature: UInt32, rsdp: UInt64) -> UInt64? {
        guard let r = bytes(rsdp, 36) else { return nil }
        let revision = r.load(fromByteOffset: 15, as: UInt8.self)
        let xsdt = revision >= 2 && checksumOK(r, 36) ? r.loadUnaligned(fromByteOffset: 24, as: UInt64.self) : 0
        let root = xsdt != 0 ? xsdt : UInt64(r.loadUnaligned(fromByteOffset: 16, as: UInt32.self))
        let entrySize: UInt64 = xsdt != 0 ? 8 : 4
        guard let header = table(root, signature: xsdt != 0 ? 0x5444_5358 : 0x5444_5352) else { return nil }  // "XSDT" / "RSDT"
        let entries = min((UInt64(header.length) &- 36) / entrySize, 256)
        for i in 0 ..< entries {
            let offset = Int(36 &+ i &* entrySize)
            let phys = entrySize == 8 ? header.base.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
                                      : UInt64(header.base.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
            if table(phys, signature: signature) != nil { return phys }
        }
        return nil
    }

    /// The table at `phys` when its signature matches, its length is at least a header and at
    /// most 1 MiB, and its checksum is right.
    static func table(_ phys: UInt64, signature: UInt32) -> (base: UnsafeRawPointer, length: UInt32)? {
        guard let h = bytes(phys, 36), h.loadUnaligned(as: UInt32.self) == signature else { return nil }
        let length = h.loadUnaligned(fromByteOffset: 4, as: UInt32.self)
        guard length >= 36 && length <= 1 << 20, let t = bytes(phys, UInt64(length)), checksumOK(t, Int(length)) else { return nil }
        return (t, length)
    }

    static let madtSignature: UInt32 = 0x4349_5041  // "APIC"

    /// The local APIC IDs of the enabled processors in the MADT at `madt` (type 0 entries with
    /// the Enabled flag, in table order), stored into `ids` as far as it has room. Returns how
    /// many the table lists (which may be more than were stored), or nil when the table is bad.
    /// x2APIC entries (type 9, for IDs the xAPIC cannot address) are not counted.
    static func processors(madt: UInt64, into ids: UnsafeMutableBufferPointer<UInt32>) -> Int? {
        guard let t = table(madt, signature: madtSignature) else { return nil }
        var offset = 44
        var found = 0
        var entries = 0
        while offset &+ 2 <= Int(t.length) && entries < 4096 {
            let type = t.base.load(fromByteOffset: offset, as: UInt8.self)
            let length = Int(t.base.load(fromByteOffset: offset &+ 1, as: UInt8.self))
            guard length >= 2 && offset &+ length <= Int(t.length) else { break }
            if type == 0 && length >= 8 {
                let apic = UInt32(t.base.load(fromByteOffset: offset &+ 3, as: UInt8.self))
                let flags = t.base.loadUnaligned(fromByteOffset: offset &+ 4, as: UInt32.self)
                if flags & 1 != 0 {
                    if found < ids.count { ids[found] = apic }
                    found &+= 1
                }
            }
            offset &+= length
            entries &+= 1
        }
        return found
    }
}
