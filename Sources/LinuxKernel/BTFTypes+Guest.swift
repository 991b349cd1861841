import KernelLayouts

extension BTFTypes {
    /// The largest blob accepted between `__start_BTF` and `__stop_BTF` (6.1's is ~4.3 MB).
    public static let guestBlobLimit: UInt64 = 64 << 20

    /// Reads vmlinux's BTF from guest memory, between the symbols `__start_BTF` and
    /// `__stop_BTF` (the .BTF section stays mapped in the running kernel), and parses it.
    public static func load(from memory: GuestMemory, symbols: SymbolMap) throws -> BTFTypes {
        let start = try symbols.address(of: "__start_BTF")
        let stop = try symbols.address(of: "__stop_BTF")
        guard stop > start, stop - start <= guestBlobLimit else { throw BTFError.badRange(start: start, stop: stop) }
        let bytes = try memory.read(at: start, count: Int(stop - start))
        return try BTFTypes(bytes: bytes)
    }
}
