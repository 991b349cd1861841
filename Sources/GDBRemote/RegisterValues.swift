/// A snapshot of the target's registers, read with `g` (and `p` for any the `g` reply
/// leaves out), looked up by name.
///
/// ```swift
/// let regs = try target.registers()
/// let cr3 = regs["cr3"]          // UInt64?
/// let xmm0 = regs.bytes("xmm0")  // [UInt8]? (16 bytes, target byte order)
/// ```
public struct RegisterValues: Sendable, Equatable {
    /// The register set these values belong to.
    public let description: TargetDescription
    /// Raw value of each register by number, in the target's byte order (little-endian on x86).
    public let raw: [Int: [UInt8]]

    /// Makes a snapshot from raw per-register bytes.
    public init(description: TargetDescription, raw: [Int: [UInt8]]) {
        self.description = description
        self.raw = raw
    }

    /// The raw bytes of `name`, or `nil` if there is no such register or it was unavailable.
    public func bytes(_ name: String) -> [UInt8]? {
        description.register(named: name).flatMap { raw[$0.number] }
    }

    /// The value of `name` as an integer (little-endian, first 8 bytes for wider registers).
    public subscript(_ name: String) -> UInt64? {
        bytes(name).map { RegisterValues.littleEndian($0) }
    }

    /// Every register with a value, in number order.
    public var names: [String] {
        description.registers.filter { raw[$0.number] != nil }.map(\.name)
    }

    static func littleEndian(_ bytes: [UInt8]) -> UInt64 {
        var v: UInt64 = 0
        for (i, b) in bytes.prefix(8).enumerated() { v |= UInt64(b) << (8 * UInt64(i)) }
        return v
    }
}
