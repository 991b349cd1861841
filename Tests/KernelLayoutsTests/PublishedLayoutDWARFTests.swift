import KernelLayouts
import KernelMM
import Testing

/// issue 20, "one source of truth per published layout": each field table the kernel writes
/// its descriptor from (kernel/mm/PublishedLayouts.swift) names members of the kernel ELF's
/// DWARF type, at DWARF's offsets, so the cross-check (`DescriptorCrossCheck`, which compares
/// every `SIZE`/`OFFSET` key with DWARF) has a member for every published key; and every DWARF
/// member is either published or listed here as the kernel's own.
@Suite struct PublishedLayoutDWARFTests {
    /// DWARF members the descriptor does not publish (padding, `_`-prefixed, aside): a new
    /// member must be published (a table line) or added here.
    static let unpublished: [String: Set<String>] = [
        "KmemState": ["dma32StartPFN", "normalStartPFN", "bootMemStart", "bootMemEnd", "options", "kernelStart",
                      "kernelEnd", "perCPUPages"],
    ]

    func image() throws -> KernelImage { try KernelImage(path: RealKernel.path()) }

    func check<T: PublishedLayout>(_ t: T.Type, in image: KernelImage) throws {
        let name = "\(T.publishedName)"
        let layout = try image.structLayout(named: name)
        #expect(layout.size == UInt64(MemoryLayout<T>.size), "SIZE(\(name))")
        let table = T.publishedTable
        for field in table {
            #expect(try layout.offset(of: field.name) == UInt64(field.offset), "OFFSET(\(name).\(field.name))")
        }
        let members = Set(layout.members.map(\.name).filter { !$0.hasPrefix("_") })
        let published = Set(table.map(\.name))
        #expect(members.subtracting(published) == Self.unpublished[name, default: []],
                "\(name): DWARF members neither published nor listed as unpublished")
        #expect(published.isSubset(of: members), "\(name): published fields DWARF does not have")
    }

    @Test func everyTableMatchesTheKernelsDWARF() throws {
        let image = try image()
        for t in PublishedLayouts.all { try check(t, in: image) }
        #expect(PublishedLayouts.all.count >= 11)
    }

    /// Every key the decoders know, kernel/src's `PerCPU` included, is a DWARF member.
    @Test func everyDecoderKeyIsADWARFMember() throws {
        let image = try image()
        for (type, fields) in DescriptorFields.layouts {
            let layout = try image.structLayout(named: type)
            #expect(layout.size > 0, "SIZE(\(type))")
            for field in fields {
                #expect((try? layout.offset(of: field)) != nil, "OFFSET(\(type).\(field)) is not in DWARF")
            }
        }
    }
}
