import Foundation
import KernelLayouts
import Testing

/// Inputs found by scripts/fuzz.sh (the `elf` target) that trapped before they were fixed.
@Suite("ELF fuzz regressions")
struct ElfFuzzRegressionTests {
    /// A section header whose offset + size wraps past 2^64 trapped in the truncation check
    /// (fuzz-elf, 2026-11-30); it is a truncated file, said so.
    @Test func aSectionSizeThatWrapsIsATruncatedFile() throws {
        let f = try Fixtures.get()
        var bytes = [UInt8](try #require(FileManager.default.contents(atPath: f.image)))
        func u64(_ o: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(bytes[o + $1]) << (8 * UInt64($1)) } }
        func u16(_ o: Int) -> Int { Int(bytes[o]) | Int(bytes[o + 1]) << 8 }
        let shoff = Int(u64(0x28)), shentsize = u16(0x3A), shnum = u16(0x3C)
        try #require(shnum > 2 && shentsize == 64)
        // Section 1 (not NOBITS in the fixture): sh_size (offset 32 in the header) = 2^64 - 1.
        let size = shoff + shentsize + 32
        for i in 0..<8 { bytes[size + i] = 0xFF }
        let path = f.directory + "/wrapping-section.elf"
        #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        #expect {
            _ = try ElfFile(path: path)
        } throws: { error in
            guard case KernelImageError.truncated(_, let detail) = error else { return false }
            return detail.contains("past 2^64")
        }
    }
}
