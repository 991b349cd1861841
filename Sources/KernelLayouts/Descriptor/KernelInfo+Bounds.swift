/// Descriptor values that size reads or index records, refused with `SnapshotError` when they
/// are beyond what the kernel can have (a corrupted or foreign `kmem_info`), so that no
/// conversion or sum on them can trap.
extension KernelInfo {
    /// The largest structure the decoders accept (`SIZE(Type)`).
    public static let maximumStructureSize: UInt64 = 1 << 16

    /// `SIZE(type)` as an `Int`, in `1...maximumStructureSize`.
    public func boundedSize(of type: String) throws -> Int {
        let v = try size(of: type)
        guard v >= 1, v <= Self.maximumStructureSize else {
            throw SnapshotError.implausible(what: "SIZE(\(type))", value: v, limit: Self.maximumStructureSize)
        }
        return Int(v)
    }

    /// `OFFSET(type.field)` as an `Int`, with room for `width` bytes inside `SIZE(type)`.
    public func boundedOffset(of type: String, _ field: String, width: Int = 1) throws -> Int {
        let v = try offset(of: type, field)
        let size = UInt64(try boundedSize(of: type))
        guard v < size, size - v >= UInt64(width) else {
            throw SnapshotError.implausible(what: "OFFSET(\(type).\(field))", value: v, limit: size &- UInt64(width))
        }
        return Int(v)
    }

    /// `key` as a number no larger than `limit`.
    public func number(_ key: String, atMost limit: UInt64) throws -> UInt64 {
        let v = try number(key)
        guard v <= limit else { throw SnapshotError.implausible(what: key, value: v, limit: limit) }
        return v
    }
}
