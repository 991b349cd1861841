import Foundation

/// Builds the test images once per test run, in a temporary directory, with the host
/// toolchain: Embedded Swift objects compiled with the kernel's flags plus `-g`, a C object
/// from clang, linked by ld.lld with a higher-half linker script and a GNU build-id; then
/// the broken copies the error tests need.
struct Fixtures: Sendable {
    /// Module Fix (FixtureTypes.swift + entry), module Other, and czone.c.
    let image: String
    /// The same with FixtureFrame's `order` and `link` fields swapped in the source.
    let reorderedImage: String
    /// `llvm-objcopy --strip-debug` of `image`.
    let strippedDebug: String
    /// `llvm-objcopy --strip-all` of `image`: no symbol table, no DWARF.
    let strippedAll: String
    /// `image` without the symbol of the global `fixtureZone` (`--strip-symbol`).
    let withoutZoneSymbol: String
    /// The first half of `image`.
    let truncated: String
    /// A text file.
    let notELF: String
    /// An aarch64 ELF object.
    let aarch64: String
    /// `struct c_zone`'s true offsets and size, printed by a host program using `offsetof`.
    let cZoneOffsets: [String: UInt64]
    /// `enum c_state`'s values as the C compiler sees them.
    let cStateValues: [String: Int64]
    let directory: String

    static let shared: Result<Fixtures, FixtureError> = Result { () throws(FixtureError) in try build() }

    /// The fixtures, or the build failure as a test failure.
    static func get() throws -> Fixtures { try shared.get() }

    struct FixtureError: Error, CustomStringConvertible {
        let description: String
    }

    static let sourceDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("ImageSources").path
    static let typesFile = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("FixtureTypes.swift").path

    /// The flags from FACTS.md the kernel is built with, plus `-g` and no clang breadcrumbs.
    static let embeddedFlags = [
        "-enable-experimental-feature", "Embedded", "-wmo", "-parse-as-library", "-Osize", "-g",
        "-Xfrontend", "-disable-stack-protector", "-Xfrontend", "-function-sections",
        "-Xfrontend", "-no-clang-module-breadcrumbs",
        "-Xcc", "-mno-red-zone", "-Xcc", "-fno-pic", "-Xcc", "-mcmodel=kernel",
    ]

    private static func build() throws(FixtureError) -> Fixtures {
        let tmp = FileManager.default.temporaryDirectory
        // Fixtures of earlier runs whose process is gone.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: tmp.path)) ?? []
        where name.hasPrefix("kmemscope-layouts-") {
            if let pid = Int32(name.dropFirst("kmemscope-layouts-".count)), pid != getpid(), kill(pid, 0) != 0 {
                try? FileManager.default.removeItem(atPath: tmp.appendingPathComponent(name).path)
            }
        }
        let dir = tmp.appendingPathComponent("kmemscope-layouts-\(getpid())").path
        try? FileManager.default.removeItem(atPath: dir)
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        } catch {
            throw FixtureError(description: "cannot create \(dir): \(error)")
        }
        func p(_ name: String) -> String { dir + "/" + name }
        let src = sourceDirectory

        let types = try read(typesFile)
        try write(types, to: p("FixtureTypes.swift"))
        try write(swapReorderLines(types), to: p("FixtureTypesReordered.swift"))
        let entry = try read(src + "/Entry.swift.in")
        try write(entry.replacingOccurrences(
            of: "@FRAME_ORDER_LINK@", with: "order: 2, link: FixtureLink(next: 3, prev: 4)"), to: p("Entry.swift"))
        try write(entry.replacingOccurrences(
            of: "@FRAME_ORDER_LINK@", with: "link: FixtureLink(next: 3, prev: 4), order: 2"), to: p("EntryReordered.swift"))

        let x86 = ["-target", "x86_64-unknown-none-elf"]
        try run("swiftc", x86 + embeddedFlags + ["-module-name", "Fix", "-c", p("FixtureTypes.swift"), p("Entry.swift"), "-o", p("fix.o")])
        try run("swiftc", x86 + embeddedFlags + ["-module-name", "Fix", "-c", p("FixtureTypesReordered.swift"), p("EntryReordered.swift"), "-o", p("fix-reordered.o")])
        try run("swiftc", x86 + embeddedFlags + ["-module-name", "Other", "-c", src + "/Other.swift", "-o", p("other.o")])
        try run("clang", ["-target", "x86_64-unknown-none-elf", "-g", "-O1", "-ffreestanding", "-mcmodel=kernel",
                          "-mno-red-zone", "-fno-pic", "-c", src + "/czone.c", "-o", p("czone.o")])
        try run("clang", ["-target", "x86_64-unknown-none-elf", "-O1", "-ffreestanding", "-mcmodel=kernel",
                          "-mno-red-zone", "-fno-pic", "-c", src + "/stubs.c", "-o", p("stubs.o")])
        let link = ["-T", src + "/fixture.ld", "-static", "--gc-sections", "--build-id=sha1", "-z", "max-page-size=4096",
                    "-u", "other_touch", "-u", "c_touch", p("other.o"), p("czone.o"), p("stubs.o")]
        try run("ld.lld", link + [p("fix.o"), "-o", p("fixture.elf")])
        try run("ld.lld", link + [p("fix-reordered.o"), "-o", p("fixture-reordered.elf")])

        try run("llvm-objcopy", ["--strip-debug", p("fixture.elf"), p("fixture-nodebug.elf")])
        try run("llvm-objcopy", ["--strip-all", p("fixture.elf"), p("fixture-stripped.elf")])
        let zoneSymbol = try run("llvm-nm", [p("fixture.elf")]).split(separator: "\n")
            .compactMap { $0.split(separator: " ").last.map(String.init) }
            .first { $0.contains("11fixtureZone") && $0.hasSuffix("vp") } ?? "fixtureZone"
        try run("llvm-objcopy", ["--strip-symbol=" + zoneSymbol, p("fixture.elf"), p("fixture-nozone.elf")])
        let bytes = FileManager.default.contents(atPath: p("fixture.elf")) ?? Data()
        guard FileManager.default.createFile(atPath: p("fixture-truncated.elf"), contents: bytes.prefix(bytes.count / 2)),
            FileManager.default.createFile(atPath: p("notes.txt"), contents: Data("just some text, not an ELF\n".utf8))
        else { throw FixtureError(description: "cannot write fixtures in \(dir)") }

        try run("swiftc", ["-target", "aarch64-none-none-elf"] + embeddedFlags.filter { !$0.hasPrefix("-m") && $0 != "-Xcc" && $0 != "-fno-pic" }
                + ["-module-name", "Arm", "-c", src + "/Arm.swift", "-o", p("arm.o")])

        try run("clang", ["-O0", "-I", src, src + "/czone_offsets.c", "-o", p("czone_offsets")])
        var offsets: [String: UInt64] = [:]
        var values: [String: Int64] = [:]
        for line in try run(p("czone_offsets"), []).split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let v = UInt64(parts[1]) { offsets[String(parts[0])] = v }
            if parts.count == 3, parts[0] == "enum", let v = Int64(parts[2]) { values[String(parts[1])] = v }
        }

        return Fixtures(
            image: p("fixture.elf"), reorderedImage: p("fixture-reordered.elf"), strippedDebug: p("fixture-nodebug.elf"),
            strippedAll: p("fixture-stripped.elf"), withoutZoneSymbol: p("fixture-nozone.elf"),
            truncated: p("fixture-truncated.elf"), notELF: p("notes.txt"), aarch64: p("arm.o"),
            cZoneOffsets: offsets, cStateValues: values, directory: dir)
    }

    /// Swaps the lines marked `// reorder-A` and `// reorder-B` inside `struct FixtureFrame`.
    static func swapReorderLines(_ text: String) -> String {
        var lines = text.components(separatedBy: "\n")
        guard let start = lines.firstIndex(where: { $0.hasPrefix("public struct FixtureFrame {") }),
            let a = lines[start...].firstIndex(where: { $0.contains("// reorder-A") }),
            let b = lines[start...].firstIndex(where: { $0.contains("// reorder-B") })
        else { return text }
        lines.swapAt(a, b)
        return lines.joined(separator: "\n")
    }

    /// Runs a tool from the toolchain (PATH, then /opt/swift/usr/bin) and returns its output.
    @discardableResult
    static func run(_ tool: String, _ arguments: [String]) throws(FixtureError) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: locate(tool))
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = "/opt/swift/usr/bin:" + (environment["PATH"] ?? "/usr/bin:/bin")
        process.environment = environment
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        do {
            try process.run()
        } catch {
            throw FixtureError(description: "cannot run \(tool): \(error)")
        }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw FixtureError(description: "\(tool) \(arguments.joined(separator: " ")) failed:\n\(text)")
        }
        return text
    }

    static func locate(_ tool: String) -> String {
        if tool.hasPrefix("/") { return tool }
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        for dir in ["/opt/swift/usr/bin"] + path {
            let candidate = dir + "/" + tool
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return "/usr/bin/" + tool
    }

    private static func read(_ path: String) throws(FixtureError) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FixtureError(description: "cannot read \(path)")
        }
        return String(decoding: data, as: UTF8.self)
    }

    private static func write(_ text: String, to path: String) throws(FixtureError) {
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8)) else {
            throw FixtureError(description: "cannot write \(path)")
        }
    }
}
