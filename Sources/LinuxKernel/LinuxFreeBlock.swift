/// One free block on a zone's buddy free list: its head page.
public struct LinuxFreeBlock: Sendable, Hashable {
    public var pfn: UInt64
    public var order: Int
    public var migratetype: Int
    /// The head page's `private` (the order the kernel recorded), if it was read.
    public var recordedOrder: UInt64?
    /// The head page's `page_type` word (`_mapcount`), if it was read: PageBuddy is in it.
    public var pageType: UInt32?

    public init(pfn: UInt64, order: Int, migratetype: Int, recordedOrder: UInt64? = nil, pageType: UInt32? = nil) {
        self.pfn = pfn
        self.order = order
        self.migratetype = migratetype
        self.recordedOrder = recordedOrder
        self.pageType = pageType
    }

    /// `PageBuddy` by the page-type word under `types` (nil when the word was not read).
    public func isBuddy(_ types: LinuxPageTypes) -> Bool? {
        pageType.map { types.isBuddy($0) }
    }
}

/// A free list that did not walk cleanly, or a node that is no page of the vmemmap.
public struct LinuxFreeListIssue: Sendable, Equatable, CustomStringConvertible {
    public var zone: String
    public var order: Int
    public var migratetype: Int
    public var problem: String

    public var description: String { "zone \(zone) order \(order) migratetype \(migratetype): \(problem)" }
}
