import GDBRemote

/// libFuzzer target: the target.xml parser. The input is split at NUL bytes into the main
/// document and the files it may include (`xi:include href` picks one by a hash of its name).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard size > 0, let data else { return 0 }
    let parts = UnsafeBufferPointer(start: data, count: size).split(separator: 0, omittingEmptySubsequences: false)
        .map { String(decoding: $0, as: UTF8.self) }
    struct Missing: Error {}
    guard let description = try? TargetDescription(xml: parts[0], fetch: { name in
        guard parts.count > 1 else { throw Missing() }
        return parts[1 + Int(name.utf8.reduce(0, { $0 &+ UInt32($1) }) % UInt32(parts.count - 1))]
    }) else { return 0 }
    _ = description.register(named: "rip")
    // Register values cut from the last part by the description's sizes (as a `g` reply is).
    let g = Array(parts[parts.count - 1].utf8)
    var raw: [Int: [UInt8]] = [:]
    var offset = 0
    for reg in description.registers where reg.byteSize >= 0 && reg.byteSize <= g.count - offset {
        raw[reg.number] = Array(g[offset..<(offset + reg.byteSize)])
        offset += reg.byteSize
    }
    let values = RegisterValues(description: description, raw: raw)
    for name in values.names.prefix(32) { _ = values[name]; _ = values.bytes(name) }
    return 0
}
