/// Threads: the stub's list of them and the one later register and memory requests address.
/// QEMU's gdbstub has one thread per vCPU (`p1.1`, `p1.2`… with multiprocess on).
extension RemoteTarget {
    /// The most threads ``threadIDs(limit:)`` takes from a stub before it stops asking.
    public static let threadLimit = 4096

    /// The stub's thread ids as it spells them (`qfThreadInfo`, then `qsThreadInfo` until
    /// `l`), in its order; at most `limit` of them.
    ///
    /// - Throws: ``GDBRemoteError/malformedReply(request:reply:)`` for a reply that is not
    ///   `m id,id…` or `l`, or a stub that keeps listing past `limit` threads.
    public func threadIDs(limit: Int = RemoteTarget.threadLimit) throws -> [String] {
        var ids: [String] = []
        var request = "qfThreadInfo"
        while true {
            let reply = try checked(request)
            guard let kind = reply.first else { break }
            if kind == UInt8(ascii: "l") { break }
            guard kind == UInt8(ascii: "m") else {
                throw GDBRemoteError.malformedReply(request: request, reply: String(decoding: reply.prefix(64), as: UTF8.self))
            }
            for id in reply.dropFirst().split(separator: UInt8(ascii: ",")) where !id.isEmpty {
                ids.append(String(decoding: id, as: UTF8.self))
            }
            guard ids.count <= limit else {
                throw GDBRemoteError.malformedReply(request: request, reply: "more than \(limit) threads")
            }
            request = "qsThreadInfo"
        }
        return ids
    }

    /// Makes `id` the thread that `g`, `p`, `P` and memory requests address (`Hg`). On QEMU
    /// this is also the vCPU whose page tables translate virtual addresses.
    public func selectThread(_ id: String) throws {
        try expectOK("Hg\(id)")
    }

    /// Register `name` of thread `id`: selects it, reads, and selects `restoring` again.
    public func register(_ name: String, ofThread id: String, restoring: String) throws -> UInt64 {
        try selectThread(id)
        defer { try? selectThread(restoring) }
        return try register(name)
    }
}
