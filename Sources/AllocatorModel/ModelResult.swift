/// What an operation of the model returns, in the operation log's terms ("Operation log":
/// status 0 ok, 1 failed, 2 misuse: nothing changed, 3 corrupt: the kernel halts).
public enum ModelStatus: UInt8, Sendable, Equatable, CustomStringConvertible {
    case ok = 0, failed = 1, misuse = 2, corrupt = 3

    public var description: String {
        switch self {
        case .ok: return "ok"
        case .failed: return "failed"
        case .misuse: return "misuse"
        case .corrupt: return "corrupt"
        }
    }
}

/// An operation's outcome: its status and the `result` word the log records (a PFN, an
/// address, 1 for done, 0 for a busy claim, `none` when nothing was given).
public struct ModelResult: Sendable, Equatable, CustomStringConvertible {
    public var status: ModelStatus
    public var value: UInt64

    public static func ok(_ v: UInt64) -> ModelResult { ModelResult(status: .ok, value: v) }
    public static func failed(_ v: UInt64) -> ModelResult { ModelResult(status: .failed, value: v) }
    public static let misuse = ModelResult(status: .misuse, value: .max)

    public var description: String {
        "\(status) " + (value == .max ? "none" : "0x" + String(value, radix: 16))
    }
}

/// A misuse found before anything changed ("Errors change nothing"): what and where.
public struct ModelMisuse: Error, Sendable, Equatable {
    public var what: String
    public var at: UInt64
}
