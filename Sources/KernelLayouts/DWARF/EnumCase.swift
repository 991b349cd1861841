/// One case of an enumeration as DWARF lists it (`DW_TAG_enumerator`).
public struct EnumCase: Hashable, Sendable, Codable {
    public let name: String
    /// The value stored in memory for this case: the `DW_AT_const_value` of a C enumerator,
    /// the case's declaration index for a Swift enum without payloads (Swift stores the
    /// case's tag, not its raw value).
    public let storedValue: Int64
}
