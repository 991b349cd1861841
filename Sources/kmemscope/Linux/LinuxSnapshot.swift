import ArgumentParser
import Foundation
import KernelLayouts
import KernelSession
import LinuxKernel

/// `snapshot --kernel linux -o FILE`: every byte the Linux views and `verify` read — BTF, each
/// node's zones and free lists, the pageblock flags, zoneinfo's counters, SLUB's caches and
/// slabs, the per-CPU lists, and what `kmem` and `vtop` read for any address (the page tables
/// reachable from CR3, every `struct page`, each slab's lookup) — recorded while the settled guest is read once, and written as a
/// snapshot file (docs/snapshot-format.md, format 1) whose header says `kernel: linux`. The
/// views and verify then run on it with `--snapshot FILE --kernel linux --symbols SAME`, and
/// `diff --kernel linux` compares two.
enum LinuxSnapshot {
    /// What was written: the summary line.
    static func take(_ profile: KernelProfileOptions, _ stub: TargetOptions, _ settling: SettleOptions, in context: CommandContext,
                     output: String, force: Bool) throws -> String {
        let (header, nodes) = try LinuxAttach.run(profile, stub, in: context, settling: settling, recording: true) { linux, registers in
            // read once what every view and verify read
            let nodes = try linux.nodes().ids
            for id in nodes {
                let state = try linux.decodeBuddy(node: id)
                _ = try? linux.pageblockCounts(state)
            }
            _ = try linux.zoneinfoView()
            _ = try? linux.decodeSlub()
            _ = try LinuxVerifier.verify(linux, nodes: nodes)
            _ = try? LinuxInfo(linux)
            // and what kmem and vtop read for any address: page tables, struct pages, slab lookups
            let lookups = linux.readForAddressLookups(cr3: try registers("cr3"), state: try linux.decodeBuddy())
            if !lookups.tablesComplete {
                StandardError.write("kmemscope: note: the page tables from CR3 hold more than \(LinuxAddressLookups.tablePageLimit) tables: "
                                    + "the snapshot keeps the first \(lookups.tablePages); vtop or kmem of an address beyond them exits 2 on it")
            }
            var header = SnapshotHeader()
            header.tool = KmemscopeVersion.string
            header.taken = ISO8601DateFormatter().string(from: Date())
            header.target = stub.vmcore.map { "vmcore " + $0 } ?? stub.target
            header.source = stub.vmcore == nil ? context.linuxRead.source.description : "the vmcore"
            header.betweenOperations = true
            // Linux's GNU build-id note is not read: the header names the build by its banner's
            // FNV-1a hash (the symbols given later must find the same banner: KASLR.offset)
            header.buildID = buildID(linux)
            header.registers = ["cr0", "cr3", "cr4", "rip"].compactMap { name in (try? registers(name)).map { (name, $0) } }
            header.other = [("kernel", "linux"), ("release", linux.kernelVersion()?.description ?? "?"),
                            ("kaslr-offset", "0x" + String(linux.kaslrOffset, radix: 16)), ("symbols", profile.symbols ?? ""),
                            ("nodes", nodes.map(String.init).joined(separator: " ")),
                            ("address-lookups", "\(lookups.tablePages) page tables, \(lookups.structPages) struct pages, \(lookups.slabs) slabs")]
            return (header, nodes)
        }
        guard let recorder = context.linuxRead.recorder else { throw SessionError.other("nothing was recorded") }
        // the recorded reads are all copies: nothing is read again after the guest was let go
        let stretches = try recorder.stretches()
        let fd: Int32
        do { fd = try OutputFile.open(output, force: force) } catch {
            throw SessionError.snapshot(.cannotWrite(path: output, reason: "\(error)"))
        }
        defer { close(fd) }
        let regions: [SnapshotRegion]
        do { regions = try SnapshotFileWriter.write(header, stretches, to: fd, path: output) } catch {
            unlink(output)
            throw SessionError.snapshot(error)
        }
        let bytes = regions.reduce(UInt64(0)) { $0 + $1.length }
        return "snapshot \(output): Linux \(header.other.first { $0.key == "release" }?.value ?? "?"), node\(nodes.count == 1 ? "" : "s") "
            + nodes.map(String.init).joined(separator: ", ") + ", \(regions.count) regions, "
            + String(format: "%.1f MiB of guest memory", Double(bytes) / 1048576) + ", read from \(header.source)"
    }
}

extension LinuxSnapshot {
    /// A Linux build's name in a snapshot's header (and for `diff`): `linux-banner-` and the
    /// FNV-1a hash of `linux_banner` (Linux's GNU build-id note is not read).
    static func buildID(_ linux: LinuxKernelTarget) -> String {
        let banner = linux.symbols.symbol(named: "linux_banner").flatMap { try? linux.decoder.readCString(at: $0.address, limit: 256) } ?? ""
        return "linux-banner-" + String(banner.utf8.reduce(UInt64(0xcbf2_9ce4_8422_2325)) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }, radix: 16)
    }

    /// `kmem` and `vtop` on a Linux snapshot: one taken before snapshots recorded what they read
    /// (no `address-lookups` in its header) is refused in one line, exit 2.
    static func requireAddressLookups(_ stub: TargetOptions) throws {
        guard let path = stub.snapshot, let file = try? SnapshotFile(path: path),
              file.header.other.contains(where: { $0.key == "kernel" && $0.value == "linux" }),
              !file.header.other.contains(where: { $0.key == "address-lookups" }) else { return }
        StandardError.write("kmemscope: \(path) was taken by a kmemscope that did not record the page tables and struct pages kmem and vtop read: "
                            + "take it again with this one (snapshot --kernel linux)")
        throw ExitCode(2)
    }
}
