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
