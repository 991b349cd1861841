/// What an allocation asks for.
public struct AllocationRequest: Sendable {
    /// Block order, `0...Kmem.maxOrder`.
    public var order: Int
    /// Mobility class: selects free lists and pageblocks.
    public var migratetype: Migratetype
    /// Highest zone the block may come from.
    public var zone: ZoneConstraint
    /// Required alignment of the first frame, in pages (a power of two; 1 = natural).
    /// Blocks are always aligned to their own size; larger alignments search the lists.
    public var alignment: UInt64
    /// Tag stored in every frame's `owner` (a page_owner in miniature).
    public var owner: UInt64
    /// Ignore the zone watermarks (boot and emergency allocations).
    public var ignoreWatermarks: Bool

    public init(order: Int, migratetype: Migratetype = .unmovable, zone: ZoneConstraint = .any,
                alignment: UInt64 = 1, owner: UInt64 = 0, ignoreWatermarks: Bool = false) {
        self.order = order
        self.migratetype = migratetype
        self.zone = zone
        self.alignment = alignment
        self.owner = owner
        self.ignoreWatermarks = ignoreWatermarks
    }
}
