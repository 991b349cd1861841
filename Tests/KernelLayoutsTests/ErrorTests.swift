import Foundation
import KernelLayouts
import Testing

/// Broken and partial inputs: each gives its own error, with a message that says what to do.
@Suite struct ErrorTests {
    @Test func aMissingFile() throws {
        let path = try Fixtures.get().directory + "/no-such-kernel.elf"
        #expect(throws: KernelImageError.fileMissing(path: path)) { _ = try ElfFile(path: path) }
        #expect("\(KernelImageError.fileMissing(path: path))".contains("no such file"))
    }

    @Test func aFileThatIsNotELF() throws {
        let path = try Fixtures.get().notELF
        #expect {
            _ = try KernelImage(path: path)
        } throws: { error in
            guard case KernelImageError.notELF(let p, let found) = error else { return false }
            return p == path && found.hasPrefix("first bytes 6a 75 73 74") && "\(error)".contains("not an ELF file")
        }
    }

    @Test func anELFForAnotherMachine() throws {
        let path = try Fixtures.get().aarch64
        #expect {
            _ = try ElfFile(path: path)
        } throws: { error in
            guard case KernelImageError.notX86_64(_, let found) = error else { return false }
            return found == "ELF64 AArch64" && "\(error)".contains("not ELF64 x86_64")
        }
    }

    @Test func aTruncatedImage() throws {
        let path = try Fixtures.get().truncated
        #expect {
            _ = try KernelImage(path: path)
        } throws: { error in
            guard case KernelImageError.truncated = error else { return false }
            return "\(error)".contains("truncated ELF")
        }
    }

    @Test func anELFHeaderCutShort() throws {
        let f = try Fixtures.get()
        let bytes = try #require(FileManager.default.contents(atPath: f.image))
        let path = f.directory + "/header-only.elf"
        #expect(FileManager.default.createFile(atPath: path, contents: bytes.prefix(40)))
        #expect {
            _ = try ElfFile(path: path)
        } throws: { error in
            guard case KernelImageError.truncated(_, let detail) = error else { return false }
            return detail.contains("40 bytes")
        }
    }

    @Test func strippedOfDebugInfoSymbolsStillWorkLayoutsSaySo() throws {
        let f = try Fixtures.get()
        let image = try KernelImage(path: f.strippedDebug)
        #expect(image.dwarf == nil)
        #expect(image.dwarfError == .noDWARF(path: f.strippedDebug))
        #expect(throws: KernelImageError.noDWARF(path: f.strippedDebug)) {
            _ = try image.structLayout(named: "FixtureFrame")
        }
        #expect(throws: KernelImageError.noDWARF(path: f.strippedDebug)) { _ = try DwarfTypes(path: f.strippedDebug) }
        let message = "\(KernelImageError.noDWARF(path: f.strippedDebug))"
        #expect(message.contains("layouts are unavailable") || message.contains("Struct layouts are unavailable"))
        #expect(message.contains("symbols") && message.contains("build-id") && message.contains("still work"))
        // What still works: symbols, addresses and the build-id.
        let full = try KernelImage(path: f.image)
        #expect(try image.symbol("Fix.fixtureZone").address == full.symbol("Fix.fixtureZone").address)
        #expect(try image.address(ofGlobal: "Fix.counter") == full.address(ofGlobal: "Fix.counter"))
        #expect(image.elf.buildID == full.elf.buildID)
    }

    @Test func strippedOfSymbols() throws {
        let f = try Fixtures.get()
        let image = try KernelImage(path: f.strippedAll)
        #expect(!image.elf.hasSymbolTable)
        #expect(throws: KernelImageError.noSymbolTable(path: f.strippedAll)) { _ = try image.symbol("kstart") }
        #expect(throws: KernelImageError.noSymbolTable(path: f.strippedAll)) {
            _ = try image.symbolicate(image.elf.entry)
        }
        #expect("\(KernelImageError.noSymbolTable(path: f.strippedAll))".contains("stripped of symbols"))
        #expect(!image.elf.loadSegments.isEmpty)
    }
}
