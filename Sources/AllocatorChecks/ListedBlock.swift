/// One free block as a list holds it: its head PFN, the list's order and migratetype slot.
public struct ListedBlock: Sendable, Hashable {
    public var pfn: UInt64
    public var order: Int
    public var migratetype: Int

    public init(pfn: UInt64, order: Int, migratetype: Int) {
        self.pfn = pfn
        self.order = order
        self.migratetype = migratetype
    }
}
