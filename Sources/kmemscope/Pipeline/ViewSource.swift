import BundledState
import AllocatorView
import BundledKernel
import KernelSession
import LinuxKernel

/// The allocator view of a guest, and what only its source knows beside it.
struct ViewRead {
    var view: AllocatorView
    /// Linux: the target the view came from (its orders, `struct page`'s size, KASLR offset and
    /// BTF, which headings and documents name); nil for the bundled kernel.
    var linux: LinuxKernelTarget?
    /// Linux: from the start to the attached, typed target (attach, BTF, settle), and the decode.
    var attachTime: Duration = .zero
    var decodeTime: Duration = .zero
    /// Linux's slabinfo: SLUB's caches as decoded (the view holds them as its heap; the
    /// document also names `s->object_size`, the partial slabs and how each list's walk ended).
    var slub: SlubState?
}

/// What Linux's source decodes for a view.
enum LinuxViewPart {
    /// Every node's buddy state: the free lists (pagetypeinfo adds the pageblocks).
    case nodes
    /// SLUB's caches on `slab_caches` (their counts cover every node), as the view's heap; no node.
    case slabCaches
    /// Every node's zones as /proc/zoneinfo prints them (``LinuxZoneinfoReader``: the kernel's
    /// named counters, watermarks, pagesets); no free list is walked (zoneinfo prints none).
    case zoneCounters
}

/// The views' source stage: the guest's allocator view, whichever kernel. The bundled kernel:
/// the held read (``GuestSource``) → `SnapshotDecoder` → `FreeListCensus` → the view; Linux:
/// the attach (``LinuxAttach``) → every node's buddy state → the view. What comes after —
/// the renderer, the document — is the same code for both.
struct ViewSource {
    var profile: KernelProfileOptions
    var image: ImageOptions
    var stub: TargetOptions
    var settling: SettleOptions

    /// Reads the view. `linuxView` makes Linux's view of its nodes' buddy states (by default
    /// the free lists; pagetypeinfo adds the pageblocks); it runs while the guest is held.
    /// `linuxPart` `.slabCaches` reads SLUB's caches instead of the nodes (slabinfo),
    /// `.zoneCounters` every node's zoneinfo fields instead of their free lists (zoneinfo).
    func read(in context: CommandContext, linuxPart: LinuxViewPart = .nodes,
              linuxView: (LinuxKernelTarget, [LinuxBuddyState]) throws -> AllocatorView = { $0.allocatorView($1) }) throws -> ViewRead {
        guard profile.isLinux else {
            let snapshot = try GuestSource(image, stub, in: context).read(settling: settling) { s in
                try SnapshotDecoder(info: s.info, memory: s.memory).decode()
            }
            return ViewRead(view: snapshot.allocatorView(FreeListCensus(snapshot)))
        }
        let clock = ContinuousClock()
        let start = clock.now
        return try LinuxAttach.run(profile, stub, in: context, settling: settling) { linux in
            let typed = clock.now
            switch linuxPart {
            case .slabCaches:
                let slub = try linux.decodeSlub()
                var view = linux.allocatorView([] as [LinuxBuddyState])
                view.heap = slub.heapView
                return ViewRead(view: view, linux: linux, attachTime: typed - start, decodeTime: clock.now - typed, slub: slub)
            case .zoneCounters:
                // the reader walks `node_data` itself: every online node, as zoneinfo prints them
                let view: AllocatorView
                do { view = try linux.zoneinfoView() } catch let error as LinuxZoneinfoError {
                    throw SessionError.other("\(error)")
                }
                return ViewRead(view: view, linux: linux, attachTime: typed - start, decodeTime: clock.now - typed)
            case .nodes:
                let states = try LinuxAttach.allNodes(linux, in: context).map { try linux.decodeBuddy(node: $0) }
                let decoded = clock.now
                return ViewRead(view: try linuxView(linux, states), linux: linux, attachTime: typed - start, decodeTime: decoded - typed)
            }
        }
    }
}
