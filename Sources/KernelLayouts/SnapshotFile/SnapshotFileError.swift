import Glibc

/// Why a snapshot file cannot be used, or a read it cannot answer. Each description is one
/// line that names the file and says what to do.
public enum SnapshotFileError: Error, Equatable, CustomStringConvertible {
    /// The file cannot be opened or mapped (`errno`).
    case cannotOpen(path: String, errno: Int32)
    /// The file does not start with `KMEMSNAP`.
    case notASnapshot(path: String)
    /// Written by a newer kmemscope in a format this one does not read.
    case newerFormat(path: String, version: UInt32)
    /// The file is truncated or damaged: `reason` says where.
    case damaged(path: String, reason: String)
    /// The snapshot does not hold these bytes (it keeps what views and verify read).
    case notHeld(path: String, space: AddressSpace, address: UInt64, count: Int)
    /// The file cannot be written.
    case cannotWrite(path: String, reason: String)

    public var description: String {
        switch self {
        case let .cannotOpen(path, e): return "cannot open the snapshot \(path): \(String(cString: strerror(e)))"
        case let .notASnapshot(path): return "\(path) is not a kmemscope snapshot (no KMEMSNAP magic): give a file `kmemscope snapshot -o` wrote"
        case let .newerFormat(path, v):
            return "\(path) is snapshot format \(v), written by a newer kmemscope; this one reads format \(SnapshotFormat.version): update kmemscope"
        case let .damaged(path, reason): return "the snapshot \(path) is damaged: \(reason); take it again"
        case let .notHeld(path, space, address, count):
            return "the snapshot \(path) does not hold \(space) 0x\(String(address, radix: 16)) (\(count) bytes): "
                + "a snapshot keeps what the views and verify read; read this from the live guest"
        case let .cannotWrite(path, reason): return "cannot write the snapshot \(path): \(reason)"
        }
    }
}
