import CLibBPF

/// A kernel's BTF (its compact type information), parsed by libbpf, asked by name.
///
/// ```swift
/// let btf = try BTFTypes(bytes: blob)              // the bytes between __start_BTF and __stop_BTF
/// let size = try btf.size(ofStruct: "page")        // 64
/// let list = try btf.member("buddy_list", of: "page").offset
/// ```
public final class BTFTypes: @unchecked Sendable {
    private let handle: OpaquePointer
    /// Bounds every walk through nested anonymous members and type chains.
    private static let depthLimit = 16

    /// Parses a raw BTF blob (`/sys/kernel/btf/vmlinux`, or vmlinux's .BTF section from guest memory).
    /// - Throws: ``BTFError/badMagic(found:)``, ``BTFError/parseFailed(errno:)``.
    public init(bytes: [UInt8]) throws(BTFError) {
        guard bytes.count >= 24 else { throw .badMagic(found: 0) }
        let magic = UInt16(bytes[0]) | UInt16(bytes[1]) << 8
        guard magic == 0xeb9f else { throw .badMagic(found: magic) }
        guard let count = UInt32(exactly: bytes.count) else { throw .parseFailed(errno: 27) }
        let parsed: OpaquePointer? = bytes.withUnsafeBytes { btf__new($0.baseAddress, count) }
        guard let parsed, libbpf_get_error(UnsafeRawPointer(parsed)) == 0 else {
            throw .parseFailed(errno: parsed.map { Int32(truncatingIfNeeded: -libbpf_get_error(UnsafeRawPointer($0))) } ?? 0)
        }
        handle = parsed
    }

    deinit { btf__free(handle) }

    /// How many types the blob holds.
    public var typeCount: Int { Int(btf__type_cnt(handle)) }

    /// The id of `struct NAME`.
    public func structID(_ name: String) throws(BTFError) -> UInt32 {
        let id = btf__find_by_name_kind(handle, name, UInt32(BTF_KIND_STRUCT))
        guard id > 0 else { throw .missingType(name) }
        return UInt32(id)
    }

    /// `sizeof(struct NAME)`.
    public func size(ofStruct name: String) throws(BTFError) -> Int {
        let id = try structID(name)
        return Int(btf__resolve_size(handle, id))
    }

    /// Member `name` of `struct TYPE`, searched through anonymous structs and unions (as C
    /// does); a dotted path (`"free_area.nr_free"`) descends into named members, and the
    /// offsets add up.
    public func member(_ path: String, of type: String) throws(BTFError) -> BTFMember {
        var id = try structID(type)
        var offset = 0
        var result: BTFMember?
        for part in path.split(separator: ".") {
            guard let (found, foundOffset) = find(String(part), in: id, depth: 0) else {
                throw .missingMember(type: type, member: path)
            }
            offset += foundOffset
            let resolved = resolve(found)
            result = describe(resolved, offset: offset)
            id = resolved
        }
        guard let result else { throw .missingMember(type: type, member: path) }
        return result
    }

    // MARK: - libbpf walks

    func findEnum(_ name: String) -> Int32 { btf__find_by_name_kind(handle, name, UInt32(BTF_KIND_ENUM)) }
    func typeByID(_ id: UInt32) -> UnsafePointer<btf_type>? { btf__type_by_id(handle, id) }
    func nameByOffset(_ offset: UInt32) -> UnsafePointer<CChar>? { btf__name_by_offset(handle, offset) }

    private func type(_ id: UInt32) -> UnsafePointer<btf_type>? { btf__type_by_id(handle, id) }

    /// Follows typedefs and qualifiers (bounded).
    private func resolve(_ id: UInt32) -> UInt32 {
        var id = id
        for _ in 0..<Self.depthLimit {
            guard let t = type(id) else { return id }
            switch Int(kmem_btf_kind(t)) {
            case BTF_KIND_TYPEDEF, BTF_KIND_CONST, BTF_KIND_VOLATILE, BTF_KIND_RESTRICT, BTF_KIND_TYPE_TAG:
                id = kmem_btf_type(t)
            default:
                return id
            }
        }
        return id
    }

    private func isComposite(_ t: UnsafePointer<btf_type>) -> Bool {
        let kind = kmem_btf_kind(t)
        return kind == UInt32(BTF_KIND_STRUCT) || kind == UInt32(BTF_KIND_UNION)
    }

    /// Finds member `name` in composite `id` (recursing into anonymous members); its raw type
    /// id and byte offset. Bitfield members are skipped: nothing here needs one.
    private func find(_ name: String, in id: UInt32, depth: Int) -> (UInt32, Int)? {
        guard depth < Self.depthLimit, let t = type(resolve(id)), isComposite(t) else { return nil }
        let count = kmem_btf_vlen(t)
        for i in 0..<count {
            guard let m = kmem_btf_member(t, i) else { continue }
            let bitOffset = Int(kmem_btf_member_bit_offset(t, i))
            let memberName = btf__name_by_offset(handle, m.pointee.name_off).map { String(cString: $0) } ?? ""
            if memberName == name, bitOffset % 8 == 0 { return (m.pointee.type, bitOffset / 8) }
            if memberName.isEmpty, let (inner, innerOffset) = find(name, in: m.pointee.type, depth: depth + 1) {
                return (inner, bitOffset / 8 + innerOffset)
            }
        }
        return nil
    }

    private func describe(_ id: UInt32, offset: Int) -> BTFMember {
        let size = max(0, Int(btf__resolve_size(handle, id)))
        var array: (Int, Int, UInt32)?
        if let t = type(id), kmem_btf_kind(t) == UInt32(BTF_KIND_ARRAY), let a = kmem_btf_array(t) {
            let element = resolve(a.pointee.type)
            array = (Int(a.pointee.nelems), max(0, Int(btf__resolve_size(handle, element))), element)
        }
        return BTFMember(offset: offset, typeID: id, size: size, array: array)
    }
}
