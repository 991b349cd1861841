/// One CPU's state as QEMU writes it into a dump (`QEMU` note, type 0, `QEMUCPUState` of
/// target/i386/arch_dump.c, version 1): the general registers, RIP and RFLAGS, ten segment
/// descriptors, then CR0…CR4. The CR3 it holds is what kmemscope's `vtop` and `kmem` walk, as
/// they walk the stub's `cr3` live.
public struct QEMUCPUState: Sendable, Equatable {
    /// The registers by the names the stub gives them (`rax`…`r15`, `rip`, `eflags`, `cr0`…`cr4`).
    public var registers: [String: UInt64]

    /// Where CR0 starts: 8 bytes of version and size, 18 registers, 10 segments of 24 bytes.
    static let crOffset = 8 + 18 * 8 + 10 * 24
    static let names = ["rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rsp", "rbp",
                        "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip", "eflags"]

    /// Decodes a `QEMU` note's descriptor; nil when its version is not 1 or it is too short
    /// for the control registers (its own `size` field and the note's length are both checked).
    public init?(descriptor d: [UInt8]) {
        func u64(_ i: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(d[i + $1]) << (8 * UInt64($1)) } }
        guard d.count >= Self.crOffset + 40 else { return nil }
        let version = UInt32(truncatingIfNeeded: u64(0)), size = UInt32(truncatingIfNeeded: u64(0) >> 32)
        guard version == 1, Int(size) >= Self.crOffset + 40, Int(size) <= d.count else { return nil }
        var registers: [String: UInt64] = [:]
        for (i, name) in Self.names.enumerated() { registers[name] = u64(8 + 8 * i) }
        for i in 0..<5 { registers["cr\(i)"] = u64(Self.crOffset + 8 * i) }
        self.registers = registers
    }
}
