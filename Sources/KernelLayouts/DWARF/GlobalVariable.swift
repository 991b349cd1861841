/// A global variable as DWARF describes it (`DW_TAG_variable` with a `DW_OP_addr` location):
/// where it lives even when the symbol table does not say.
public struct GlobalVariable: Hashable, Sendable, Codable {
    public let name: String
    /// `Module.name` for Swift globals.
    public let qualifiedName: String
    public let linkageName: String?
    public let address: VirtualAddress
    public let typeName: String
    public let size: UInt64?
}
