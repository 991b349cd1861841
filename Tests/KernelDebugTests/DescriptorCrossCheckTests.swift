import Foundation
import GDBRemote
import KernelLayouts
import KernelSession
import Testing

/// issue 22: no value the guest's `kmem_info` publishes is trusted beyond what the ELF
/// confirms. On one real guest, every published field in turn is rewritten in guest memory
/// (through the stub) to another plausible value and to an absurd one; each is refused naming
/// the field, and the bytes are put back before the next case.
@Suite("kmem_info cross-checked against the ELF", .serialized)
struct DescriptorCrossCheckTests {
    /// `value` changed to another value of the same kind (a count one more, an address 8 on).
    static func plausible(_ key: String, _ value: String) -> String {
        if key == "BUILD-ID" { return String(value.dropLast()) + (value.last == "0" ? "1" : "0") }
        if value.hasPrefix("0x"), let v = UInt64(value.dropFirst(2), radix: 16) {
            return "0x" + String(v >= 0x1000 ? v &+ 8 : v &+ 1, radix: 16)
        }
        return String((UInt64(value) ?? 0) &+ 1)
    }

    /// `value` changed to one no kernel could publish.
    static func absurd(_ key: String, _ value: String) -> String {
        if key == "BUILD-ID" { return "0123" }
        if value.hasPrefix("0x") { return value == "0xffffffffffffffff" ? "0x0" : "0xffffffffffffffff" }
        return value == "18446744073709551615" ? "0" : "18446744073709551615"
    }

    /// The descriptor's header and text with `key`'s value replaced.
    static func rewritten(_ info: KernelInfo, _ key: String, to value: String) -> [UInt8] {
        let text = info.entries.map { "\($0.key)=\($0.key == key ? value : $0.value)" }.joined(separator: "\n") + "\n"
        let size = UInt32(text.utf8.count)
        return (0..<4).map { UInt8(truncatingIfNeeded: size >> (8 * $0)) } + Array(text.utf8)
    }

    @Test func everyFieldIsRefusedWhenTheGuestCopyIsChanged() throws {
        let boot = try DebugBoot(append: "seed=1 ops=2000 phases=2")
        defer { boot.stop() }
        try boot.stopAt(sequence: 1500)
        let kernel = try KernelImage(path: DebugBoot.kernel)
        let descriptor = try kernel.symbol("kmem_info").address.rawValue
        let target = try boot.reconnect()
        let memory = StubMemory(target: target)
        let info = try KernelInfo.read(from: memory, at: descriptor)
        // The published size is at +12, the text at +16; keep enough to undo a longer text.
        let original = try memory.read(at: descriptor, count: 16 + info.entries.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count + 2 } + 64)
        // The unchanged descriptor passes, and every key it publishes has a rule.
        let clean = try DescriptorCrossCheck(info: info, kernel: kernel, memory: memory)
        #expect(clean.unknown.isEmpty, "kmem_info keys with no line in DescriptorFields.table: \(clean.unknown)")
        #expect(clean.skipped.isEmpty, "\(clean.skipped)")
        #expect(clean.checked.count == Set(info.entries.map(\.key)).count)
        #expect(info.entries.count > 100)
        // the fields added since the table began are among those iterated: the boot identity
        // (run time only, published, never checked) and the BUG record's
        for key in ["BOOT_ID", "CMDLINE_HASH", "SEED", "BUG", "BUG_HALT", "BUG_MAGIC", "SIZE(BugRecord)"] {
            #expect(info[key] != nil, "kmem_info does not publish \(key)")
        }

        var refused = 0, expected = 0
        for (key, value) in info.entries {
            // A run-time-only field (a boot identity) is published for the user, never checked.
            if DescriptorFields.rules(for: key) == [.runTimeOnly] { continue }
            for changed in [Self.plausible(key, value), Self.absurd(key, value)] where changed != value {
                expected += 1
                try target.writeMemory(at: descriptor + 12, bytes: Self.rewritten(info, key, to: changed))
                defer { try? target.writeMemory(at: descriptor, bytes: original) }
                let seen = try KernelInfo.read(from: memory, at: descriptor)
                #expect(seen[key] == changed)
                do {
                    _ = try DescriptorCrossCheck(info: seen, kernel: kernel, memory: memory)
                    Issue.record("kmem_info \(key)=\(changed) (was \(value)) was accepted")
                } catch let KernelInfoError.crossCheck(field, published, _, _, source) {
                    #expect(field == key, "\(key)=\(changed) was refused as \(field) (\(source))")
                    #expect(published == changed)
                    refused += 1
                } catch {
                    Issue.record("kmem_info \(key)=\(changed): \(error), not a cross-check refusal")
                }
            }
        }
        #expect(refused == expected && expected >= 2 * 150)
        let runTimeOnly = info.entries.filter { DescriptorFields.rules(for: $0.key) == [.runTimeOnly] }.count
        print("kmem_info: \(info.entries.count) keys, \(info.entries.count - runTimeOnly) cross-checked, \(runTimeOnly) run time only; \(refused) of \(expected) changes refused")
        // Put back: the guest's own descriptor passes again.
        #expect(try memory.read(at: descriptor, count: original.count) == original)
        _ = try DescriptorCrossCheck(info: try KernelInfo.read(from: memory, at: descriptor), kernel: kernel, memory: memory)

        // The command line refuses before decoding: exit 2, one line naming the field, no output.
        target.close()
        for key in ["PAGE_SIZE", "OFFSET(FrameMeta.order)", "SEGMENT_COUNT", "ZONES", "FRAME_COUNT", "FLAG(free)"] {
            let value = try #require(info[key])
            for changed in [Self.plausible(key, value), Self.absurd(key, value)] {
                let writer = try boot.reconnect()
                try writer.writeMemory(at: descriptor + 12, bytes: Self.rewritten(info, key, to: changed))
                writer.close()
                let r = try InfoCommandTests.kmemscope(["zones", "--target", "unix:" + boot.socket, "--elf", DebugBoot.kernel])
                let again = try boot.reconnect()
                try again.writeMemory(at: descriptor, bytes: original)
                again.close()
                #expect(r.status == 2, "zones with \(key)=\(changed): exit \(r.status), \(r.err)")
                #expect(r.out.isEmpty, "zones decoded with \(key)=\(changed): \(r.out.prefix(200))")
                #expect(r.err.contains("kmem_info \(key)=\(changed) "), "\(r.err)")
                #expect(r.err.split(separator: "\n").count == 1, "\(r.err)")
            }
        }
    }
}
