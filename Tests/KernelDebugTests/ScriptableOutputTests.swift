import Foundation
import Testing

/// What scripts rely on, against the real kernel: `--json` documents that parse and say what
/// docs/json.md says, exit statuses 0/1/2, `report` writing its page once (and again only with
/// --force), `--version` and shell completions.
@Suite("Scriptable output")
struct ScriptableOutputTests {
    @Test func jsonExitCodesAndReport() throws {
        let boot = try DebugBoot(append: "seed=5 ops=3000 phases=2")
        defer { boot.stop() }
        try boot.runUntil(["kmem: done"])
        let target = ["--target", "unix:" + boot.socket, "--elf", DebugBoot.kernel]
        func json(_ args: [String]) throws -> [String: Any] {
            let r = try InfoCommandTests.kmemscope(args + ["--json"] + target)
            let object = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any]
            return try #require(object, "\(args): \(r.out) \(r.err)")
        }
        let verify = try json(["verify", "--replay"])
        #expect(verify["schemaVersion"] as? Int == 1 && verify["passed"] as? Bool == true)
        #expect((verify["sequence"] as? Int ?? 0) > 3000)
        let checks = try #require(verify["checks"] as? [[String: Any]])
        #expect(checks.count == 20 && checks.allSatisfy { $0["passed"] as? Bool == true && $0["name"] is String })
        #expect((verify["replay"] as? [String: Any])?["finalStateAgrees"] as? Bool == true)

        let log = try json(["log", "--last", "50"])
        let entries = try #require(log["entries"] as? [[String: Any]])
        #expect(entries.count == 50)
        #expect(entries.allSatisfy { ($0["address"] as? String)?.hasPrefix("0x") == true && $0["kind"] is String && $0["status"] is String })

        let zones = try json(["zones"])
        let zoneList = try #require(zones["zones"] as? [[String: Any]])
        #expect(zoneList.map { $0["name"] as? String } == ["DMA", "DMA32", "Normal"])
        #expect((zoneList[1]["startPFN"] as? String) == "0x1000")

        // report: written once, refused the second time (exit 2), overwritten with --force.
        let page = boot.directory + "/report.html"
        let first = try InfoCommandTests.kmemscope(["report", "-o", page] + target)
        #expect(first.status == 0 && first.out.contains("report: \(page)"), "\(first.out) \(first.err)")
        let html = try String(contentsOfFile: page, encoding: .utf8)
        #expect(html.hasPrefix("<!DOCTYPE html>") && html.contains("<canvas id=\"map\"") && !html.contains("https://"))
        let again = try InfoCommandTests.kmemscope(["report", "-o", page] + target)
        #expect(again.status == 2 && again.err.contains("--force"), "\(again.err)")
        let forced = try InfoCommandTests.kmemscope(["report", "-o", page, "--force"] + target)
        #expect(forced.status == 0, "\(forced.err)")

        // dump: the same rule (never overwrites without --force).
        let bin = boot.directory + "/frame-meta.bin"
        let dump = try InfoCommandTests.kmemscope(["dump", "frame-meta", "-o", bin] + target)
        #expect(dump.status == 0, "\(dump.err)")
        let dumpAgain = try InfoCommandTests.kmemscope(["dump", "frame-meta", "-o", bin] + target)
        #expect(dumpAgain.status == 2 && dumpAgain.err.contains("--force"), "\(dumpAgain.err)")
        #expect(try InfoCommandTests.kmemscope(["dump", "frame-meta", "-o", bin, "--force"] + target).status == 0)

        // A refused connection: 2 and one line that says what to do.
        let refused = try InfoCommandTests.kmemscope(["verify", "--target", "unix:" + boot.directory + "/nothing.sock", "--elf", DebugBoot.kernel])
        #expect(refused.status == 2, "\(refused.err)")
    }

    @Test func versionAndCompletions() throws {
        let version = try InfoCommandTests.kmemscope(["--version"])
        #expect(version.status == 0 && version.out.hasPrefix("kmemscope "), "\(version.out)")
        let bash = try InfoCommandTests.kmemscope(["--generate-completion-script", "bash"])
        #expect(bash.status == 0 && bash.out.contains("verify") && bash.out.contains("report"), "\(bash.err)")
    }
}
