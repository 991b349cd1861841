import Foundation
import KernelLayouts
import Testing

/// The ELF side, checked against elfutils' and LLVM's own readers of the same file.
@Suite struct ElfFileTests {
    @Test func buildIDEqualsWhatReadelfShows() throws {
        let f = try Fixtures.get()
        let elf = try ElfFile(path: f.image)
        let notes = try Fixtures.run("eu-readelf", ["-n", f.image])
        let line = try #require(notes.split(separator: "\n").first { $0.contains("Build ID:") })
        let shown = line.split(separator: " ").last.map(String.init)
        #expect(elf.buildID?.description == shown)
        #expect(elf.buildID?.bytes.count == 20)  // --build-id=sha1
    }

    @Test func loadSegmentsMatchReadelfProgramHeaders() throws {
        let f = try Fixtures.get()
        let elf = try ElfFile(path: f.image)
        let headers = try Fixtures.run("eu-readelf", ["-l", f.image])
        let loads = headers.split(separator: "\n").filter { $0.trimmingCharacters(in: .whitespaces).hasPrefix("LOAD") }
        #expect(loads.count == elf.loadSegments.count)
        for (line, segment) in zip(loads, elf.loadSegments) {
            let fields = line.split(separator: " ")
            #expect(UInt64(fields[2].dropFirst(2), radix: 16) == segment.virtualAddress.rawValue)
            #expect(UInt64(fields[3].dropFirst(2), radix: 16) == segment.physicalAddress.rawValue)
            #expect(UInt64(fields[5].dropFirst(2), radix: 16) == segment.memorySize)
        }
    }

    @Test func virtualAddressesMapToTheirPhysicalLoadAddress() throws {
        let f = try Fixtures.get()
        let elf = try ElfFile(path: f.image)
        let zone = try elf.symbolTable().lookup("Fix.fixtureZone")
        let segment = try #require(elf.loadSegments.first { $0.contains(zone.address) })
        let physical = try #require(elf.physicalAddress(of: zone.address.advanced(by: 8)))
        #expect(physical.rawValue == segment.physicalAddress.rawValue + (zone.address.rawValue - segment.virtualAddress.rawValue) + 8)
        // fixture.ld links at KERNEL_VMA = 0xffffffff80000000 and loads at the address minus it.
        #expect(physical.rawValue == zone.address.rawValue &- 0xffff_ffff_8000_0000 + 8)
        #expect(elf.physicalAddress(of: VirtualAddress(0x1000)) == nil)
    }

    @Test func sectionsHoldTheirSymbols() throws {
        let f = try Fixtures.get()
        let elf = try ElfFile(path: f.image)
        let text = try #require(elf.section(named: ".text"))
        let entry = try elf.symbolTable().lookup("kstart")
        #expect(text.contains(entry.address))
        #expect(entry.kind == .function)
        #expect(entry.sectionName == ".text")
        #expect(elf.entry == entry.address)
        #expect(elf.section(named: ".debug_info") != nil)
    }

    @Test func everySymbolHasTheAddressAndSizeLLVMNmReports() throws {
        let f = try Fixtures.get()
        let elf = try ElfFile(path: f.image)
        let nm = try Fixtures.run("llvm-nm", ["-S", "--defined-only", f.image])
        var checked = 0
        for line in nm.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 4, let address = UInt64(fields[0], radix: 16), let size = UInt64(fields[1], radix: 16)
            else { continue }
            let symbol = try #require(elf.symbols.first { $0.name == String(fields[3]) })
            #expect(symbol.address.rawValue == address, "\(symbol.name)")
            #expect(symbol.size == size, "\(symbol.name)")
            if fields[2].lowercased() == "t" { #expect(symbol.kind == .function, "\(symbol.name)") }
            if ["d", "b", "r"].contains(fields[2].lowercased()) { #expect(symbol.kind == .object, "\(symbol.name)") }
            checked += 1
        }
        #expect(checked >= 10)
    }
}
