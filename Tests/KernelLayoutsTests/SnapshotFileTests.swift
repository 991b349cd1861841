import Foundation
import Glibc
import KernelLayouts
import Testing

/// The snapshot file on its own (no guest): what a `RecordingMemory` saw is written, read back
/// byte for byte through `SnapshotMemory` (kernel-virtual reads through the stored windows),
/// and every kind of damage is refused with an error that names it.
@Suite("snapshot files")
struct SnapshotFileTests {
    /// A guest whose physical byte at `a` is `a % 251` (kernel-virtual via the direct map).
    struct PatternMemory: GuestMemory {
        static let directMap: UInt64 = 0xffff_8880_0000_0000
        func read(at address: UInt64, count: Int) throws -> [UInt8] {
            try read(.kernelVirtual, at: address, count: count)
        }
        func read(_ space: AddressSpace, at address: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws {
            let physical = space == .guestPhysical ? address : address &- Self.directMap
            for i in 0..<buffer.count { buffer[i] = UInt8((physical &+ UInt64(i)) % 251) }
        }
    }

    static let map = KernelAddressMap(windows: [.init(virtualStart: PatternMemory.directMap, size: 1 << 40, physicalStart: 0)])

    static func header() -> SnapshotHeader {
        var h = SnapshotHeader()
        h.tool = "kmemscope test"
        h.taken = "2026-11-30T00:00:00Z"
        h.buildID = "00112233"
        h.elf = "/tmp/kernel.elf"
        h.descriptor = 0xffff_ffff_8010_0000
        h.sequence = 42
        h.betweenOperations = true
        h.windows = map.windows
        h.registers = [("cr3", 0x1000), ("rip", 0xffff_ffff_8000_1234)]
        return h
    }

    /// Writes what `reads` recorded to a new temporary file and returns its path.
    static func write(_ reads: (RecordingMemory) throws -> Void) throws -> String {
        let recorder = RecordingMemory(PatternMemory(), addressMap: map)
        try reads(recorder)
        let path = NSTemporaryDirectory() + "snapshot-test-\(getpid())-\(UInt32.random(in: 0 ... .max)).snap"
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        try #require(fd >= 0)
        defer { close(fd) }
        try SnapshotFileWriter.write(header(), try recorder.stretches(), to: fd, path: path)
        return path
    }

    static func patch(_ path: String, at offset: Int, _ bytes: [UInt8]) {
        let fd = open(path, O_WRONLY)
        defer { close(fd) }
        _ = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(offset)) }
    }

    @Test func whatWasReadIsReadBackAndNothingElse() throws {
        let path = try Self.write { r in
            _ = try r.read(at: PatternMemory.directMap + 0x1000, count: 100)           // virtual, stored as physical 0x1000
            _ = try r.read(.guestPhysical, at: 0x1050, count: 200)                      // overlaps it: merged
            _ = try r.read(.guestPhysical, at: 0x9000, count: 4096)
            _ = try r.read(at: 0x10, count: 8)                                          // no window: kept virtual
        }
        defer { unlink(path) }
        let file = try SnapshotFile(path: path)
        #expect(file.header == Self.header())
        #expect(file.header.register("cr3") == 0x1000)
        #expect(file.regions.map(\.space) == [.kernelVirtual, .guestPhysical, .guestPhysical])
        #expect(file.regions[1].address == 0x1000 && file.regions[1].length == 0x118)
        let m = file.memory
        let live = PatternMemory()
        #expect(try m.read(.guestPhysical, at: 0x1010, count: 0x100) == live.read(.guestPhysical, at: 0x1010, count: 0x100))
        #expect(try m.read(at: PatternMemory.directMap + 0x9100, count: 64) == live.read(.guestPhysical, at: 0x9100, count: 64))
        #expect(try m.read(at: 0x10, count: 8) == live.read(at: 0x10, count: 8))
        #expect(try m.readU64(at: PatternMemory.directMap + 0x1000) == live.readU64(at: PatternMemory.directMap + 0x1000))
        // one byte past what was read is refused, naming the address
        #expect(throws: SnapshotFileError.notHeld(path: path, space: .guestPhysical, address: 0x1110, count: 9)) {
            try m.read(.guestPhysical, at: 0x1110, count: 9)
        }
        #expect(throws: SnapshotFileError.self) { try m.read(.guestPhysical, at: 0x2000, count: 1) }
    }

    @Test func damageIsNamed() throws {
        let path = try Self.write { r in _ = try r.read(.guestPhysical, at: 0x4000, count: 8192) }
        defer { unlink(path) }
        let good = try #require(FileManager.default.contents(atPath: path))
        let dataAt = Int(try SnapshotFile(path: path).regions[0].offset)
        func reopen(_ change: (String) -> Void) -> String {
            _ = FileManager.default.createFile(atPath: path, contents: good)
            change(path)
            do {
                _ = try SnapshotFile(path: path)
                return "opened"
            } catch {
                return "\(error)"
            }
        }
        #expect(reopen { _ in } == "opened")
        #expect(reopen { Self.patch($0, at: 0, Array("KMEMSNAQ".utf8)) }.contains("not a kmemscope snapshot"))
        #expect(reopen { Self.patch($0, at: 8, [2, 0, 0, 0]) }.contains("format 2, written by a newer kmemscope"))
        #expect(reopen { Self.patch($0, at: 12, [0xff, 0xff, 0xff, 0x7f]) }.contains("header claims"))
        #expect(reopen { Self.patch($0, at: 16, [0xff, 0xff, 0xff, 0x7f]) }.contains("regions (at most"))
        #expect(reopen { truncate($0, off_t(good.count - 1)) }.contains("lies outside the file"))
        #expect(reopen { truncate($0, 30) }.contains("inside its header or region table"))
        #expect(reopen { truncate($0, 4) }.contains("not a kmemscope snapshot"))
        #expect(reopen { Self.patch($0, at: dataAt + 77, [0xee]) }.contains("fails its CRC-32"))
        #expect(reopen { Self.patch($0, at: SnapshotFormat.prefixSize, Array("xormat".utf8)) }.contains("no `format: kmemscope snapshot N` line"))
    }

    @Test func regionTablesThatLieAreRefused() throws {
        let path = try Self.write { r in
            _ = try r.read(.guestPhysical, at: 0x4000, count: 100)
            _ = try r.read(.guestPhysical, at: 0x8000, count: 100)
        }
        defer { unlink(path) }
        let file = try SnapshotFile(path: path)
        let textSize = Int(file.header.text.utf8.count)
        let table = (SnapshotFormat.prefixSize + textSize + 7) / 8 * 8
        // the second region moved onto the first: overlapping
        var address = UInt64(0x4010).littleEndian
        Self.patch(path, at: table + SnapshotFormat.regionEntrySize + 8, withUnsafeBytes(of: &address) { Array($0) })
        #expect(throws: SnapshotFileError.self) { _ = try SnapshotFile(path: path) }
        do {
            _ = try SnapshotFile(path: path)
        } catch {
            #expect("\(error)".contains("overlaps or precedes region 0"))
        }
        // an address space that does not exist
        Self.patch(path, at: table, [7, 0, 0, 0])
        do {
            _ = try SnapshotFile(path: path)
            Issue.record("opened a table naming address space 7")
        } catch {
            #expect("\(error)".contains("names address space 7"))
        }
    }
}
