import KernelLayouts

/// A progress-reporting source lends what its base lends (the memory file's mapping), counting
/// the bytes lent as read: on a terminal, `verify` still checks the FrameMeta array in place.
extension ProgressMemory: BorrowingGuestMemory {
    public func borrow(_ space: AddressSpace, at address: UInt64, count: Int) throws -> GuestMemoryLoan? {
        guard let lender = base as? any BorrowingGuestMemory, let loan = try lender.borrow(space, at: address, count: count) else {
            return nil
        }
        progress.add(count)
        return loan
    }
}
