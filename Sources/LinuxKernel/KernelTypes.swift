/// Where the Linux profile learns struct sizes, member offsets and enumerators: the BTF in
/// guest memory (``BTFTypes``) or the DWARF of a `vmlinux` (``DwarfKernelTypes``). Members are
/// found through anonymous structs and unions, as C does.
public protocol KernelTypes: AnyObject {
    /// Where the types came from, for messages (`BTF in guest memory`, `DWARF of vmlinux`).
    var origin: String { get }
    /// How many types there are.
    var typeCount: Int { get }
    /// `sizeof(struct NAME)`.
    func size(ofStruct name: String) throws(BTFError) -> Int
    /// Member `path` (dotted into named members) of `struct TYPE`.
    func member(_ path: String, of type: String) throws(BTFError) -> BTFMember
    /// The value of enumerator `name` of `enum ENUMNAME`.
    func enumValue(_ name: String, in enumName: String) throws(BTFError) -> Int64
    /// Every enumerator of `enum ENUMNAME`, in declaration order.
    func enumCases(of enumName: String) throws(BTFError) -> [(name: String, value: Int64)]
}

extension KernelTypes {
    /// Member `path` of `struct TYPE`, which must be a non-empty array: offset, count, element size.
    public func arrayMember(_ path: String, of type: String) throws(BTFError) -> (offset: Int, count: Int, elementSize: Int) {
        let m = try member(path, of: type)
        guard let array = m.array, array.count > 0, array.elementSize > 0 else {
            throw .unexpectedShape(type: type, member: path, expected: "a non-empty array")
        }
        return (m.offset, array.count, array.elementSize)
    }
}

extension BTFTypes: KernelTypes {
    public var origin: String { "BTF in guest memory" }
}
