/// One free block on a zone's buddy free list: its head page.
public struct LinuxFreeBlock: Sendable, Hashable {
    public var pfn: UInt64
    public var order: Int
    public var migratetype: Int
}

/// A free list that did not walk cleanly, or a node that is no page of the vmemmap.
public struct LinuxFreeListIssue: Sendable, Equatable, CustomStringConvertible {
    public var zone: String
    public var order: Int
    public var migratetype: Int
    public var problem: String

    public var description: String { "zone \(zone) order \(order) migratetype \(migratetype): \(problem)" }
}
