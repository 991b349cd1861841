import Foundation
import KernelMM
import Testing

/// The workload, checkpoints, layout descriptor and fault injection, in the real kernel.
@Suite("Kernel workload in QEMU")
struct WorkloadBootTests {
    static func lines(_ s: String, prefix: String) -> [String] {
        s.split(whereSeparator: \.isNewline).map(String.init).filter { $0.hasPrefix(prefix) }
    }

    /// The self-check the kernel runs after the workload: the last `kmem: self-check:` line,
    /// which must come right before `kmem: done seq N`; and N.
    static func finalSelfCheck(_ s: String) -> (line: String, sequence: UInt64)? {
        let all = s.split(whereSeparator: \.isNewline).map(String.init)
        guard let done = all.lastIndex(where: { $0.hasPrefix("kmem: done seq ") }), done > 0,
              all[done - 1].hasPrefix("kmem: self-check: "),
              let sequence = UInt64(all[done].dropFirst("kmem: done seq ".count)) else { return nil }
        return (all[done - 1], sequence)
    }

    /// One `slabinfo: kmalloc-SIZE active total objectSize perSlab pagesPerSlab : slabdata activeSlabs slabs` line.
    struct SlabLine {
        let size: UInt64, active: UInt64, total: UInt64, objectSize: UInt64, perSlab: UInt64, activeSlabs: UInt64, slabs: UInt64
        init?(_ line: String) {
            let w = line.split(separator: " ")
            guard w.count == 11, w[0] == "slabinfo:", w[1].hasPrefix("kmalloc-"), w[7] == ":", w[8] == "slabdata",
                  let size = UInt64(w[1].dropFirst("kmalloc-".count)) else { return nil }
            let n = [2, 3, 4, 5, 9, 10].compactMap { UInt64(w[$0]) }
            guard n.count == 6 else { return nil }
            (self.size, active, total, objectSize, perSlab, activeSlabs, slabs) = (size, n[0], n[1], n[2], n[3], n[4], n[5])
        }
    }

    @Test(arguments: ["128M", "6G"])
    func workloadRunsPhasesAndEndsClean(memory: String) throws {
        let r = try QEMUBoot.run(memory: memory, append: "seed=7 ops=20000 phases=4 exit=1", deadline: 120)
        #expect(r.status == 1, "self-check after the workload must pass:\n\(r.serial.suffix(3000))")
        let checkpoints = Self.lines(r.serial, prefix: "kmem: checkpoint phase ")
        #expect(checkpoints.count == 4)
        let seqs = checkpoints.compactMap { UInt64($0.split(separator: " ").last!) }
        #expect(seqs == seqs.sorted() && Set(seqs).count == 4 && seqs[0] > 0)
        // each checkpoint prints buddyinfo per zone and slabinfo per cache
        #expect(Self.lines(r.serial, prefix: "slabinfo: kmalloc-").count == 4 * 8)
        // … each line consistent: objects in use ≤ objects, objects = slabs × objects per slab,
        // the object size the name says; the largest class is in use at every checkpoint.
        let slabs = Self.lines(r.serial, prefix: "slabinfo: kmalloc-")
        for line in slabs {
            let s = try #require(SlabLine(line), "unparsable: \(line)")
            #expect(s.objectSize == s.size && s.active <= s.total && s.total == s.slabs * s.perSlab
                    && s.activeSlabs <= s.slabs, "\(line)")
        }
        let largest = slabs.compactMap(SlabLine.init).filter { $0.size == 2048 }
        #expect(largest.count == 4 && largest.allSatisfy { $0.active > 0 }, "\(slabs)")
        let final = try #require(Self.finalSelfCheck(r.serial), "no self-check before `kmem: done seq`:\n\(r.serial.suffix(2000))")
        #expect(final.line.hasPrefix("kmem: self-check: ok"), "\(final.line)")
    }

    /// Millions of operations: the live set is bounded and allocated up front, so the Swift
    /// runtime's own arrays never need a block fragmented memory no longer has.
    @Test func fiveMillionOperationsAt1G() throws {
        let r = try QEMUBoot.run(memory: "1G", append: "seed=1 ops=5000000 phases=4 exit=1", deadline: 400)
        #expect(r.status == 1, "\(r.serial.suffix(2000))")
        let final = try #require(Self.finalSelfCheck(r.serial), "\(r.serial.suffix(2000))")
        #expect(final.sequence >= 5_000_000)
        #expect(final.line.hasPrefix("kmem: self-check: ok"), "\(final.line)")
        #expect(!r.serial.contains("kmem: BUG"))
    }

    /// RAM held back at boot is added as a new Normal segment below the boot one; the kernel's
    /// self-check passes after it and after a workload that uses it.
    @Test func hotAddAt6G() throws {
        let r = try QEMUBoot.run(memory: "6G", append: "hotadd=0x100000000,0x40000000 seed=2 ops=20000 phases=2 exit=1",
                                 deadline: 150)
        #expect(r.status == 1, "\(r.serial.suffix(2000))")
        #expect(r.serial.contains("kmem: hotadd: pfn [0x100000, 0x140000) added as 1 segment(s)"), "\(r.serial.suffix(2000))")
        #expect(r.serial.contains("kmem:   segment  2 Normal pfn [0x100000, "))
        #expect(!r.serial.contains("self-check: FAILED"))
    }

    @Test func sameSeedSameState() throws {
        let a = try QEMUBoot.run(memory: "128M", append: "seed=42 ops=8000 phases=2 exit=1")
        let b = try QEMUBoot.run(memory: "128M", append: "seed=42 ops=8000 phases=2 exit=1")
        let c = try QEMUBoot.run(memory: "128M", append: "seed=43 ops=8000 phases=2 exit=1")
        /// Everything printed after the workload's first line.
        func tail(_ s: String) -> [Substring] {
            Array(s.split(whereSeparator: \.isNewline).drop { !$0.hasPrefix("kmem: workload seed") }.dropFirst())
        }
        #expect(a.status == 1 && b.status == 1)
        #expect(tail(a.serial).count > 20)
        #expect(tail(a.serial) == tail(b.serial))
        #expect(tail(a.serial) != tail(c.serial))
    }

    @Test func hundredThousandOperationsAt1G() throws {
        let r = try QEMUBoot.run(memory: "1G", append: "seed=1 ops=100000 phases=4 exit=1", deadline: 300)
        #expect(r.status == 1, "\(r.serial.suffix(2000))")
        let final = try #require(Self.finalSelfCheck(r.serial), "\(r.serial.suffix(2000))")
        #expect(final.sequence >= 100_000)
        #expect(final.line.hasPrefix("kmem: self-check: ok"), "\(final.line)")
        print("ops=100000 at 1G: kmem: done after \(String(format: "%.2f", r.seconds)) s (QEMU start to exit)")
    }

    /// The kernel's own measured offsets (kmem_info) agree with MemoryLayout on the host.
    @Test func kernelMeasuredLayoutsMatchTheHost() throws {
        let r = try QEMUBoot.run(memory: "128M", append: "dumpinfo=1 exit=1")
        var d: [String: String] = [:]
        for line in Self.lines(r.serial, prefix: "kmem_info: ") {
            let kv = line.dropFirst("kmem_info: ".count).split(separator: "=", maxSplits: 1)
            if kv.count == 2 { d[String(kv[0])] = String(kv[1]) }
        }
        #expect(d["SIZE(FrameMeta)"] == "\(MemoryLayout<FrameMeta>.size)")
        #expect(d["OFFSET(FrameMeta.lastSeq)"] == "\(MemoryLayout<FrameMeta>.offset(of: \.lastSeq)!)")
        #expect(d["SIZE(Segment)"] == "\(MemoryLayout<Segment>.size)")
        #expect(d["OFFSET(Segment.parityBitmaps)"] == "\(MemoryLayout<Segment>.offset(of: \.parityBitmaps)!)")
        #expect(d["SIZE(Zone)"] == "\(MemoryLayout<Zone>.size)")
        #expect(d["OFFSET(Zone.lock)"] == "\(MemoryLayout<Zone>.offset(of: \.lock)!)")
        #expect(d["PCP_STRIDE"] == "\(MemoryLayout<PerCPUPages>.stride)" && d["PCP_CPUS"] == "\(Kmem.maxCPUs)")
        #expect(d["OFFSET(OpLogEntry.cpu)"] == "\(MemoryLayout<OpLogEntry>.offset(of: \.cpu)!)")
        #expect(d["OFFSET(PerCPUPages.heads)"] == "\(MemoryLayout<PerCPUPages>.offset(of: \.heads)!)")
        #expect(d["SIZE(SlabCache)"] == "\(MemoryLayout<SlabCache>.size)")
        #expect(d["SIZE(OpLogEntry)"] == "\(MemoryLayout<OpLogEntry>.size)")
        #expect(d["OFFSET(KmemState.heap)"] == "\(MemoryLayout<KmemState>.offset(of: \.heap)!)")
        // each CPU's in-operation row, the heap lock, the turn word's mode (Operations in progress)
        #expect(d["CPU_OPS_STRIDE"] == "\(MemoryLayout<CPUOperation>.stride)" && d["SIZE(CPUOperation)"] == "\(MemoryLayout<CPUOperation>.size)")
        #expect(d["OFFSET(CPUOperation.parentSequence)"] == "\(MemoryLayout<CPUOperation>.offset(of: \.parentSequence)!)")
        #expect(d["OFFSET(HeapState.lock)"] == "\(MemoryLayout<HeapState>.offset(of: \.lock)!)")
        #expect(d["OFFSET(KmemState.cpuOperations)"] == "\(MemoryLayout<KmemState>.offset(of: \.cpuOperations)!)" && d["TURNS_MODE"] == "48")
        #expect(d["OPLOG_CAPACITY"] == "65536" && d["DIRECT_MAP"] == "0xffff888000000000")
        #expect((d["BUILD-ID"] ?? "").count == 40)
        // every line of every field table (kernel/mm/PublishedLayouts.swift): the kernel's
        // measurement is the host build's
        var tableLines = 0
        for t in PublishedLayouts.all { tableLines += Self.checkTable(t, against: d) }
        let offsets = d.keys.filter { $0.hasPrefix("OFFSET(") }
        #expect(offsets.count > 70 && tableLines > 100)
    }

    /// `SIZE(T)` and each `OFFSET(T.field)` of T's table in the kernel's descriptor `d` equal
    /// the host's; returns how many lines were compared.
    static func checkTable<T: PublishedLayout>(_ t: T.Type, against d: [String: String]) -> Int {
        let name = "\(T.publishedName)"
        #expect(d["SIZE(\(name))"] == "\(MemoryLayout<T>.size)", "SIZE(\(name))")
        for field in T.publishedTable {
            #expect(d["OFFSET(\(name).\(field.name))"] == "\(field.offset)", "OFFSET(\(name).\(field.name))")
        }
        return 1 + T.publishedTable.count
    }

    static let faultKinds = ["double-free", "broken-link", "list-cycle", "parity-flip", "alloc-bitmap-flip",
                             "wrong-order", "counter-drift", "lost-block", "overlap", "refcount",
                             "pageblock-tag", "slab-freelist", "use-after-free"]

    /// The last sequence number of the clean run `seed=3 ops=6000` (the workload is deterministic).
    static let cleanFinalSequence: UInt64 = {
        guard let r = try? QEMUBoot.run(memory: "128M", append: "seed=3 ops=6000 phases=2 exit=1"),
              let line = lines(r.serial, prefix: "kmem: done seq ").first else { return 0 }
        return UInt64(line.split(separator: " ").last!) ?? 0
    }()

    /// Each fault is injected once, reported on one line, and never passes silently: either
    /// the kernel's own checks hit it (`kmem: BUG:`) or the final self-check fails. It is
    /// injected a few operations before the end, so later traffic cannot heal it (a flipped
    /// bitmap bit or pageblock tag is rewritten when its block is next allocated).
    @Test(arguments: WorkloadBootTests.faultKinds)
    func faultIsInjectedAndReported(kind: String) throws {
        let at = try #require(Self.cleanFinalSequence > 5000 ? Self.cleanFinalSequence - 3 : nil,
                              "the clean run seed=3 ops=6000 did not report its final sequence")
        let r = try QEMUBoot.run(memory: "128M", append: "seed=3 ops=6000 phases=2 fault=\(kind)@\(at) exit=1",
                                 until: ["kmem: BUG:"])
        let injected = Self.lines(r.serial, prefix: "kmem: fault: injected \(kind) pfn 0x")
        #expect(injected.count == 1, "\(r.serial.suffix(2000))")
        let seq = injected.first.flatMap { UInt64($0.split(separator: " ").last!) } ?? 0
        #expect(seq >= at && seq < at + 10)
        #expect(r.serial.contains("kmem: BUG:") || (r.status == 3 && r.serial.contains("kmem: self-check: FAILED")),
                "\(r.serial.suffix(1500))")
    }

    @Test func faultsAlsoWorkAt6G() throws {
        let r = try QEMUBoot.run(memory: "6G", append: "seed=5 ops=4000 phases=2 fault=parity-flip@2000 exit=1",
                                 until: ["kmem: BUG:"], deadline: 120)
        #expect(Self.lines(r.serial, prefix: "kmem: fault: injected parity-flip").count == 1)
        #expect(r.status == 3 || r.serial.contains("kmem: BUG:"))
    }
}
