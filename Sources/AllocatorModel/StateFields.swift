/// Fields of `KmemState`, `HeapState`, `Zone` and `Segment` that no list, bitmap or counter
/// walk reads, as the decoder found them: the state's copies of what the descriptor
/// publishes, the parent-operation word, each record's own index, and the heap's totals.
public struct StateFields: Sendable, Equatable {
    /// `KmemState` fields that must equal a descriptor value: (field, found, descriptor's).
    public var copies: [Copy] = []
    /// `KmemState.parentSequence` (0 between operations).
    public var parentSequence: UInt64?
    /// `Zone.kind`, by zone index (must equal the index).
    public var zoneKinds: [UInt64] = []
    /// `Segment.index`, by segment position (must equal the position).
    public var segmentIndices: [UInt64] = []
    /// `HeapState.largeAllocations` and `largePages`, and the owner tag of large heap blocks.
    public var largeAllocations: UInt64?
    public var largePages: UInt64?
    public var largeOwner: UInt64?

    public struct Copy: Sendable, Equatable {
        public var field: String
        public var found: UInt64
        public var expected: UInt64
        public init(field: String, found: UInt64, expected: UInt64) {
            self.field = field
            self.found = found
            self.expected = expected
        }
    }

    public init() {}
}
