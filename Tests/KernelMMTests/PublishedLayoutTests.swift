import KernelHarness
import KernelLayouts
import Testing
@testable import KernelMM

/// issue 20, "one source of truth per published layout": the descriptor's `SIZE`/`OFFSET`
/// lines are written from the field tables (kernel/mm/PublishedLayouts.swift) and nothing else,
/// each once, and the toolkit's decoder keys (`DescriptorFields.layouts`) are the tables' keys.
@Suite("Published layout tables")
struct PublishedLayoutTests {
    /// The structures the kernel publishes from kernel/src, outside the host build (their
    /// tables are checked against DWARF in Tests/KernelLayoutsTests/PublishedLayoutDWARFTests).
    static let kernelOnly: Set<String> = ["PerCPU"]

    /// Every layout-writing step the kernel runs (kernel/src/KernelInfo.swift), in its order,
    /// on a host arena: the lines as (key, value).
    func emitted() throws -> [(key: String, value: String)] {
        let a = try HostArena()
        var s = TextCollector()
        a.allocator.writeLayoutDescriptor(to: &s)
        LayoutDescriptor.writeBugRecordLayout(to: &s)
        a.allocator.writeZoneLockLayout(to: &s)
        a.allocator.writePerCPULayout(to: &s)
        a.allocator.writeCPUOperationLayout(to: &s)
        a.allocator.writePerCPULockLayout(to: &s)
        return s.text.split(separator: "\n").map { line in
            let kv = line.split(separator: "=", maxSplits: 1)
            return (String(kv[0]), kv.count > 1 ? String(kv[1]) : "")
        }
    }

    /// The keys and values the tables say the descriptor holds: `SIZE(T)` and each field's offset.
    static func fromTables() -> [(key: String, value: String)] {
        PublishedLayouts.all.flatMap { (t: any PublishedLayout.Type) in lines(t) }
    }

    static func lines<T: PublishedLayout>(_ t: T.Type) -> [(key: String, value: String)] {
        [("SIZE(\(T.publishedName))", "\(MemoryLayout<T>.size)")]
            + T.publishedTable.map { ("OFFSET(\(T.publishedName).\($0.name))", "\($0.offset)") }
    }

    @Test func everyLayoutLineComesFromATableOnce() throws {
        let layoutLines = try emitted().filter { $0.key.hasPrefix("SIZE(") || $0.key.hasPrefix("OFFSET(") }
        let keys = layoutLines.map(\.key)
        #expect(Set(keys).count == keys.count, "a layout key written twice: \(keys.filter { k in keys.filter { $0 == k }.count > 1 })")
        let tables = Self.fromTables()
        #expect(Set(tables.map(\.key)).count == tables.count, "a field twice in a table")
        let expected = Dictionary(tables.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        for (key, value) in layoutLines {
            #expect(expected[key] == value, "\(key)=\(value) is not its table's line (\(expected[key] ?? "none"))")
        }
        #expect(Set(keys) == Set(expected.keys), "in a table, not written: \(Set(expected.keys).subtracting(keys).sorted())")
        #expect(layoutLines.count > 100)
    }

    @Test func linesAddedLaterStayWhereTheyWere() throws {
        // OFFSET(OpLogEntry.cpu), Zone.lock and PerCPUPages.lock were added later and stay after the earlier lines
        let keys = try emitted().map(\.key)
        let cpu = try #require(keys.firstIndex(of: "OFFSET(OpLogEntry.cpu)"))
        let parent = try #require(keys.firstIndex(of: "OFFSET(OpLogEntry.parent)"))
        let lock = try #require(keys.firstIndex(of: "OFFSET(Zone.lock)"))
        let bug = try #require(keys.firstIndex(of: "SIZE(BugRecord)"))
        #expect(parent < bug && bug < lock && lock < cpu)
        // the heap lock before the per-CPU caches' lock, which came last (Per-CPU cache locks)
        let heapLock = try #require(keys.firstIndex(of: "OFFSET(HeapState.lock)"))
        #expect(cpu < heapLock && keys.last == "OFFSET(PerCPUPages.lock)")
    }

    @Test func theDecodersKeysAreTheTablesKeys() {
        let tables = Set(Self.fromTables().map(\.key))
        let decoder = DescriptorFields.layoutKeys.filter { key in
            !Self.kernelOnly.contains { key.hasPrefix("SIZE(\($0))") || key.hasPrefix("OFFSET(\($0).") }
        }
        #expect(Set(decoder).count == decoder.count, "a key twice in DescriptorFields.layouts")
        #expect(tables.subtracting(decoder).isEmpty, "published, unknown to DescriptorFields.layouts: \(tables.subtracting(decoder).sorted())")
        #expect(Set(decoder).subtracting(tables).isEmpty, "in DescriptorFields.layouts, not published: \(Set(decoder).subtracting(tables).sorted())")
        #expect(DescriptorFields.olderLayoutKeys.isDisjoint(with: tables))
        for key in tables {
            #expect(DescriptorFields.rules(for: key) == [key.hasPrefix("SIZE(") ? .dwarfSize : .dwarfOffset], "\(key)")
        }
        // the same structures (kernel-only ones aside)
        let types = DescriptorFields.layouts.map(\.type).filter { !Self.kernelOnly.contains($0) }
        #expect(Set(types) == Set(PublishedLayouts.all.map { "\($0.publishedName)" }))
    }
}
