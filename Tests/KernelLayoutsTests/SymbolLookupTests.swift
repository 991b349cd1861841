import Foundation
import KernelLayouts
import Testing

/// Symbol lookups by mangled name, by demangled name and by address.
@Suite struct SymbolLookupTests {
    func table() throws -> SymbolTable { try ElfFile(path: try Fixtures.get().image).symbolTable() }

    @Test func demanglingAgreesWithSwiftDemangle() throws {
        let symbols = try table().symbols.filter { SwiftDemangler.isSwiftMangled($0.name) }
        #expect(symbols.count >= 6)
        let output = try Fixtures.run("swift-demangle", ["-compact"] + symbols.map(\.name))
        let lines = output.split(separator: "\n").map(String.init)
        #expect(lines.count == symbols.count)
        for (symbol, line) in zip(symbols, lines) { #expect(symbol.demangledName == line) }
    }

    @Test func mangledDemangledAndUnqualifiedNamesFindTheSameGlobal() throws {
        let t = try table()
        let byModule = try t.lookup("Fix.fixtureZone")
        #expect(byModule.kind == .object)
        #expect(SwiftDemangler.isSwiftMangled(byModule.name))
        #expect(try t.lookup(byModule.name) == byModule)
        #expect(try t.lookup("fixtureZone") == byModule)
        #expect(try t.lookup(try #require(byModule.demangledName)) == byModule)
        #expect(byModule.entityName == "Fix.fixtureZone")
    }

    @Test func aNameInTwoModulesIsAmbiguousUntilQualified() throws {
        let t = try table()
        #expect {
            _ = try t.lookup("counter")
        } throws: { error in
            guard case KernelImageError.ambiguousSymbol(_, let candidates) = error else { return false }
            return candidates.contains { $0.hasPrefix("Fix.counter") } && candidates.contains { $0.hasPrefix("Other.counter") }
        }
        let fix = try t.lookup("Fix.counter")
        let other = try t.lookup("Other.counter")
        #expect(fix.address != other.address)
    }

    @Test func cSymbolsAreFoundByTheirPlainName() throws {
        let zones = try table().lookup("c_zones")
        #expect(zones.demangledName == nil)
        #expect(zones.kind == .object)
        #expect(zones.size == 2 * (try Fixtures.get().cZoneOffsets["sizeof"] ?? 0))
    }

    @Test func anAddressInsideAGlobalIsSymbolPlusOffset() throws {
        let t = try table()
        let zone = try t.lookup("Fix.fixtureZone")
        let at = try t.symbolicate(zone.address.advanced(by: 16))
        #expect(at.symbol == zone)
        #expect(at.offset == 16)
        #expect(at.isInside)
        #expect(at.description == "Fix.fixtureZone : Fix.FixtureZone + 16 in section \(zone.sectionName ?? "?")")
        let start = try t.symbolicate(zone.address)
        #expect(start.offset == 0 && start.symbol == zone)
    }

    @Test func anAddressInsideAFunctionNamesTheFunction() throws {
        let t = try table()
        let function = try t.lookup("Fix.kstart")
        #expect(function.kind == .function && function.size > 4)
        let at = try t.symbolicate(function.address.advanced(by: 3))
        #expect(at.symbol.name == function.name)
        #expect(at.offset == 3)
    }

    @Test func anAddressOutsideTheImageHasNoSymbol() throws {
        #expect(throws: KernelImageError.noSymbolAt(address: VirtualAddress(0x1234))) {
            _ = try table().symbolicate(VirtualAddress(0x1234))
        }
    }

    @Test func anUnknownNameSuggestsTheClosest() throws {
        #expect {
            _ = try table().lookup("fixtureZon")
        } throws: { error in
            guard case KernelImageError.symbolNotFound(_, let closest) = error else { return false }
            return closest.contains("Fix.fixtureZone") && "\(error)".contains("closest")
        }
    }
}

/// Addresses survive JSON: as `0x…` strings, since higher-half addresses exceed 2^53.
@Suite struct AddressCodingTests {
    @Test func addressesRoundTripThroughJSONAsHex() throws {
        let address = VirtualAddress(0xffff_ffff_8015_e208)
        let data = try JSONEncoder().encode([address])
        #expect(String(decoding: data, as: UTF8.self) == "[\"0xffffffff8015e208\"]")
        #expect(try JSONDecoder().decode([VirtualAddress].self, from: data) == [address])
        #expect(try JSONDecoder().decode([PhysicalAddress].self, from: Data("[4096]".utf8)) == [PhysicalAddress(4096)])
    }
}
