import Foundation
import KernelLayouts
import Testing
@testable import LinuxKernel

struct SymbolMapTests {
    @Test func parsesKallsymsWithModules() throws {
        let map = try SymbolMap(parsing: """
            ffffffff81000000 T _stext
            ffffffff82c393a0 D node_data
            ffffffffc0a01000 t ext4_fill_super\t[ext4]

            """)
        #expect(map.symbols.count == 3)
        #expect(try map.address(of: "node_data") == 0xffff_ffff_82c3_93a0)
        #expect(map.symbols[2] == KernelSymbol(address: 0xffff_ffff_c0a0_1000, type: "t",
                                               name: "ext4_fill_super", module: "ext4"))
        // Module symbols are not looked up by name: the kernel image's are.
        #expect(map.symbol(named: "ext4_fill_super") == nil)
    }

    @Test func firstDefinitionWins() throws {
        let map = try SymbolMap(parsing: "0000000000001000 t dup\n0000000000002000 t dup\n")
        #expect(try map.address(of: "dup") == 0x1000)
    }

    @Test func missingSymbolIsNamed() throws {
        let map = try SymbolMap(parsing: "ffffffff81000000 T _stext\n")
        #expect(throws: SymbolMapError.missingSymbol("node_data")) { try map.address(of: "node_data") }
    }

    @Test(arguments: [
        ("ffffffff81000000 T", 1, "2 fields"),
        ("xyz T name", 1, "address is not 1 to 16 hex digits"),
        ("ffffffff81000000ff T name", 1, "address is not 1 to 16 hex digits"),
        ("ffffffff81000000 TT name", 1, "type is not one letter"),
        ("ffffffff81000000 T name ext4", 1, "fourth field is not [module]"),
        ("0 T ok\n1 2 3 4 5", 2, "5 fields"),
    ])
    func malformedLinesAreReported(text: String, line: Int, reason: String) {
        #expect {
            _ = try SymbolMap(parsing: text)
        } throws: { error in
            guard case .malformedLine(let number, _, let why) = error as? SymbolMapError else { return false }
            return number == line && why == reason
        }
    }

    @Test func debiansStubSystemMapIsRejected() {
        // /boot/System.map-6.1.0-*-amd64 in the image package (83 bytes).
        let stub = "ffffffffffffffff B The real System.map is in the linux-image-<version>-dbg package\n"
        #expect(throws: SymbolMapError.debianStub) { _ = try SymbolMap(parsing: stub) }
        #expect(throws: SymbolMapError.empty) { _ = try SymbolMap(parsing: "\n\n") }
    }
}

/// issue 22: symbols from another build are refused, whichever source they come from — a
/// System.map, a /proc/kallsyms copy, or a vmlinux's symbol table — because `linux_banner`
/// must show "Linux version" in the guest at the map's address plus one 2 MiB KASLR step;
/// the same build's symbols are accepted with the offset. The guest is a made-up memory.
struct SymbolsOfAnotherBuildTests {
    static let banner = Array("Linux version 6.1.0-57-amd64 (debian-kernel@lists.debian.org)".utf8)

    /// A guest whose `linux_banner` lies at `linked` moved by a 6 MiB KASLR offset.
    static func guest(bannerLinkedAt linked: UInt64) -> HostileGuestTests.SparseMemory {
        let memory = HostileGuestTests.SparseMemory()
        memory.regions.append((linked + (6 << 20), banner))
        return memory
    }

    @Test func textMapsOfAnotherBuildAreRefused() throws {
        let linked: UInt64 = 0xffff_ffff_8200_0100
        let memory = Self.guest(bannerLinkedAt: linked)
        func map(_ banner: UInt64, modules: Bool) throws -> SymbolMap {
            try SymbolMap(parsing: "ffffffff81000000 T _stext\n" + String(banner, radix: 16) + " D linux_banner\n"
                          + (modules ? "ffffffffc0000000 t init_module\t[e1000]\n" : ""))
        }
        for modules in [false, true] {   // System.map; kallsyms (module lines)
            #expect(try KASLR.offset(memory: memory, symbols: try map(linked, modules: modules)) == 6 << 20)
            #expect(throws: KASLR.Failure.self) { try KASLR.offset(memory: memory, symbols: try map(linked + 0x10_0000, modules: modules)) }
            #expect(throws: KASLR.Failure.self) { try KASLR.offset(memory: memory, symbols: try map(linked + 0x40, modules: modules)) }
        }
    }

    @Test func aVmlinuxOfAnotherBuildIsRefused() throws {
        let directory = NSTemporaryDirectory() + "kmemscope-builds-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // two "builds": the second has more data before linux_banner
        var images: [SymbolMap] = []
        for (name, padding) in [("this", 16), ("other", 0x1234)] {
            let source = directory + "/\(name).c", image = directory + "/\(name).so"
            try "const char pad[\(padding)] = {1};\nconst char linux_banner[] = \"Linux version\";\n".write(toFile: source, atomically: true, encoding: .utf8)
            let (status, output) = LinuxGuest.run(["-c", "clang -shared -nostdlib -O0 \"$0\" -o \"$1\" 2>&1", source, image])
            try #require(status == 0, "clang: \(output)")
            images.append(try SymbolMap(elf: try ElfFile(path: image)))
        }
        let this = try images[0].address(of: "linux_banner"), other = try images[1].address(of: "linux_banner")
        try #require(this != other && (other &- this) % KASLR.alignment != 0, "the two images' linux_banner: 0x\(String(this, radix: 16)), 0x\(String(other, radix: 16))")
        let memory = Self.guest(bannerLinkedAt: this)
        #expect(try KASLR.offset(memory: memory, symbols: images[0]) == 6 << 20)
        #expect(throws: KASLR.Failure.self) { try KASLR.offset(memory: memory, symbols: images[1]) }
    }
}
