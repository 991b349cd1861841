/// The register set a stub describes in `target.xml` (fetched with
/// `qXfer:features:read:target.xml:offset,length`), with its `xi:include`s resolved.
///
/// QEMU 7.2's x86_64 description includes `i386-64bit.xml`: 16 general registers, `rip`,
/// `eflags`, six segment selectors, `fs_base`, `gs_base`, `k_gs_base`, `cr0`, `cr2`, `cr3`,
/// `cr4`, `cr8`, `efer`, the x87 and SSE registers and `mxcsr` — 66 registers, 608 bytes in a
/// `g` reply. (The file also holds `cs_base`…`es_base` inside an XML comment; they do not
/// count, which is why comments must be stripped before numbering.)
public struct TargetDescription: Sendable, Equatable {
    /// The `<architecture>`, e.g. `i386:x86-64`.
    public let architecture: String?
    /// Every register, in register-number order.
    public let registers: [RegisterInfo]

    /// Parses `xml`; `fetch(name)` returns the text of an included file.
    public init(xml: String, fetch: (String) throws -> String) throws {
        var architecture: String?
        var registers: [RegisterInfo] = []
        var nextNumber = 0
        // Includes are fetched at most this many times in all: a file that includes itself
        // (or two that include each other) must not grow the work exponentially with depth.
        var fetchesLeft = Self.maximumIncludes
        func walk(_ text: String, depth: Int) throws {
            let body = Self.stripComments(text)
            var feature = ""
            var rest = body[...]
            while let open = rest.firstIndex(of: "<") {
                guard let close = rest[open...].firstIndex(of: ">") else { break }
                let tag = rest[rest.index(after: open)..<close]
                rest = rest[rest.index(after: close)...]
                if tag.hasPrefix("reg ") || tag.hasPrefix("reg\t") || tag.hasPrefix("reg\n") {
                    let a = Self.attributes(tag)
                    // Sizes and numbers are bounded: the stub's text must not make them trap.
                    guard let name = a["name"], let bits = a["bitsize"].flatMap({ Int($0) }),
                          bits >= 0, bits <= Self.maximumBits else { continue }
                    if let n = a["regnum"].flatMap({ Int($0) }) {
                        guard n >= 0, n <= Self.maximumRegisterNumber else { continue }
                        nextNumber = n
                    }
                    guard nextNumber <= Self.maximumRegisterNumber else { continue }
                    registers.append(RegisterInfo(name: name, number: nextNumber, bitSize: bits,
                                                  type: a["type"] ?? "", feature: feature))
                    nextNumber += 1
                } else if tag.hasPrefix("feature ") {
                    feature = Self.attributes(tag)["name"] ?? ""
                } else if tag.hasPrefix("xi:include ") || tag.hasPrefix("include ") {
                    guard depth < 8, fetchesLeft > 0, let href = Self.attributes(tag)["href"] else { continue }
                    fetchesLeft -= 1
                    try walk(try fetch(href), depth: depth + 1)
                } else if tag == "architecture", let end = rest.firstIndex(of: "<") {
                    architecture = String(rest[..<end]).trimmingWhitespace()
                }
            }
        }
        try walk(xml, depth: 0)
        self.architecture = architecture
        self.registers = registers.sorted { $0.number < $1.number }
    }

    /// Most `xi:include` files fetched for one description (QEMU's x86_64 needs one).
    public static let maximumIncludes = 32

    /// The largest register number accepted (gdb's own limit is far below).
    public static let maximumRegisterNumber = 1 << 16
    /// The largest register size accepted, in bits (AVX-512's are 512).
    public static let maximumBits = 1 << 16

    /// Makes a description from a known register list.
    public init(architecture: String?, registers: [RegisterInfo]) {
        self.architecture = architecture
        self.registers = registers
    }

    /// The register called `name`, if any.
    public func register(named name: String) -> RegisterInfo? {
        registers.first { $0.name == name }
    }

    static func stripComments(_ text: String) -> String {
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        let open = Array("<!--".utf8), close = Array("-->".utf8)
        func matches(_ pattern: [UInt8], at index: Int) -> Bool {
            index + pattern.count <= bytes.count && Array(bytes[index..<(index + pattern.count)]) == pattern
        }
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "<"), matches(open, at: i) {
                i += open.count
                while i < bytes.count, !matches(close, at: i) { i += 1 }
                i += close.count
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func attributes(_ tag: Substring) -> [String: String] {
        var result: [String: String] = [:]
        var rest = tag
        while let eq = rest.firstIndex(of: "=") {
            let key = rest[..<eq].split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).last
            var after = rest[rest.index(after: eq)...]
            guard let quote = after.first, quote == "\"" || quote == "'" else { break }
            after = after.dropFirst()
            guard let endQuote = after.firstIndex(of: quote) else { break }
            if let key { result[String(key)] = String(after[..<endQuote]) }
            rest = after[after.index(after: endQuote)...]
        }
        return result
    }
}

extension String {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        return String(scalars[first...last])
    }
}
