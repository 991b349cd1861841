/// A guest RAM size as QEMU's `-m` takes it: a number with an optional `K`, `M`, `G` or `T`
/// suffix (`M` when there is none), at least 2 MiB.
public struct MemorySize: Sendable, Equatable, CustomStringConvertible {
    /// The size in bytes.
    public let bytes: UInt64

    public init(bytes: UInt64) { self.bytes = bytes }

    /// Parses `128M`, `1G`, `6g`, `512` (MiB), `1048576K`.
    ///
    /// - Throws: ``QEMULaunchError/badMemorySize(_:)`` when it is not such a size.
    public init(parsing text: String) throws(QEMULaunchError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let last = trimmed.last else { throw .badMemorySize(text) }
        let shifts: [Character: UInt64] = ["K": 10, "M": 20, "G": 30, "T": 40]
        let shift = shifts[Character(last.uppercased())]
        let digits = shift == nil ? Substring(trimmed) : trimmed.dropLast()
        guard let value = UInt64(digits), value > 0 else { throw .badMemorySize(text) }
        let s = shift ?? 20
        guard value <= (UInt64.max >> s) else { throw .badMemorySize(text) }
        let bytes = value << s
        guard bytes >= 2 << 20, bytes <= 1 << 40 else { throw .badMemorySize(text) }
        self.bytes = bytes
    }

    /// The shortest exact form QEMU accepts: `128M`, `1G`, `1536M`.
    public var description: String {
        for (suffix, shift) in [("T", UInt64(40)), ("G", 30), ("M", 20), ("K", 10)] where bytes % (1 << shift) == 0 {
            return "\(bytes >> shift)\(suffix)"
        }
        return "\(bytes)"
    }
}

import Foundation
