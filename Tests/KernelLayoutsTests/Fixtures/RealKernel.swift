import Foundation

/// The real kernel image, `kernel/build/kernel.elf`, built by `make kernel` in this checkout
/// (a no-op when it is up to date), and a variant built from a copy of the kernel sources
/// with two fields of `FrameMeta` swapped.
enum RealKernel {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    static let built: Result<String, Fixtures.FixtureError> = Result { () throws(Fixtures.FixtureError) in
        try Fixtures.run("make", ["-C", repositoryRoot, "kernel"])
        return repositoryRoot + "/kernel/build/kernel.elf"
    }

    /// The path of the kernel ELF, building it first if needed.
    static func path() throws -> String { try built.get() }

    /// The two `FrameMeta` fields the variant swaps (both one byte, next to each other).
    static let swapped = ("migratetype", "zone")

    static let variant: Result<String, Fixtures.FixtureError> = Result { () throws(Fixtures.FixtureError) in
        let dir = try Fixtures.shared.get().directory + "/kernel-variant"
        let fm = FileManager.default
        try? fm.removeItem(atPath: dir)
        do {
            try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try fm.copyItem(atPath: repositoryRoot + "/kernel", toPath: dir + "/kernel")
            try? fm.removeItem(atPath: dir + "/kernel/build")
            let file = dir + "/kernel/mm/FrameMeta.swift"
            var lines = try String(contentsOfFile: file, encoding: .utf8).components(separatedBy: "\n")
            let (a, b) = swapped
            guard let i = lines.firstIndex(where: { $0.contains("public var \(a):") }),
                let j = lines.firstIndex(where: { $0.contains("public var \(b):") })
            else { throw Fixtures.FixtureError(description: "FrameMeta.swift has no fields \(a) and \(b)") }
            lines.swapAt(i, j)
            // The memberwise initialiser takes the fields in declaration order: swap its labels too.
            var text = lines.joined(separator: "\n")
            if let r = text.range(of: #"\#(a): [^,]+, \#(b): [^,]+,"#, options: .regularExpression) {
                let parts = text[r].dropLast().components(separatedBy: ", ")
                text.replaceSubrange(r, with: parts[1] + ", " + parts[0] + ",")
            }
            try text.write(toFile: file, atomically: true, encoding: .utf8)
        } catch let error as Fixtures.FixtureError {
            throw error
        } catch {
            throw Fixtures.FixtureError(description: "cannot prepare the variant kernel in \(dir): \(error)")
        }
        try Fixtures.run("make", ["-C", dir, "-f", repositoryRoot + "/kernel/Makefile.inc", "kernel/build/kernel.elf"])
        return dir + "/kernel/build/kernel.elf"
    }
}
