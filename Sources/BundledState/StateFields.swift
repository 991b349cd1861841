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
    /// Each zone's lock words (`Zone.lock`: `TicketLockWord.next`, `.owner`), by zone index;
    /// empty when the kernel does not publish them (kernel/README.md, "Zone locks"). A lock is
    /// held when the two differ: never between operations.
    public var zoneLocks: [ZoneLockWords] = []
    /// Each CPU's in-operation row (`CPUOperation.busy`, `.parentSequence`), by CPU; empty when
    /// the kernel does not publish them (kernel/README.md "Operations in progress"). Both 0 on
    /// every CPU between operations.
    public var cpuOperations: [CPUOperationWords] = []
    /// The heap lock's words (`HeapState.lock`), nil when not published: free between operations.
    public var heapLock: ZoneLockWords?
    /// Every per-CPU cache's lock (`PerCPUPages.lock`), by CPU then zone; empty when not
    /// published (kernel/README.md "Per-CPU cache locks"). Free between operations.
    public var perCPULocks: [PerCPULockWords] = []

    /// One per-CPU cache's lock words.
    public struct PerCPULockWords: Sendable, Equatable {
        public var cpu: Int
        public var zone: Int
        public var words: ZoneLockWords
        public init(cpu: Int, zone: Int, words: ZoneLockWords) {
            self.cpu = cpu
            self.zone = zone
            self.words = words
        }
    }

    /// One CPU's in-operation row as read from the guest.
    public struct CPUOperationWords: Sendable, Equatable {
        public var busy: UInt64
        public var parentSequence: UInt64
        public init(busy: UInt64, parentSequence: UInt64) {
            self.busy = busy
            self.parentSequence = parentSequence
        }
    }

    /// One ticket lock's two words as read from the guest.
    public struct ZoneLockWords: Sendable, Equatable {
        /// The next ticket to hand out.
        public var next: UInt32
        /// The ticket now served.
        public var owner: UInt32
        public init(next: UInt32, owner: UInt32) {
            self.next = next
            self.owner = owner
        }
        /// Whether some CPU holds the lock (or waits for it).
        public var isHeld: Bool { next != owner }
    }

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
