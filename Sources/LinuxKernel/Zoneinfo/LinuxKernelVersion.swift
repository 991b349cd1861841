/// The guest kernel's release as `linux_banner` states it (`Linux version 6.1.0-57-amd64 …`):
/// where a printed layout changed with no trace in BTF (a line added to a /proc file), the rule
/// names the version it came from.
public struct LinuxKernelVersion: Sendable, Comparable, CustomStringConvertible {
    public var major: Int
    public var minor: Int

    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }

    /// Parses `Linux version MAJOR.MINOR…`; nil for anything else.
    public init?(banner: String) {
        let prefix = "Linux version "
        guard banner.hasPrefix(prefix) else { return nil }
        let numbers = banner.dropFirst(prefix.count).prefix { $0.isNumber || $0 == "." }.split(separator: ".")
        guard numbers.count >= 2, let major = Int(numbers[0]), let minor = Int(numbers[1]) else { return nil }
        self.init(major: major, minor: minor)
    }

    public var description: String { "\(major).\(minor)" }

    public static func < (a: Self, b: Self) -> Bool { (a.major, a.minor) < (b.major, b.minor) }
}

extension LinuxKernelTarget {
    /// The release from `linux_banner` in guest memory; nil when the symbol is missing or the
    /// text is not a banner.
    public func kernelVersion() -> LinuxKernelVersion? {
        guard let address = symbols.symbol(named: "linux_banner")?.address,
              let text = try? decoder.readCString(at: address, limit: 64) else { return nil }
        return LinuxKernelVersion(banner: text)
    }
}
