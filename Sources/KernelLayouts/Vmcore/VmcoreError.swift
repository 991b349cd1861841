/// Why a vmcore could not be opened or read. Every value in a dump is untrusted: each message
/// names the file and what was wrong with it, in one line.
public enum VmcoreError: Error, Equatable, CustomStringConvertible {
    /// The file could not be opened or read.
    case cannotOpen(path: String, reason: String)
    /// The file is not a dump kmemscope reads (another kind of file, or another machine's core).
    case wrongKind(path: String, reason: String)
    /// The file ends before what its own headers describe.
    case truncated(path: String, what: String, needed: UInt64, size: UInt64)
    /// A header or note holds a value no dump can have.
    case corrupt(path: String, reason: String)
    /// libkdumpfile refused the file or a read.
    case library(path: String, reason: String)

    public var description: String {
        switch self {
        case let .cannotOpen(path, reason):
            return "cannot read the vmcore \(path): \(reason)"
        case let .wrongKind(path, reason):
            return "\(path) is not a vmcore kmemscope reads: \(reason)"
        case let .truncated(path, what, needed, size):
            return "the vmcore \(path) is truncated: \(what) needs \(needed) bytes, the file has \(size) (was the dump cut short or is the copy incomplete?)"
        case let .corrupt(path, reason):
            return "the vmcore \(path) is corrupt: \(reason)"
        case let .library(path, reason):
            return "libkdumpfile cannot read \(path): \(reason)"
        }
    }
}
