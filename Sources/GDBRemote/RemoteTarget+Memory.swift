/// Memory access: `m`/`M` chunked to what the stub accepts, pipelined, and QEMU's
/// physical-memory mode.
extension RemoteTarget {
    private struct Chunk {
        var offset: Int
        var count: Int
    }

    /// Reads `count` bytes at `address` (virtual, or physical in ``physicalMemoryMode``).
    ///
    /// The range is cut into reads of at most ``maximumReadSize`` bytes, with up to `depth`
    /// (default ``pipelineDepth``) of them in flight; `depth: 1` reads one at a time.
    ///
    /// - Throws: ``GDBRemoteError/memoryAccess(address:count:write:code:)`` naming the first
    ///   address that could not be read (QEMU: `E14` for an unmapped page); the rest of the
    ///   range is not returned.
    public func readMemory(at address: UInt64, count: Int, depth: Int? = nil) throws -> [UInt8] {
        precondition(count >= 0)
        var out = [UInt8](repeating: 0, count: count)
        try out.withUnsafeMutableBytes { try readMemory(at: address, into: $0, depth: depth) }
        return out
    }

    /// Reads `buffer.count` bytes at `address` into `buffer` (see ``readMemory(at:count:depth:)``).
    public func readMemory(at address: UInt64, into buffer: UnsafeMutableRawBufferPointer,
                           depth: Int? = nil) throws {
        try requireStopped("read memory")
        if buffer.isEmpty { return }
        var queue: [Chunk] = []      // follow-ups: the rest of short reads, E22 retries
        var queueHead = 0
        var nextOffset = 0
        var firstFailure: (offset: Int, code: UInt8)?
        let total = buffer.count

        func take() -> (payload: [UInt8], tag: Chunk)? {
            // After a failure no new ranges are asked for, but follow-ups of earlier ones still
            // are, so the first bad address found is really the first.
            var chunk: Chunk
            if queueHead < queue.count {
                chunk = queue[queueHead]
                queueHead += 1
                if queueHead == queue.count { queue.removeAll(keepingCapacity: true); queueHead = 0 }
                if let failure = firstFailure, chunk.offset > failure.offset { return take() }
            } else if firstFailure == nil, nextOffset < total {
                chunk = Chunk(offset: nextOffset, count: min(maximumReadSize, total - nextOffset))
                nextOffset += chunk.count
            } else {
                return nil
            }
            if chunk.count > maximumReadSize {
                // The size was lowered after this chunk was planned: split it.
                queue.insert(Chunk(offset: chunk.offset + maximumReadSize, count: chunk.count - maximumReadSize),
                             at: queueHead)
                chunk.count = maximumReadSize
            }
            return (Self.memoryRequest("m", address &+ UInt64(chunk.offset), chunk.count), chunk)
        }

        try connection.pipeline(window: max(1, depth ?? pipelineDepth), timeout: requestTimeout, next: take) {
            chunk, reply in
            if let code = Self.errorCode(reply) {
                if code == 0x22, chunk.count > 64 {
                    // EINVAL for a read the size we derived from PacketSize: the stub serves less.
                    if chunk.count <= maximumReadSize { maximumReadSize = max(64, chunk.count / 2) }
                    queue.append(chunk)
                    return
                }
                if firstFailure == nil || chunk.offset < firstFailure!.offset {
                    firstFailure = (chunk.offset, code)
                }
                return
            }
            let bytes = reply.count / 2
            guard reply.count % 2 == 0, bytes <= chunk.count, bytes > 0 else {
                throw GDBRemoteError.malformedReply(
                    request: "m\(String(address &+ UInt64(chunk.offset), radix: 16)),\(String(chunk.count, radix: 16))",
                    reply: String(decoding: reply.prefix(64), as: UTF8.self))
            }
            let ok = reply.withUnsafeBytes { src in
                Hex.decode(src, into: UnsafeMutableRawBufferPointer(
                    rebasing: buffer[chunk.offset..<(chunk.offset + bytes)]))
            }
            guard ok else {
                throw GDBRemoteError.malformedReply(
                    request: "m\(String(address &+ UInt64(chunk.offset), radix: 16)),\(String(chunk.count, radix: 16))",
                    reply: String(decoding: reply.prefix(64), as: UTF8.self))
            }
            if bytes < chunk.count {
                // A short read is allowed by the protocol: ask for the rest.
                queue.append(Chunk(offset: chunk.offset + bytes, count: chunk.count - bytes))
            }
        }
        if let failure = firstFailure {
            let bad = try firstUnreadable(from: address &+ UInt64(failure.offset),
                                          upTo: address &+ UInt64(failure.offset) &+ UInt64(maximumReadSize))
            throw GDBRemoteError.memoryAccess(address: bad ?? address &+ UInt64(failure.offset),
                                              count: total, write: false, code: failure.code)
        }
    }

    /// The first address in `[start, end)` that cannot be read: probes a page (or
    /// ``maximumReadSize``) at a time, then narrows the failing piece down to the byte by
    /// bisecting on the read length (a dozen requests at most).
    private func firstUnreadable(from start: UInt64, upTo end: UInt64) throws -> UInt64? {
        func fails(_ at: UInt64, _ n: Int) throws -> Bool {
            let reply = try connection.request(Self.memoryRequest("m", at, n), timeout: requestTimeout)
            return Self.errorCode(reply) != nil
        }
        var at = start
        while at < end {
            let pieceEnd = min((at | 0xFFF) &+ 1, end, at &+ UInt64(maximumReadSize))
            let n = Int(pieceEnd - at)
            if try fails(at, n) {
                // Smallest length that fails: the byte at `at + length - 1` is the first bad one.
                var low = 1, high = n
                while low < high {
                    let mid = (low + high) / 2
                    if try fails(at, mid) { high = mid } else { low = mid + 1 }
                }
                return at &+ UInt64(low - 1)
            }
            at = pieceEnd
        }
        return nil
    }

    static func memoryRequest(_ command: String, _ address: UInt64, _ count: Int) -> [UInt8] {
        Array("\(command)\(String(address, radix: 16)),\(String(count, radix: 16))".utf8)
    }

    /// Writes `bytes` at `address` with `M` packets no larger than the stub's PacketSize,
    /// pipelined like reads.
    ///
    /// - Throws: ``GDBRemoteError/memoryAccess(address:count:write:code:)`` with the address of
    ///   the first chunk the stub refused (chunks before it were written).
    public func writeMemory(at address: UInt64, bytes: [UInt8], depth: Int? = nil) throws {
        try requireStopped("write memory")
        if bytes.isEmpty { return }
        // "M" + 16 address digits + "," + 8 length digits + ":" + framing ($, #, 2 digits).
        let chunkSize = max(1, (connection.maximumOutgoingPacket - 4 - 27) / 2)
        var offset = 0
        var firstFailure: (offset: Int, code: UInt8)?
        try bytes.withUnsafeBytes { raw in
            try connection.pipeline(window: max(1, depth ?? pipelineDepth), timeout: requestTimeout, next: {
                () -> (payload: [UInt8], tag: Int)? in
                guard firstFailure == nil, offset < bytes.count else { return nil }
                let n = min(chunkSize, bytes.count - offset)
                var payload = Self.memoryRequest("M", address &+ UInt64(offset), n)
                payload.append(UInt8(ascii: ":"))
                Hex.encode(UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + n)]), appendingTo: &payload)
                defer { offset += n }
                return (payload, offset)
            }) { chunkOffset, reply in
                if reply == Array("OK".utf8) { return }
                if let code = Self.errorCode(reply) {
                    if firstFailure == nil || chunkOffset < firstFailure!.offset { firstFailure = (chunkOffset, code) }
                    return
                }
                if reply.isEmpty { throw GDBRemoteError.unsupported(request: "M") }
                throw GDBRemoteError.malformedReply(request: "M\(String(address &+ UInt64(chunkOffset), radix: 16))",
                                                    reply: String(decoding: reply, as: UTF8.self))
            }
        }
        if let failure = firstFailure {
            throw GDBRemoteError.memoryAccess(address: address &+ UInt64(failure.offset), count: bytes.count,
                                              write: true, code: failure.code)
        }
    }

    /// Switches QEMU's gdbstub between physical (`Qqemu.PhyMemMode:1`) and virtual (`:0`)
    /// addresses for `m`/`M` (and breakpoints). Physical reads of addresses with no RAM
    /// return zeros on QEMU 7.2, never an error: bound them by the guest's memory map.
    ///
    /// Until the stub's `OK` is read the mode is taken as unknown (``memoryModeUncertain``):
    /// a switch whose reply was abandoned may or may not have happened.
    public func setPhysicalMemoryMode(_ on: Bool) throws {
        memoryModeUncertain = true
        try expectOK("Qqemu.PhyMemMode:\(on ? 1 : 0)")
        physicalMemoryMode = on
        memoryModeUncertain = false
    }

    /// Makes sure the stub reads `physical` (or virtual) addresses: sends the mode only when
    /// it differs from the one in force or is unknown (``memoryModeUncertain``).
    /// A stub without the mode (an empty reply: not QEMU) reads virtual addresses only, so
    /// asking it for virtual mode succeeds there.
    public func useMemoryMode(physical: Bool) throws {
        guard memoryModeUncertain || physicalMemoryMode != physical else { return }
        do {
            try setPhysicalMemoryMode(physical)
        } catch GDBRemoteError.unsupported where !physical {
            physicalMemoryMode = false
            memoryModeUncertain = false
        }
    }

    /// Takes the stub's memory mode as unknown until the next read sets it (one round trip).
    /// QEMU keeps `Qqemu.PhyMemMode` for every client: one that died in the middle of a
    /// physical read (SIGKILL, a lost connection) leaves it physical for the next, whose
    /// kernel addresses would then read as zeros. A session calls this when it attaches.
    public func forgetMemoryMode() {
        memoryModeUncertain = true
    }

    /// Runs `body` with the stub in the memory mode `physical`, then puts the mode in force
    /// before back. The switch back cannot be abandoned (a Ctrl-C that ended `body` is still
    /// pending): left physical, the stub would read every later kernel address as a physical
    /// one past the end of RAM, i.e. as zeros. If even that fails the mode stays unknown and
    /// the next read or ``resynchronize(timeout:)`` sets it.
    public func withMemoryMode<T>(physical: Bool, _ body: () throws -> T) throws -> T {
        let was = memoryModeUncertain ? false : physicalMemoryMode
        try useMemoryMode(physical: physical)
        defer {
            if physicalMemoryMode != was || memoryModeUncertain {
                connection.uninterruptibly { try? setPhysicalMemoryMode(was) }
            }
        }
        return try body()
    }

    /// Reads guest-physical memory: switches to physical mode, reads, and switches back.
    public func readPhysicalMemory(at address: UInt64, count: Int, depth: Int? = nil) throws -> [UInt8] {
        try withMemoryMode(physical: true) { try readMemory(at: address, count: count, depth: depth) }
    }
}
