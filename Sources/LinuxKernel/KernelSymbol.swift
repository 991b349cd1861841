/// One line of a System.map or of `/proc/kallsyms`: `ADDRESS TYPE NAME [module]`.
public struct KernelSymbol: Sendable, Hashable {
    /// The symbol's virtual address (as printed; under KASLR this is the runtime address only
    /// for `/proc/kallsyms`).
    public var address: UInt64
    /// nm's type letter: `T`/`t` text, `D`/`d` data, `B`/`b` bss, `R`/`r` read-only, …
    public var type: Character
    public var name: String
    /// The module that holds it (`[ext4]` in `/proc/kallsyms`), nil for the kernel image.
    public var module: String?

    public init(address: UInt64, type: Character, name: String, module: String? = nil) {
        self.address = address
        self.type = type
        self.name = name
        self.module = module
    }
}
