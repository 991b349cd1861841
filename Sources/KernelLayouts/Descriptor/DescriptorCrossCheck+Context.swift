import AllocatorView

/// How each ``DescriptorRule`` is run: what it reads from the ELF and the guest, each once.
extension DescriptorCrossCheck {
    /// What the rules read, each at most once.
    struct Context {
        let info: KernelInfo
        let kernel: KernelImage
        let memory: any GuestMemory
        var layouts: [String: StructLayout] = [:]
        var root: (address: UInt64, bytes: [UInt8])?
        var rootPointer: UInt64?
        /// Why the root is no witness, once found so.
        var rootMagic: String?

        init(info: KernelInfo, kernel: KernelImage, memory: some GuestMemory) {
            self.info = info
            self.kernel = kernel
            self.memory = memory
        }

        var noDWARF: String? { kernel.dwarf == nil ? "the ELF has no DWARF" : nil }

        private var here: String { "guest memory, kmem_info at 0x" + String(info.address, radix: 16) }

        private func fail(_ key: String, expected: String, source: String) -> KernelInfoError {
            .crossCheck(key: key, published: info[key] ?? "?", at: info.address, expected: expected, source: source)
        }

        mutating func layout(_ type: String) throws -> StructLayout {
            if let l = layouts[type] { return l }
            let l = try kernel.structLayout(named: type)
            layouts[type] = l
            return l
        }

        /// Symbols by entity name without the module (`Kmem.pageSize`), built once: looking
        /// each constant up by its demangled name would scan and demangle the table per rule.
        var entities: [String: Symbol?]?

        /// The image's symbol `name` (an entity name such as `Kmem.pageSize`, or a plain name).
        mutating func symbol(_ name: String) throws -> Symbol {
            if entities == nil {
                var index: [String: Symbol?] = [:]
                for s in try kernel.elf.symbolTable().symbols {
                    guard let e = s.entityName, let dot = e.firstIndex(of: ".") else { continue }
                    let key = String(e[e.index(after: dot)...])
                    index[key] = index[key] == nil ? s : .some(nil)   // twice: ambiguous, ask lookup
                }
                entities = index
            }
            if let found = entities?[name], let s = found { return s }
            return try kernel.symbol(name)
        }

        /// The guest's `kmemStateAddress` (the global at the image's symbol).
        mutating func rootAddress() throws -> UInt64 {
            if let rootPointer { return rootPointer }
            let v = try memory.readU64(at: try symbol("kmemStateAddress").address.rawValue)
            rootPointer = v
            return v
        }

        /// The guest's `KmemState`, found through the image's `kmemStateAddress` global; nil
        /// when its magic is not the image's `Kmem.stateMagic` (a damaged root is no witness:
        /// the rules that compare with it do not run, and verify's `state-fields` names it).
        mutating func rootState() throws -> (address: UInt64, bytes: [UInt8])? {
            if let root { return root }
            if rootMagic != nil { return nil }
            let address = try rootAddress()
            let l = try layout("KmemState")
            let bytes = try memory.read(at: address, count: Int(l.size))
            let magic = try kernel.elf.integerValue(of: try symbol("Kmem.stateMagic"))
            let found = Self.load(bytes, at: try l.offset(of: "magic"), size: 8)
            guard found == magic else {
                rootMagic = "KmemState at \(hex(address)) has magic \(hex(found)), not the image's \(hex(magic))"
                return nil
            }
            root = (address, bytes)
            return (address, bytes)
        }

        static func load(_ bytes: [UInt8], at offset: UInt64, size: UInt64) -> UInt64 {
            guard offset <= UInt64(bytes.count), UInt64(bytes.count) - offset >= size else { return 0 }
            var v: UInt64 = 0
            for i in (0..<Int(size)).reversed() { v = v << 8 | UInt64(bytes[Int(offset) + i]) }
            return v
        }

        /// The direct map the image's boot code builds: base and size in bytes.
        func directMap() throws -> (base: UInt64, bytes: UInt64) {
            let index = try absolute("DIRECT_MAP_PML4_INDEX")
            let gib = try absolute("DIRECT_MAP_GIB")
            guard index < 512, gib <= 1 << 20 else {
                throw KernelImageError.truncated(path: kernel.path, detail: "DIRECT_MAP_PML4_INDEX \(index) or DIRECT_MAP_GIB \(gib) out of range")
            }
            let base = index << 39 | (index >= 256 ? 0xFFFF_0000_0000_0000 : 0)
            return (base, gib << 30)
        }

        /// An absolute or address symbol's value (the first of its name: assemblers emit a
        /// local and a global copy of `.set` symbols).
        func absolute(_ name: String) throws -> UInt64 {
            let table = try kernel.elf.symbolTable()
            if let s = table.symbols.first(where: { $0.name == name }) { return s.address.rawValue }
            return try table.lookup(name).address.rawValue
        }

        /// Runs one rule for `key`; false when it could not run (no DWARF).
        mutating func check(_ key: String, _ rule: DescriptorRule) throws -> Bool {
            if key == "BUILD-ID" || rule == .buildID {
                let mine = kernel.elf.buildID?.description ?? "(none)"
                guard info[key] == mine else { throw fail(key, expected: mine, source: "the ELF's GNU build-id note (\(kernel.path))") }
                return true
            }
            let value = try info.number(key)
            func equal(_ expected: UInt64, _ source: String) throws {
                guard value == expected else { throw fail(key, expected: "\(expected) (\(hex(expected)))", source: source) }
            }
            let dwarfRules: Bool
            switch rule {
            case .dwarfSize, .dwarfSizeOf, .dwarfOffset, .dwarfCount, .rootAddress, .rootField, .atMostRootField, .memberAddress: dwarfRules = true
            default: dwarfRules = false
            }
            if dwarfRules && kernel.dwarf == nil { return false }
            switch rule {
            case .buildID:
                return true
            case .imageConstant(let name):
                let s = try symbol(name)
                try equal(try kernel.elf.integerValue(of: s), "the image's \(name) (\(s.sectionName ?? "?") bytes of \(kernel.path))")
            case .imageAddress(let name):
                try equal(try absolute(name), "the address of \(name) in \(kernel.path)'s symbol table")
            case .imageAddressBelow(let name, let minus):
                try equal(try absolute(name) &- (try absolute(minus)), "\(name) − \(minus) in \(kernel.path)'s symbol table")
            case .directMapBase:
                try equal(try directMap().base, "DIRECT_MAP_PML4_INDEX << 39 in \(kernel.path)'s symbol table")
            case .dwarfSize:
                let type = String(key.dropFirst(5).dropLast())
                try equal(try layout(type).size, "DWARF's size of \(type) in \(kernel.path)")
            case .dwarfSizeOf(let type):
                try equal(try layout(type).size, "DWARF's size of \(type) in \(kernel.path)")
            case .dwarfOffset:
                let inner = key.dropFirst(7).dropLast()
                let dot = inner.firstIndex(of: ".")!
                let type = String(inner[..<dot]), field = String(inner[inner.index(after: dot)...])
                try equal(try layout(type).offset(of: field), "DWARF's offset of \(type).\(field) in \(kernel.path)")
            case .dwarfCount(let type, let member, let minus):
                guard let count = try layout(type).member(member).array?.count else {
                    throw KernelImageError.layoutIncomplete(structName: type, reason: "\(member) is not an array in DWARF")
                }
                try equal(count &- minus, "DWARF's element count of \(type).\(member)" + (minus == 0 ? "" : " − \(minus)") + " in \(kernel.path)")
            case .rootAddress:
                try equal(try rootAddress(), "the guest's kmemStateAddress (at the image's symbol)")
            case .rootField(let field, let mask):
                guard let root = try rootState() else { return false }
                let l = try layout("KmemState").member(field)
                let v = Self.load(root.bytes, at: l.offset, size: min(l.size, 8)) & mask
                try equal(v, "KmemState.\(field)\(mask == .max ? "" : " & \(mask)") in guest memory at \(hex(root.address + l.offset)) (DWARF offset \(l.offset))")
            case .atMostRootField(let field):
                guard let root = try rootState() else { return false }
                let l = try layout("KmemState").member(field)
                let limit = Self.load(root.bytes, at: l.offset, size: min(l.size, 8))
                guard value >= 1, value <= limit else {
                    throw fail(key, expected: "1 … \(limit)", source: "KmemState.\(field) in guest memory at \(hex(root.address + l.offset)) (it only grows)")
                }
            case .memberAddress(let base, let type, let field):
                let b = try info.number(base)
                let offset = try layout(type).offset(of: field)
                try equal(b &+ offset, "\(base) + DWARF's offset of \(type).\(field) (\(offset)) in \(kernel.path)")
            case .inDirectMap:
                let map = try directMap()
                guard value >= map.base, value - map.base < map.bytes, value % 8 == 0 else {
                    throw fail(key, expected: "an 8-byte-aligned address in \(hex(map.base)) … \(hex(map.base &+ map.bytes &- 1))",
                               source: "the direct map the image builds (DIRECT_MAP_GIB \(map.bytes >> 30) in \(kernel.path))")
                }
            case .fitsDirectMap(let each):
                let map = try directMap()
                let unit = try info.number(each)
                let limit = unit == 0 ? 0 : map.bytes / unit
                guard value >= 1, value <= limit else {
                    throw fail(key, expected: "1 … \(limit)", source: "the image's direct map (\(map.bytes >> 30) GiB) / \(each) \(unit)")
                }
            case .imageAbsolute(let name):
                try equal(try absolute(name), "the absolute symbol \(name) in \(kernel.path)'s symbol table")
            case .symbolSize(let name, let per):
                let size = try kernel.elf.symbolTable().lookup(name).size
                let unit = try info.number(per)
                guard unit != 0 else { throw fail(key, expected: "a count", source: "\(per) is 0") }
                try equal(size / unit, "the size of \(name) (\(size) bytes) in \(kernel.path)'s symbol table / \(per) \(unit)")
            case .symbolSizeOver(let name, let per):
                let size = try kernel.elf.symbolTable().lookup(name).size
                var unit: UInt64 = 1
                for k in per {
                    let (product, overflow) = unit.multipliedReportingOverflow(by: try info.number(k))
                    guard !overflow else { throw fail(key, expected: "a count", source: "\(per.joined(separator: " × ")) overflows") }
                    unit = product
                }
                guard unit != 0 else { throw fail(key, expected: "a count", source: "\(per.joined(separator: " × ")) is 0") }
                try equal(size / unit, "the size of \(name) (\(size) bytes) in \(kernel.path)'s symbol table / \(per.joined(separator: " × ")) \(unit)")
            case .guestWord(let name):
                let at = try absolute(name)
                try equal(try memory.readU64(at: at), "the u64 at \(name) (\(hex(at)), the image's symbol) in guest memory")
            case .countUpTo(let limitKey):
                let limit = try info.number(limitKey)
                guard value >= 1, value <= limit else {
                    throw fail(key, expected: "1 … \(limit)", source: "\(limitKey) (checked against \(kernel.path))")
                }
            case .atLeast(let floorKey):
                let floor = try info.number(floorKey)
                guard value >= floor else {
                    throw fail(key, expected: "at least \(floor)", source: "\(floorKey) (checked against \(kernel.path))")
                }
            case .runTimeOnly:
                return true
            }
            return true
        }
    }
}
