/// What stops a snapshot from being decoded.
public enum SnapshotError: Error, CustomStringConvertible, Equatable {
    /// A count or size in guest memory is beyond what the kernel can have: memory is
    /// corrupted, or the descriptor does not belong to this state.
    case implausible(what: String, value: UInt64, limit: UInt64)

    public var description: String {
        switch self {
        case .implausible(let what, let value, let limit):
            return "guest memory looks corrupted: \(what) is \(value), at most \(limit) is possible"
        }
    }
}
