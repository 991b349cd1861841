import Foundation
import Testing
import GDBRemote
import LinuxKernel

/// SLUB's heap checks on Debian's 6.1 in QEMU: clean on the idle guest; a corrupted freelist
/// pointer, a double-freed object and a free object outside its slab, each written into one
/// partial slab of a real cache through the stub, are each named with the cache, the slab and
/// the object (exit 1); clean again once the word is put back.
@Suite(.serialized, .enabled(if: LinuxGuest.isAvailable,
                             "Debian's linux-image-amd64 / busybox-static could not be fetched with apt-get download"))
struct LinuxSlubTests {
    static func kmemscope(_ arguments: [String]) -> (Int32, String) { LinuxVerifyTests.kmemscope(arguments) }

    @Test func corruptedFreelistsAreNamed() throws {
        try #require(FileManager.default.isExecutableFile(atPath: LinuxVerifyTests.binary), "swift build --product kmemscope first")
        let guest = try LinuxGuest.boot()
        defer { guest.stop() }
        try guest.waitUntilReady()
        let linux = try guest.kmemscopeArguments()

        // A partial slab with two free objects or more, found through the library; the guest
        // stays stopped from here on (the test's connection stops it, closing leaves it so).
        let target = try guest.connect()
        let kernel = try LinuxKernelTarget(memory: RemoteTargetMemory(target: target), symbols: try SymbolMap(parsing: try guest.section("kallsyms")))
        let state = try kernel.decodeBuddy()
        let slub = try kernel.decodeSlub()
        let checker = try SlubChecker(linux: kernel, state: state)
        let layout = try SlubLayout(btf: kernel.btf)
        var found: (cache: SlubCache, slab: UInt64, first: UInt64, key: SlubChecker.CacheKey, other: UInt64)?
        for cache in slub.caches where cache.partialSlabAddresses.count >= 2 && found == nil {
            let key = try checker.freelistKey(cache)
            for slab in cache.partialSlabAddresses {
                let first = try kernel.memory.readU64(at: slab + UInt64(layout.slabFreelistOffset))
                guard first != 0 else { continue }
                let next = key.decode(try kernel.memory.readU64(at: first + UInt64(key.freeOffset)), at: first + UInt64(key.freeOffset))
                guard next != 0 else { continue }
                let otherSlab = cache.partialSlabAddresses.first { $0 != slab }!
                let otherObject = try kernel.memory.readU64(at: otherSlab + UInt64(layout.slabFreelistOffset))
                guard otherObject != 0 else { continue }
                found = (cache, slab, first, key, otherObject)
                break
            }
        }
        target.close()
        let f = try #require(found, "a cache with two partial slabs that have free objects")
        let pointer = f.first + UInt64(f.key.freeOffset)
        let original = try guest.readU64(at: pointer)
        let where_ = "cache \(f.cache.name) partial slab 0x\(String(f.slab, radix: 16))"

        let (clean, cleanText) = Self.kmemscope(["verify"] + linux)
        #expect(clean == 0 && cleanText.contains("slabs: all passed"), "\(cleanText)")

        // 1. A corrupted freelist pointer: the stored word overwritten.
        try guest.writeU64(at: pointer, 0x4141_4141_4141_4141)
        let (bad, badText) = Self.kmemscope(["verify"] + linux)
        #expect(bad == 1, "\(badText)")
        #expect(badText.contains("slub-freelist") && badText.contains(where_), "\(badText)")

        // 2. A double free: the first free object linked to itself.
        try guest.writeU64(at: pointer, f.key.encode(f.first, at: pointer))
        let (twice, twiceText) = Self.kmemscope(["verify"] + linux)
        #expect(twice == 1, "\(twiceText)")
        #expect(twiceText.contains("slub-double-free") && twiceText.contains(where_)
                && twiceText.contains("object 0x\(String(f.first, radix: 16)) is on the freelist twice"), "\(twiceText)")

        // 3. A free object of another slab linked into this one.
        try guest.writeU64(at: pointer, f.key.encode(f.other, at: pointer))
        let (outside, outsideText) = Self.kmemscope(["verify"] + linux)
        #expect(outside == 1, "\(outsideText)")
        #expect(outsideText.contains("slub-freelist") && outsideText.contains(where_)
                && outsideText.contains("free object 0x\(String(f.other, radix: 16)) is not one of the slab's"), "\(outsideText)")

        try guest.writeU64(at: pointer, original)
        let (again, againText) = Self.kmemscope(["verify"] + linux)
        #expect(again == 0, "\(againText)")
    }


}
