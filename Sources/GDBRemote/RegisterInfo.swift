/// One register as the target description (`target.xml`) lists it.
public struct RegisterInfo: Sendable, Equatable {
    /// The register's name, e.g. `rip`, `eflags`, `cr3`.
    public let name: String
    /// Its number in `p`/`P` packets.
    public let number: Int
    /// Its size in bits.
    public let bitSize: Int
    /// Its type as the description says (`int64`, `code_ptr`, `x64_cr3`…).
    public let type: String
    /// The `<feature name=…>` it belongs to (e.g. `org.gnu.gdb.i386.core`).
    public let feature: String

    /// Its size in bytes.
    public var byteSize: Int { (bitSize + 7) / 8 }

    /// Makes a register description.
    public init(name: String, number: Int, bitSize: Int, type: String, feature: String) {
        self.name = name
        self.number = number
        self.bitSize = bitSize
        self.type = type
        self.feature = feature
    }
}
