import Glibc
import BundledState
import BundledKernel
import KernelLayouts

/// Taking a snapshot of a held guest: everything the views and `verify` read (the layout
/// descriptor, the decoded allocator state, the whole operation-log ring, the page tables
/// reachable from CR3), read once through a ``RecordingMemory``, with the registers and where
/// it all came from. ``SnapshotFileWriter`` stores the result; ``SnapshotSession`` reads it back.
public struct SnapshotCapture {
    /// The header to store.
    public var header: SnapshotHeader
    /// The memory read, merged.
    public var stretches: [RecordingMemory.Stretch]
    /// Page tables recorded (4 KiB each).
    public var pageTables: Int
    /// Free pages read for `verify --free-page-poison` (0 unless asked).
    public var freePages: Int
    /// The allocator state decoded while reading (what a caller verifies, without reading twice).
    public var snapshot: KernelSnapshot

    /// The registers kept when the stub has them.
    public static let registerNames = ["rip", "rsp", "rbp", "eflags", "cr0", "cr2", "cr3", "cr4", "efer"]
    /// At most this many page tables are recorded (64 MiB): the walk is bounded whatever CR3's tables say.
    public static let maxPageTables = 16384

    /// Reads what the snapshot holds from `session` (held and settled at `point`).
    /// - Parameters:
    ///   - tool: the kmemscope version, for the header.
    ///   - freePages: also read every free page's contents (what `verify --free-page-poison` checks).
    public static func take(_ session: GuestSession, at point: SettlePoint, tool: String, freePages: Bool = false) throws -> SnapshotCapture {
        let info = session.info
        let map = try KernelAddressMap(info: info)
        // the FrameMeta array is held once: the decoder's array is handed to the recorder
        let recorder = RecordingMemory(session.memory, addressMap: map, handOverSize: 1 << 20)
        let descriptor = try session.kernel.symbol("kmem_info").address.rawValue
        _ = try KernelInfo.read(from: recorder, at: descriptor)
        // what the descriptor cross-check reads (the root through kmemStateAddress), so that the
        // snapshot is checked against the ELF again when it is opened
        _ = try DescriptorCrossCheck(info: info, kernel: session.kernel, memory: recorder)
        // the per-CPU areas info lists (a few hundred bytes); a kernel that publishes none has none
        _ = try CPUTableDecoder(info: info, memory: recorder).decode()
        // and the workload's turn word (64 bytes), which info reads beside them
        _ = try? CPUActivityDecoder(info: info, memory: recorder).turns()
        let snapshot = try SnapshotDecoder(info: info, memory: recorder).decode()
        recorder.handOver(snapshot.frames.bytes, .kernelVirtual, at: try info.number("FRAME_META"))
        let capacity = try info.number("OPLOG_CAPACITY"), entry = try info.size(of: "OpLogEntry")
        if capacity > 0, capacity <= 1 << 20, entry > 0, entry <= 256 {
            _ = try recorder.read(at: try info.number("OPLOG"), count: Int(capacity * entry))
        }
        var freePagesRead = 0
        if freePages && snapshot.poisoning == true {
            freePagesRead = try FreePagePoisonScan(info: info, memory: recorder).scan(snapshot).pagesRead
        }
        var registers: [(name: String, value: UInt64)] = []
        for name in registerNames {
            if let value = try? session.target.register(name) { registers.append((name, value)) }
        }
        var tables = 0
        if let cr3 = registers.first(where: { $0.name == "cr3" })?.value {
            let ram = UInt64(snapshot.frames.count).multipliedReportingOverflow(by: snapshot.pageSize)
            tables = try recordPageTables(cr3: cr3, ram: ram.overflow ? .max : ram.partialValue, recorder)
        }
        var header = SnapshotHeader()
        header.tool = tool
        header.taken = utcNow()
        header.buildID = session.kernel.elf.buildID?.description ?? ""
        header.elf = session.kernel.path
        header.descriptor = descriptor
        header.target = session.address.description
        header.source = session.memorySource.description
        header.sequence = point.sequence
        header.betweenOperations = point.betweenOperations
        header.boot = session.info.bootIdentity
        header.windows = map.windows
        header.registers = registers
        return SnapshotCapture(header: header, stretches: try recorder.stretches(), pageTables: tables, freePages: freePagesRead, snapshot: snapshot)
    }

    /// Writes the capture to `path` (an existing file only when `force`); a file left half
    /// written by a failure is removed.
    /// - Returns: the regions written.
    @discardableResult
    public func write(to path: String, force: Bool) throws(SessionError) -> [SnapshotRegion] {
        let fd: Int32
        do {
            fd = try OutputFile.open(path, force: force)
        } catch {
            throw .snapshot(.cannotWrite(path: path, reason: "\(error)"))
        }
        defer { close(fd) }
        do {
            return try SnapshotFileWriter.write(header, stretches, to: fd, path: path)
        } catch {
            unlink(path)
            throw .snapshot(error)
        }
    }

    /// Reads every page table reachable from `cr3` (4 levels; not below a large page or a
    /// not-present entry; tables outside `ram` skipped), at most ``maxPageTables``. A table
    /// that cannot be read is left out, but a signal (Ctrl-C) ends the walk: it is not a table
    /// the guest lacks.
    static func recordPageTables(cr3: UInt64, ram: UInt64, _ memory: RecordingMemory) throws -> Int {
        let mask: UInt64 = 0x000F_FFFF_FFFF_F000
        var queue: [(address: UInt64, level: Int)] = [(cr3 & mask, 4)]
        var seen: Set<UInt64> = []
        var read = 0
        var table = [UInt8](repeating: 0, count: 4096)
        while let (address, level) = queue.popLast(), read < maxPageTables {
            guard address < ram, ram - address >= 4096, seen.insert(address).inserted else { continue }
            do {
                try table.withUnsafeMutableBytes { try memory.read(.guestPhysical, at: address, into: $0) }
            } catch {
                if InterruptSignals.isPending { throw error }
                continue
            }
            read += 1
            guard level > 1 else { continue }
            for i in 0..<512 {
                let e = table.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self).littleEndian }
                // present, and not a large page (PS) at the PDPT and PD levels
                guard e & 1 != 0, level == 4 || e & (1 << 7) == 0 else { continue }
                queue.append((e & mask, level - 1))
            }
        }
        return read
    }

    /// Now, as `2026-11-30T06:12:45Z`.
    static func utcNow() -> String {
        var t = time(nil)
        var parts = tm()
        gmtime_r(&t, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        let n = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%SZ", &parts)
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
