/// Mobility class of a free block or pageblock, as Linux's migratetypes.
public enum Migratetype: UInt8, Sendable {
    /// Kernel data and page tables: never moves.
    case unmovable = 0
    /// User and cache data: could be migrated.
    case movable = 1

    /// Migratetypes in use (free-list slots beyond this must stay empty).
    public static let count = 2

    /// The migratetype an allocation falls back to when its own lists are empty.
    public var fallback: Migratetype { self == .unmovable ? .movable : .unmovable }

    /// Short name as /proc/pagetypeinfo prints it.
    public var name: StaticString { self == .unmovable ? "Unmovable" : "Movable" }
}
