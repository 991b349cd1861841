/// A source that holds guest RAM in one host mapping (``MemoryFileSource``) and can lend a
/// range of it in place: the FrameMeta array is then decoded and checked with no copy at all.
/// What it lends changes when the guest runs: use it only while the guest stays stopped.
public protocol BorrowingGuestMemory: GuestMemory {
    /// The `count` bytes at `address` in `space` as they lie in the mapping (faulted in
    /// ahead), or nil when the range is not one contiguous piece of it (the caller then reads
    /// a copy). Valid while the loan's `owner` lives.
    func borrow(_ space: AddressSpace, at address: UInt64, count: Int) throws -> GuestMemoryLoan?
}

/// Bytes of guest RAM lent in place, and the object that keeps their mapping alive.
public struct GuestMemoryLoan {
    public let bytes: UnsafeRawBufferPointer
    public let owner: AnyObject

    public init(bytes: UnsafeRawBufferPointer, owner: AnyObject) {
        self.bytes = bytes
        self.owner = owner
    }
}
