import Foundation
import KernelLayouts
import Testing
@testable import LinuxKernel

/// The decoder on a made-up guest whose free lists are broken in the ways guest memory can
/// be (a cycle, a node that cannot be read, a node that is no struct page, a huge nr_free):
/// it must finish, bounded, and name each problem. The layout is the host kernel's BTF.
@Suite(.enabled(if: FileManager.default.isReadableFile(atPath: BTFTypesTests.hostBTF), "the host has no /sys/kernel/btf/vmlinux"))
struct HostileGuestTests {
    /// Guest memory as a few byte regions; anything else is unmapped.
    final class SparseMemory: GuestMemory {
        struct Unmapped: Error {}
        var regions: [(base: UInt64, bytes: [UInt8])] = []
        func map(_ base: UInt64, _ count: Int) { regions.append((base, Array(repeating: 0, count: count))) }
        func write(_ address: UInt64, _ value: UInt64) {
            for i in regions.indices where address >= regions[i].base && address + 8 <= regions[i].base + UInt64(regions[i].bytes.count) {
                for b in 0..<8 { regions[i].bytes[Int(address - regions[i].base) + b] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(b))) }
                return
            }
            fatalError("test writes outside its regions: 0x\(String(address, radix: 16))")
        }
        func read(at address: UInt64, count: Int) throws -> [UInt8] {
            for r in regions where address >= r.base && address + UInt64(count) <= r.base + UInt64(r.bytes.count) {
                let start = Int(address - r.base)
                return Array(r.bytes[start..<start + count])
            }
            throw Unmapped()
        }
    }

    @Test func brokenListsAreBoundedAndNamed() throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: BTFTypesTests.hostBTF)))
        let layout = try LinuxMMLayout(btf: try BTFTypes(bytes: bytes))
        let memory = SparseMemory()
        let globals: UInt64 = 0xffff_ffff_8200_0000
        let pgdat: UInt64 = 0xffff_8880_0100_0000
        let vmemmap: UInt64 = 0xffff_ea00_0000_0000
        let name: UInt64 = 0xffff_8880_0200_0000
        memory.map(globals, 64)
        memory.write(globals, 0xffff_8880_0000_0000)      // page_offset_base
        memory.write(globals + 8, vmemmap)                // vmemmap_base
        memory.write(globals + 16, pgdat)                 // node_data[0]
        memory.map(pgdat, layout.nodeZonesOffset + layout.zoneCount * layout.nodeZoneStride)
        memory.map(name, 16)
        memory.write(name, 0x3233_414d_44)                // "DMA32"
        memory.map(vmemmap + 0x1000 * UInt64(layout.pageSize), 64 * layout.pageSize)
        let symbols = try SymbolMap(parsing: """
            \(String(globals, radix: 16)) D page_offset_base
            \(String(globals + 8, radix: 16)) D vmemmap_base
            \(String(globals + 16, radix: 16)) D node_data
            """)

        let zone = pgdat + UInt64(layout.nodeZonesOffset + layout.nodeZoneStride)   // zone 1
        memory.write(zone + UInt64(layout.zoneNameOffset), name)
        memory.write(zone + UInt64(layout.zonePresentPagesOffset), 64)
        memory.write(zone + UInt64(layout.zoneStartPFNOffset), 0x1000)
        memory.write(zone + UInt64(layout.zoneSpannedPagesOffset), 64)
        func head(_ order: Int, _ mt: Int) -> UInt64 {
            zone + UInt64(layout.zoneFreeAreaOffset + order * layout.freeAreaSize + layout.freeListOffset + mt * layout.listHeadSize)
        }
        func nrFree(_ order: Int) -> UInt64 { zone + UInt64(layout.zoneFreeAreaOffset + order * layout.freeAreaSize + layout.nrFreeOffset) }
        func node(_ pfn: UInt64) -> UInt64 { vmemmap + pfn * UInt64(layout.pageSize) + UInt64(layout.pageBuddyListOffset) }
        func link(_ n: UInt64, next: UInt64, prev: UInt64) {
            memory.write(n + UInt64(layout.listNextOffset), next)
            memory.write(n + UInt64(layout.listPrevOffset), prev)
        }
        for order in 0..<layout.orderCount { for mt in 0..<layout.migratetypeCount { link(head(order, mt), next: head(order, mt), prev: head(order, mt)) } }

        // order 0, mt 1: head → A → B → A … (a cycle that never returns to the head); nr_free huge.
        let (a, b) = (node(0x1000), node(0x1001))
        link(head(0, 1), next: a, prev: b)
        link(a, next: b, prev: head(0, 1))
        link(b, next: a, prev: a)
        memory.write(nrFree(0), UInt64.max)
        // order 2, mt 0: the only node is unmapped.
        link(head(2, 0), next: 0xffff_dead_0000_0000, prev: 0xffff_dead_0000_0000)
        memory.write(nrFree(2), 1)
        // order 3, mt 1: a node inside a struct page, not its list node; then a good block.
        let odd = node(0x1008) + 4
        link(head(3, 1), next: odd, prev: odd)
        link(odd, next: head(3, 1), prev: head(3, 1))
        memory.write(nrFree(3), 1)

        let state = try LinuxFreeAreaDecoder(memory: memory, symbols: symbols, layout: layout).decode()
        let dma32 = try #require(state.zones.first { $0.name == "DMA32" })
        let problems = dma32.issues.map(\.description)
        #expect(problems.contains { $0.contains("order 0 migratetype 1") && $0.contains("cycle") })
        #expect(problems.contains { $0.contains("order 2 migratetype 0") && $0.contains("unreadable") })
        #expect(problems.contains { $0.contains("order 3 migratetype 1") && $0.contains("is not a struct page") })
        #expect(dma32.walked[1][0] == 2)
        #expect(dma32.blocks.contains { $0.pfn == 0x1000 && $0.order == 0 && $0.migratetype == 1 && $0.recordedOrder == 0 })
        // Empty zones are not walked: their (zeroed) lists raise nothing.
        #expect(state.zones.filter { $0.name != "DMA32" }.allSatisfy { $0.issues.isEmpty })
    }
}
