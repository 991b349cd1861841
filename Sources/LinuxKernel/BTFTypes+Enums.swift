import CLibBPF

extension BTFTypes {
    /// The value of enumerator `name` of `enum ENUMNAME` (e.g. `NR_FREE_PAGES` of
    /// `zone_stat_item`): indexes into the kernel's counter arrays are learned, not assumed.
    public func enumValue(_ name: String, in enumName: String) throws(BTFError) -> Int64 {
        let id = findEnum(enumName)
        guard id > 0, let t = typeByID(UInt32(id)) else { throw .missingType("enum " + enumName) }
        for i in 0..<kmem_btf_vlen(t) {
            guard let e = kmem_btf_enumerator(t, i) else { continue }
            if let cName = nameByOffset(e.pointee.name_off), String(cString: cName) == name {
                return Int64(e.pointee.val)
            }
        }
        throw .missingMember(type: "enum " + enumName, member: name)
    }
}

extension BTFTypes {
    /// Every enumerator of `enum ENUMNAME`, in declaration order (aliases included: 6.1's
    /// `pageflags` gives `PG_checked` the value of `PG_owner_priv_1`). Bounded by BTF's vlen.
    public func enumCases(of enumName: String) throws(BTFError) -> [(name: String, value: Int64)] {
        let id = findEnum(enumName)
        guard id > 0, let t = typeByID(UInt32(id)) else { throw .missingType("enum " + enumName) }
        var cases: [(name: String, value: Int64)] = []
        for i in 0..<kmem_btf_vlen(t) {
            guard let e = kmem_btf_enumerator(t, i), let cName = nameByOffset(e.pointee.name_off) else { continue }
            cases.append((String(cString: cName), Int64(e.pointee.val)))
        }
        return cases
    }
}
