/// What the stub said about itself in its `qSupported` reply.
///
/// QEMU 7.2 answers `PacketSize=1000;qXfer:features:read+;vContSupported+;multiprocess+`.
public struct StubFeatures: Sendable, Equatable {
    /// The largest packet the stub accepts, in bytes (`PacketSize=` is hex). `nil` if not said.
    public let packetSize: Int?
    /// Features the stub supports (`name+`).
    public let supported: Set<String>
    /// Features with a value (`name=value`).
    public let values: [String: String]
    /// The reply as it arrived.
    public let raw: String

    /// Parses a `qSupported` reply.
    public init(reply: [UInt8]) {
        raw = String(decoding: reply, as: UTF8.self)
        var supported = Set<String>()
        var values: [String: String] = [:]
        for item in raw.split(separator: ";") {
            if let eq = item.firstIndex(of: "=") {
                values[String(item[..<eq])] = String(item[item.index(after: eq)...])
            } else if item.hasSuffix("+") {
                supported.insert(String(item.dropLast()))
            }
        }
        self.supported = supported
        self.values = values
        // A size past Int's range (a broken or hostile stub) counts as not said.
        self.packetSize = values["PacketSize"].flatMap { Hex.number($0) }.flatMap { Int(exactly: $0) }
    }

    /// True if the stub listed `feature+`.
    public func supports(_ feature: String) -> Bool { supported.contains(feature) }
}
