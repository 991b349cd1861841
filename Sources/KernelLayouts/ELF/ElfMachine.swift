/// Names of ELF `e_machine` values, for error messages.
enum ElfMachine {
    static func name(_ machine: UInt16) -> String {
        switch machine {
        case 3: return "i386"
        case 8: return "MIPS"
        case 20: return "PowerPC"
        case 21: return "PowerPC64"
        case 40: return "ARM"
        case 62: return "x86_64"
        case 183: return "AArch64"
        case 243: return "RISC-V"
        case 247: return "BPF"
        default: return "machine \(machine)"
        }
    }
}
