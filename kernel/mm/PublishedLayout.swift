/// Where in `kmem_info` a published field's `OFFSET(Type.field)` line is written. The
/// descriptor grew in steps and a reader of an older layout finds every earlier line where it
/// was, so a field added later is written in the later step (kernel/src/KernelInfo.swift).
public enum LayoutSection: Sendable {
    /// ``PageAllocator/writeLayoutDescriptor(to:)``: the allocator's structures.
    case allocator
    /// ``LayoutDescriptor/writeBugRecordLayout(to:)``, after `BUG_MAGIC`.
    case bugRecord
    /// ``PageAllocator/writeZoneLockLayout(to:)``, after the CPU keys.
    case zoneLocks
    /// ``PageAllocator/writePerCPULayout(to:)``, after the zone locks.
    case perCPU
    /// ``PageAllocator/writeCPUOperationLayout(to:)``, after the per-CPU cache table.
    case cpuOperations
    /// ``PageAllocator/writePerCPULockLayout(to:)``, after the turn word: the per-CPU caches' locks.
    case perCPULocks
    /// The kernel's own `PerCPU` areas (kernel/src/KernelInfo.swift `writeCPUKeys`), after the
    /// BUG record; not in the host build.
    case cpus
}

/// A structure whose layout the kernel publishes: its name and its field table, the one
/// description from which the descriptor's `SIZE(Type)` and `OFFSET(Type.field)` lines are
/// written (``TextSink/writeLayout(of:section:)``) and which the host tests iterate against the
/// toolkit's decoder keys (`DescriptorFields.layouts`) and the kernel ELF's DWARF.
///
/// Embedded Swift has no key paths (`MemoryLayout.offset(of:)` is host-only): a table is a
/// function that hands each field's name, section and address (`&p.pointee.field`) to `field`,
/// in the order the descriptor writes them; the offset is the address minus `p`'s.
public protocol PublishedLayout {
    /// The name in `SIZE(…)` / `OFFSET(…)`: the Swift type's name (DWARF's, for the cross-check).
    static var publishedName: StaticString { get }
    /// The section whose lines begin with `SIZE(Type)`.
    static var sizeSection: LayoutSection { get }
    /// Calls `field` with every published field of `*p`: name, section, address.
    static func publishedFields(of p: UnsafeMutablePointer<Self>,
                                _ field: (StaticString, LayoutSection, UnsafeMutableRawPointer) -> Void)
}

extension PublishedLayout {
    public static var sizeSection: LayoutSection { .allocator }
}

extension TextSink {
    /// Writes `SIZE(Type)` when `section` is the type's size section, then `OFFSET(Type.field)`
    /// for each of its fields in `section`, measured on the live structure at `p`.
    public mutating func writeLayout<T: PublishedLayout>(of p: UnsafeMutablePointer<T>, section: LayoutSection) {
        if section == T.sizeSection {
            write("SIZE("); write(T.publishedName); write(")="); dec(UInt64(MemoryLayout<T>.size)); newline()
        }
        let base = UInt(bitPattern: p)
        T.publishedFields(of: p) { name, s, address in
            guard s == section else { return }
            write("OFFSET("); write(T.publishedName); put(46); write(name); write(")=")
            dec(UInt64(UInt(bitPattern: address) &- base)); newline()
        }
    }
}

#if !KMEM_KERNEL
/// The structures kernel/mm publishes (host build only: Embedded Swift has no existentials),
/// for the tests that iterate their tables; kernel/src's `PerCPU` is the kernel's own.
public enum PublishedLayouts {
    /// Every ``PublishedLayout`` in kernel/mm, in the order `kmem_info` first names it.
    public static var all: [any PublishedLayout.Type] {
        [FrameMeta.self, Zone.self, PerCPUPages.self, Segment.self, KmemState.self, HeapState.self, SlabCache.self,
         OpLogEntry.self, BugRecord.self, TicketLockWord.self, CPUOperation.self]
    }
}

extension PublishedLayout {
    /// The table as (field, section, offset): measured as the kernel measures it, by pointer
    /// arithmetic, on scratch storage (only the fields' addresses are taken, nothing is read).
    public static var publishedTable: [(name: String, section: LayoutSection, offset: Int)] {
        let p = UnsafeMutablePointer<Self>.allocate(capacity: 1)
        defer { p.deallocate() }
        var table: [(name: String, section: LayoutSection, offset: Int)] = []
        publishedFields(of: p) { name, section, address in
            table.append((name: "\(name)", section: section, offset: UnsafeRawPointer(address) - UnsafeRawPointer(p)))
        }
        return table
    }
}
#endif
