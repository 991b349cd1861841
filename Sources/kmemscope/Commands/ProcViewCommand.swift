import ArgumentParser
import BundledState
import AllocatorText
import AllocatorView
import BundledKernel
import KernelLayouts
import KernelSession
import LinuxKernel

/// What the /proc view commands share: one path for either kernel — the source's view
/// (``ViewSource``: attach, read at an operation boundary, decode), the one renderer
/// (`Self.view`), the document (text by default; `--json` the one each kernel's users read:
/// the view's lines, any broken lists and the numbers, `ProcViewJSON` with the bundled
/// kernel's `sequence`, `LinuxFreeCountsJSON` with `"kernel": "linux"`).
protocol ProcViewCommand: GuestCommand {
    var profile: KernelProfileOptions { get }
    var image: ImageOptions { get }
    var stub: TargetOptions { get }
    var settling: SettleOptions { get }
    /// The view's text, whichever kernel the allocator view came from.
    static func view(_ view: AllocatorView) -> String
    /// Linux: what the source decodes, the nodes' buddy states unless the view is of the heap.
    static var linuxPart: LinuxViewPart { get }
    /// Linux: the view of its nodes' buddy states (the free lists unless a view needs more).
    func linuxView(_ linux: LinuxKernelTarget, _ states: [LinuxBuddyState]) throws -> AllocatorView
    /// Linux: the view's text and document as printed (`--json`: ``LinuxFreeCountsJSON``).
    func renderLinux(_ read: ViewRead, in context: CommandContext) throws
}

extension ProcViewCommand {
    func run(in context: CommandContext) throws { try runView(in: context) }

    static var linuxPart: LinuxViewPart { .nodes }

    func linuxView(_ linux: LinuxKernelTarget, _ states: [LinuxBuddyState]) throws -> AllocatorView { linux.allocatorView(states) }

    func renderLinux(_ read: ViewRead, in context: CommandContext) throws {
        let text = Self.view(read.view).droppingFinalNewline
        print(image.json ? try JSONOutput.string(LinuxFreeCountsJSON(read.view, text: text, byMigratetype: true)) : text)
    }

    /// source → view → render.
    func runView(in context: CommandContext) throws {
        let read = try ViewSource(profile: profile, image: image, stub: stub, settling: settling)
            .read(in: context, linuxPart: Self.linuxPart, linuxView: linuxView)
        if read.linux != nil { return try renderLinux(read, in: context) }
        let view = read.view
        let text = Self.view(view)
        let broken = view.listBreaks.map(\.text)
        if image.json {
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let slab = Self.self == SlabinfoCommand.self
            print(try JSONOutput.string(ProcViewJSON(schemaVersion: 1, sequence: view.sequence ?? 0,
                                                     lines: text.hasSuffix("\n") ? Array(lines.dropLast()) : lines,
                                                     brokenLists: broken,
                                                     zones: slab ? nil : ProcViewData.zones(view),
                                                     caches: slab ? ProcViewData.caches(view) : nil)))
        } else {
            print(text, terminator: "")
            // a broken list is named, never counted past: the counts above stop at the break
            for b in broken { StandardError.write("kmemscope: broken free list: \(b)") }
        }
    }
}

/// `--json` of a /proc view.
struct ProcViewJSON: Encodable {
    var schemaVersion: Int
    var sequence: UInt64
    var lines: [String]
    var brokenLists: [String]
    /// buddyinfo, pagetypeinfo, zoneinfo: the numbers per zone.
    var zones: [ProcViewData.Zone]?
    /// slabinfo: the numbers per cache.
    var caches: [ProcViewData.Cache]?
}

/// `kmemscope buddyinfo`: /proc/buddyinfo from guest memory — the bundled kernel's by
/// default, a stock Linux guest's with `--kernel linux --symbols FILE`.
struct BuddyinfoCommand: ProcViewCommand {
    static let configuration = CommandConfiguration(
        commandName: "buddyinfo",
        abstract: "Free blocks per zone and order, as /proc/buddyinfo prints them (the bundled kernel, or Linux).",
        discussion: ViewHelp.buddyinfo)

    @OptionGroup var profile: KernelProfileOptions

    @Flag(help: "Linux: also print /proc/pagetypeinfo's free counts per migratetype.")
    var pagetypeinfo = false

    @Flag(help: "Linux: print how long attaching, reading BTF and decoding took (to standard error).")
    var timing = false

    @OptionGroup var image: ImageOptions
    @OptionGroup var stub: TargetOptions
    @OptionGroup var settling: SettleOptions
    static func view(_ v: AllocatorView) -> String { ProcText.buddyinfo(v) }

    func validate() throws {
        if !profile.isLinux && (pagetypeinfo || timing) {
            throw ValidationError("--pagetypeinfo and --timing go with --kernel linux")
        }
    }

    /// Linux: buddyinfo (with --pagetypeinfo, the per-migratetype table after it), a warning
    /// per broken list, and with --timing how long the attach and the decode took.
    func renderLinux(_ read: ViewRead, in context: CommandContext) throws {
        try LinuxBuddyinfo(pagetypeinfo: pagetypeinfo, timing: timing, json: image.json, stub: stub).render(read, in: context)
    }
}

/// `kmemscope pagetypeinfo`: /proc/pagetypeinfo from guest memory.
struct PagetypeinfoCommand: ProcViewCommand {
    static let configuration = CommandConfiguration(
        commandName: "pagetypeinfo",
        abstract: "Free blocks per zone, migratetype and order, and pageblocks per migratetype, as /proc/pagetypeinfo prints them.",
        discussion: ViewHelp.pagetypeinfo)
    @OptionGroup var profile: KernelProfileOptions
    @OptionGroup var image: ImageOptions
    @OptionGroup var stub: TargetOptions
    @OptionGroup var settling: SettleOptions
    static func view(_ v: AllocatorView) -> String { ProcText.pagetypeinfo(v) }

    /// Linux: the free lists and the pageblocks per migratetype (a note when they cannot be counted).
    func linuxView(_ linux: LinuxKernelTarget, _ states: [LinuxBuddyState]) throws -> AllocatorView {
        var blocks: [[String: [Int]]] = []
        do { blocks = try states.map { try linux.pageblockCounts($0) } } catch {
            StandardError.write("kmemscope: note: the pageblocks per migratetype are not counted: \(error)")
        }
        return linux.allocatorView(states, pageblocks: blocks)
    }
}

/// `kmemscope zoneinfo`: /proc/zoneinfo (the fields this allocator has) from guest memory.
struct ZoneinfoCommand: ProcViewCommand {
    static let configuration = CommandConfiguration(
        commandName: "zoneinfo",
        abstract: "Free pages, watermarks, span, present, managed, lowmem protection and per-CPU lists per zone, as /proc/zoneinfo prints them.",
        discussion: ViewHelp.zoneinfo)
    @OptionGroup var profile: KernelProfileOptions
    @OptionGroup var image: ImageOptions
    @OptionGroup var stub: TargetOptions
    @OptionGroup var settling: SettleOptions
    static func view(_ v: AllocatorView) -> String { ProcText.zoneinfo(v) }

    /// Linux: every node (zoneinfo prints them all), read by `LinuxZoneinfoReader`.
    static var linuxPart: LinuxViewPart { .zoneCounters }

    /// Linux: the view's text, or `--json` with the guest's named counters (``LinuxZoneinfoJSON``).
    func renderLinux(_ read: ViewRead, in context: CommandContext) throws {
        let text = Self.view(read.view)
        print(image.json ? try JSONOutput.string(LinuxZoneinfoJSON(read.view, text: text)) : text.droppingFinalNewline)
    }
}

/// `kmemscope slabinfo`: /proc/slabinfo (version 2.1) from guest memory.
struct SlabinfoCommand: ProcViewCommand {
    static let configuration = CommandConfiguration(
        commandName: "slabinfo",
        abstract: "The slab heap's caches, as /proc/slabinfo version 2.1 prints them.",
        discussion: "Columns: name, active objects, total objects, object size, objects per slab, pages per slab, tunables (0 here), active slabs, slabs, shared (0). With --kernel linux, SLUB's caches as the guest's /proc/slabinfo prints them (objsize is s->size, the object with its metadata).")
    @OptionGroup var profile: KernelProfileOptions
    @OptionGroup var image: ImageOptions
    @OptionGroup var stub: TargetOptions
    @OptionGroup var settling: SettleOptions
    static func view(_ v: AllocatorView) -> String { ProcText.slabinfo(v) }
    /// SLUB's caches hold every node's counts (kmem_cache_node per node): not node-scoped.
    static var linuxPart: LinuxViewPart { .slabCaches }

    /// Linux: the view's text (its heap: SLUB's caches), or `--json` with what SLUB adds; a
    /// warning per list whose walk did not close.
    func renderLinux(_ read: ViewRead, in context: CommandContext) throws {
        guard let state = read.slub else { throw SessionError.other("slabinfo: SLUB's caches were not read") }
        if image.json { return print(try JSONOutput.string(LinuxSlabinfoJSON(state))) }
        print(Self.view(read.view), terminator: "")
        if let issue = state.listIssue { StandardError.write("kmemscope: broken list: \(issue)") }
        for cache in state.caches { for issue in cache.issues { StandardError.write("kmemscope: broken list: \(cache.name) \(issue)") } }
    }
}
