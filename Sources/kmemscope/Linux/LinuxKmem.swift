import KernelSession
import LinuxKernel
import AllocatorView

/// `kmem ADDR --kernel linux` (as `crash kmem ADDR`): what the address is — direct map,
/// vmemmap, vmalloc, kernel image or physical — its physical address (the guest's page tables
/// for vmalloc and the image), its page as `frame` prints it, and on a slab page the cache,
/// the object and whether it is free (on which freelist) or in use.
struct LinuxKmem {
    /// `--json` (schema version 1).
    struct Document: Encodable {
        struct Slab: Encodable {
            var cache: String
            var slab: String
            var objects: Int
            var size: UInt64
            var index: Int?
            var object: String?
            var offset: UInt64?
            var free: Bool?
            var freelist: String?
        }
        var schemaVersion = 1
        var kernel = "linux"
        var address: String
        var kind: String
        var physical: String?
        var pfn: String?
        var structPageOf: String?
        var unmapped: String?
        var frame: [String]
        var slab: Slab?
    }

    var address: UInt64

    func run(_ linux: LinuxKernelTarget, _ registers: LinuxAttach.Registers, json: Bool) throws -> String {
        let state = try linux.decodeBuddy()
        let cr3 = try registers("cr3")
        let a: LinuxAddress
        do { a = try linux.classify(address, state: state, cr3: cr3) } catch let error as LinuxAddressError {
            throw SessionError.other(error.description)
        }
        // the page the address is in; for a vmemmap address, the page its struct page describes
        let pfn = a.structPageOf ?? a.physical.map { $0 / 4096 }
        var frame: [String] = []
        var slab: SlubObject?
        if let pfn {
            // the node whose zones hold the page (its lists say whether it is free)
            let state = try linux.decodeBuddy(holding: pfn)
            let page = try linux.page(pfn, vmemmapBase: state.vmemmapBase)
            frame = LinuxViews.frame(linux, page, state).split(separator: "\n").map(String.init)
            let headPFN = page.compoundHeadPage.map { ($0 &- state.vmemmapBase) / UInt64(linux.page.size) } ?? pfn
            let head = headPFN == pfn ? page : try linux.page(headPFN, vmemmapBase: state.vmemmapBase)
            if a.structPageOf == nil, head.flagNames(linux.page).contains("slab") || head.pageTypes.contains("slab") {
                slab = try linux.slubObject(at: state.pageOffsetBase &+ a.physical!, headPFN: headPFN, state: state)
            }
        }
        if json {
            return try JSONOutput.string(Document(
                address: hex(address), kind: a.kind.rawValue, physical: a.physical.map(hex), pfn: pfn.map(hex),
                structPageOf: a.structPageOf.map(hex), unmapped: a.unmapped, frame: frame,
                slab: slab.map { Document.Slab(cache: $0.cacheName, slab: hex($0.slab), objects: $0.objects, size: $0.size, index: $0.index,
                                               object: $0.objectAddress.map(hex), offset: $0.offset, free: $0.free, freelist: $0.freelist) }))
        }
        var lines = ["\(hex(address)): \(a.kind.rawValue)" + (a.kind == .physical ? "" : a.physical.map { ", physical \(hex($0))" } ?? ", not mapped: \(a.unmapped ?? "")")]
        if let of = a.structPageOf { lines.append("  the struct page of pfn \(hex(of)) (+\(hex((address &- state.vmemmapBase) % UInt64(linux.page.size))))") }
        if let s = slab {
            if let index = s.index, let object = s.objectAddress, let offset = s.offset {
                lines.append("  slab object \(index) of \(s.cacheName) at \(hex(object)) (+\(hex(offset)) of \(s.size) bytes), "
                             + (s.free == true ? "free (on the \(s.freelist ?? "freelist"))" : "in use"))
            } else {
                lines.append("  slab page of \(s.cacheName), outside its \(s.objects) objects of \(s.size) bytes (red zone or tail)")
            }
            lines.append("  slab \(hex(s.slab)) (pfn \(hex(s.slabPFN))), cache at \(hex(s.cacheAddress))")
        }
        lines += frame.map { "  " + $0 }
        return lines.joined(separator: "\n")
    }
}
