/// An enumeration type: its size, the type of its raw values and its cases.
///
/// Swift's DWARF (6.3) gives every enumerator `DW_AT_const_value 0` and no raw values; what it
/// does give is the raw-value type (`DW_AT_type` of the `DW_TAG_enumeration_type`) and the cases
/// in declaration order, and a payload-free Swift enum stores the case index, so that is what
/// `storedValue` holds. C enumerators carry their real values.
public struct EnumLayout: Hashable, Sendable, Codable {
    public let name: String
    public let qualifiedName: String
    public let linkageName: String?
    public let language: SourceLanguage
    public let size: UInt64
    /// The raw-value type of a Swift enum (`UInt8` for `enum E: UInt8`), or a C enum's
    /// underlying type, when DWARF names it.
    public let rawTypeName: String?
    public let cases: [EnumCase]
    /// True when the stored values are Swift case indexes rather than values read from DWARF.
    public let storedValuesAreCaseIndexes: Bool

    /// The case whose stored value is `value`, for decoding memory.
    public func caseName(forStoredValue value: Int64) -> String? {
        cases.first { $0.storedValue == value }?.name
    }
}
