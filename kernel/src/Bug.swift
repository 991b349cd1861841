import KernelSupport

/// boot.S's `cli; hlt` loop that every BUG ends in (kernel/README.md, "A kernel halted at its BUG").
/// It never returns; C cannot say so, hence the wrapper.
@_extern(c, "kmem_bug_halt")
func kmemBugHalt()

/// Enters `kmem_bug_halt` for good.
func kmemBugHaltLoop() -> Never {
    while true { kmemBugHalt() }
}

/// Writes a BUG line to the serial console and, the same bytes, into the record's text.
struct BugSink: TextSink {
    var text: BufferSink
    mutating func put(_ byte: UInt8) {
        console.put(byte)
        text.put(byte)
    }
}

/// The kernel's BUG record (`kmem_bug` in boot.S).
var bugRecord: UnsafeMutablePointer<BugRecord> {
    UnsafeMutableRawPointer(kmem_bug_record()!).assumingMemoryBound(to: BugRecord.self)
}

/// Every BUG ends here: prints `kmem: BUG: ` and what `message` writes, fills `kmem_bug`
/// (the magic last, so a reader never sees half a record), and halts in `kmem_bug_halt`.
/// `sequence` nil: the innermost operation in progress, 0 when none is. A BUG raised while
/// one is being reported keeps the first record.
func kernelBug(_ kind: BugKind, code: UInt64, pfn: UInt64 = Kmem.none, sequence: UInt64? = nil, rip: UInt64 = 0,
               detail: UInt64 = 0, detail2: UInt64 = 0, _ message: (inout BugSink) -> Void) -> Never {
    let record = bugRecord
    if record.pointee.magic == BugRecord.magicValue || record.pointee.kind != 0 {
        console.write("kmem: BUG: another BUG while the first was reported (kind ")
        console.dec(kind.rawValue); console.write(")"); console.newline()
        kmemBugHaltLoop()
    }
    record.pointee.kind = kind.rawValue  // claims the record before anything else can fault
    console.write("kmem: BUG: ")
    var sink = BugSink(text: BufferSink(base: kmem_bug_record()! + BugRecord.textOffset, capacity: BugRecord.textCapacity))
    message(&sink)
    console.newline()
    var busy: UInt64 = 0
    var seq: UInt64 = sequence ?? 0
    if let a = kernelAllocator {
        // This CPU's operations (another CPU's, running at once in smp=free, are its own)
        let op = a.cpuOperation
        busy = op.pointee.busy
        if sequence == nil && busy != 0 { seq = op.pointee.parentSequence }
    }
    record.pointee.code = code
    record.pointee.pfn = pfn
    record.pointee.sequence = seq
    record.pointee.busy = busy
    record.pointee.rip = rip
    record.pointee.detail = detail
    record.pointee.detail2 = detail2
    record.pointee.textLength = UInt64(sink.text.count)
    record.pointee.magic = BugRecord.magicValue
    kmemBugHaltLoop()
}
