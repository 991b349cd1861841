/// One ELF note (`Elf64_Nhdr`, then the name and the descriptor, each padded to 4 bytes): a
/// core's per-CPU `CORE`/`NT_PRSTATUS` and `QEMU` notes and its `VMCOREINFO`.
public struct ElfNote: Sendable, Equatable {
    /// The owner name without its terminating NUL (`CORE`, `QEMU`, `VMCOREINFO`).
    public var name: String
    public var type: UInt32
    public var descriptor: [UInt8]

    /// The most notes one dump's note segments may hold (a CPU has two; 64 Ki CPUs is beyond any guest).
    public static let limit = 1 << 17

    /// The notes in `bytes` (a PT_NOTE segment or a kdump header's note area), in order. A note
    /// whose sizes run past the end is an error naming its index; zero padding after the last
    /// note ends the walk.
    public static func parse(_ bytes: [UInt8], path: String) throws(VmcoreError) -> [ElfNote] {
        var notes: [ElfNote] = []
        var at = 0
        func u32(_ i: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(bytes[i + $1]) << (8 * UInt32($1)) } }
        while bytes.count - at >= 12 {
            let nameSize = Int(u32(at)), descriptorSize = Int(u32(at + 4)), type = u32(at + 8)
            if nameSize == 0 && descriptorSize == 0 && type == 0 { break }   // padding
            guard notes.count < limit else { throw .corrupt(path: path, reason: "more than \(limit) ELF notes") }
            // every size is a 32-bit value: padded sums fit an Int on a 64-bit host
            let nameStart = at + 12
            let descriptorStart = nameStart + (nameSize + 3) & ~3
            let next = descriptorStart + (descriptorSize + 3) & ~3
            guard descriptorStart + descriptorSize <= bytes.count, nameStart + nameSize <= bytes.count else {
                throw .corrupt(path: path, reason: "ELF note \(notes.count) (name \(nameSize) bytes, descriptor \(descriptorSize) bytes) runs past its segment's \(bytes.count) bytes")
            }
            var name = Array(bytes[nameStart..<(nameStart + nameSize)])
            while name.last == 0 { name.removeLast() }
            notes.append(ElfNote(name: String(decoding: name, as: UTF8.self), type: type,
                                 descriptor: Array(bytes[descriptorStart..<(descriptorStart + descriptorSize)])))
            at = min(next, bytes.count)
        }
        return notes
    }
}
