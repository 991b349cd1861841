import KernelLayouts
import Testing

/// Layouts read from the Embedded Swift image's DWARF against `MemoryLayout` of the very same
/// source compiled for the host (FixtureTypes.swift is in this target too).
@Suite struct LayoutTests {
    func types(_ path: String? = nil) throws -> DwarfTypes {
        try DwarfTypes(path: path ?? Fixtures.get().image)
    }

    /// Every member path of FixtureFrame with the host key path for it.
    static var frameMembers: [(String, PartialKeyPath<FixtureFrame>)] {
        [
        ("flags", \.flags), ("order", \.order), ("link", \.link), ("link.next", \.link.next),
        ("link.prev", \.link.prev), ("color", \.color), ("inner", \.inner), ("inner.a", \.inner.a),
        ("inner.b", \.inner.b), ("tags", \.tags), ("pair", \.pair), ("pair.0", \.pair.0),
        ("pair.1", \.pair.1), ("owner", \.owner), ("seq", \.seq),
        ]
    }

    @Test func frameMatchesMemoryLayout() throws {
        let layout = try types().structLayout(named: "FixtureFrame")
        #expect(layout.qualifiedName == "Fix.FixtureFrame")
        #expect(layout.linkageName == "$e3Fix12FixtureFrameVD")
        #expect(layout.size == UInt64(MemoryLayout<FixtureFrame>.size))
        #expect(layout.alignment == UInt64(MemoryLayout<FixtureFrame>.alignment))
        #expect(layout.stride == UInt64(MemoryLayout<FixtureFrame>.stride))
        #expect(layout.members.map(\.name) == ["flags", "order", "link", "color", "inner", "tags", "pair", "owner", "seq"])
        for (path, keyPath) in Self.frameMembers {
            let expected = try #require(MemoryLayout<FixtureFrame>.offset(of: keyPath))
            #expect(try layout.offset(of: path) == UInt64(expected), "\(path)")
        }
    }

    @Test func swiftDWARFOffsetsThatOmitPaddingAreKeptButNotUsed() throws {
        let layout = try types().structLayout(named: "FixtureFrame")
        #expect(layout.offsetSource == .swiftLayoutRules)
        let link = try layout.member("link")
        // DWARF puts `link` right after the 1-byte `order`, where a UInt64 pair cannot be.
        let order = try layout.member("order")
        #expect(link.dwarfOffset == order.offset + order.size)
        #expect(link.offset == UInt64(MemoryLayout<FixtureFrame>.offset(of: \.link)!))
        #expect(link.offset % link.alignment == 0)
    }

    @Test func membersHaveTheSizesOfTheirTypes() throws {
        let layout = try types().structLayout(named: "Fix.FixtureFrame")
        #expect(try layout.member("link").size == UInt64(MemoryLayout<FixtureLink>.size))
        #expect(try layout.member("inner").size == UInt64(MemoryLayout<FixtureInner>.size))
        #expect(try layout.member("owner").size == UInt64(MemoryLayout<UInt64?>.size))
        #expect(try layout.member("pair").size == UInt64(MemoryLayout<(UInt8, UInt32)>.size))
        #expect(try layout.member("tags").size == UInt64(MemoryLayout<InlineArray<4, UInt16>>.size))
        #expect(try layout.member("inner").typeName == "Fix.FixtureInner")
        #expect(try layout.member("seq").typeName == "UInt64")
        #expect(try layout.member("inner").nested?.members.map(\.name) == ["a", "b"])
    }

    @Test func inlineArraysAreArraysWithCountAndStride() throws {
        let zone = try types().structLayout(named: "FixtureZone")
        let free = try zone.member("free")
        let shape = try #require(free.array)
        #expect(shape.count == 3)
        #expect(shape.elementStride == UInt64(MemoryLayout<FixtureLink>.stride))
        #expect(shape.elementLayout?.qualifiedName == "Fix.FixtureLink")
        #expect(free.offset == UInt64(MemoryLayout<FixtureZone>.offset(of: \.free)!))
        #expect(try zone.member("name").array?.count == 8)
        #expect(try zone.offset(of: "free.prev") == UInt64(MemoryLayout<FixtureZone>.offset(of: \.free)! + MemoryLayout<FixtureLink>.offset(of: \.prev)!))
        #expect(zone.size == UInt64(MemoryLayout<FixtureZone>.size))
    }

    @Test func tuplesOfStructsNest() throws {
        let zone = try types().structLayout(named: "FixtureZone")
        #expect(try zone.offset(of: "spans.1.b") == UInt64(MemoryLayout<FixtureZone>.offset(of: \.spans.1.b)!))
        #expect(try zone.offset(of: "count") == UInt64(MemoryLayout<FixtureZone>.offset(of: \.count)!))
        #expect(try zone.member("spans").typeName == "(Fix.FixtureInner, Fix.FixtureInner)")
    }

    @Test func enumsListTheirCasesWithTheValueStoredInMemory() throws {
        let color = try #require(try types().structLayout(named: "FixtureFrame").member("color").enumeration)
        #expect(color.cases.map(\.name) == ["red", "green", "blue"])
        #expect(color.rawTypeName == "UInt8")
        #expect(color.storedValuesAreCaseIndexes)
        // What a FixtureColor holds in memory on the host is the value DWARF's case order gives.
        for (value, name) in [(FixtureColor.red, "red"), (.green, "green"), (.blue, "blue")] {
            let stored = Int64(unsafeBitCast(value, to: UInt8.self))
            #expect(color.caseName(forStoredValue: stored) == name)
        }
        let byName = try types().enumLayout(named: "FixtureColor")
        #expect(byName == color)
    }

    @Test func genericSpecialisationsAreTellApartAndSubstituted() throws {
        let t = try types()
        #expect {
            _ = try t.structLayout(named: "FixtureBox")
        } throws: { error in
            guard case KernelImageError.ambiguousStruct(_, let candidates) = error else { return false }
            return Set(candidates) == ["Fix.FixtureBox<UInt64>", "Fix.FixtureBox<UInt8>", "Fix.FixtureBox<Fix.FixtureBox<UInt8>>"]
        }
        let wide = try t.structLayout(named: "FixtureBox<UInt64>")
        #expect(wide.size == UInt64(MemoryLayout<FixtureBox<UInt64>>.size))
        #expect(try wide.offset(of: "tag") == UInt64(MemoryLayout<FixtureBox<UInt64>>.offset(of: \.tag)!))
        #expect(try wide.member("value").typeName == "UInt64")
        let narrow = try t.structLayout(named: "Fix.FixtureBox<Swift.UInt8>")
        #expect(narrow.size == UInt64(MemoryLayout<FixtureBox<UInt8>>.size))
        #expect(try narrow.offset(of: "tag") == UInt64(MemoryLayout<FixtureBox<UInt8>>.offset(of: \.tag)!))
    }

    @Test func sameNamedStructsOfTwoModulesAreNeverMixed() throws {
        let t = try types()
        #expect {
            _ = try t.structLayout(named: "FixtureInner")
        } throws: { error in
            guard case KernelImageError.ambiguousStruct(_, let candidates) = error else { return false }
            return Set(candidates) == ["Fix.FixtureInner", "Other.FixtureInner"]
        }
        let fix = try t.structLayout(named: "Fix.FixtureInner")
        let other = try t.structLayout(named: "Other.FixtureInner")
        #expect(fix.size == UInt64(MemoryLayout<FixtureInner>.size))
        #expect(fix.members.map(\.name) == ["a", "b"])
        #expect(other.members.map(\.name) == ["x", "y"])
        #expect(try other.offset(of: "y") == other.member("x").size)
    }

    @Test func theReorderedVariantHasTheNewOffsets() throws {
        let f = try Fixtures.get()
        let original = try types(f.image).structLayout(named: "FixtureFrame")
        let variant = try types(f.reorderedImage).structLayout(named: "FixtureFrame")
        #expect(variant.members.map(\.name).prefix(3) == ["flags", "link", "order"])
        for (path, _) in Self.frameMembers {
            let keyPath = try #require(Self.reorderedKeyPath(path))
            let expected = try #require(MemoryLayout<FixtureFrameReordered>.offset(of: keyPath))
            #expect(try variant.offset(of: path) == UInt64(expected), "\(path)")
        }
        #expect(try variant.offset(of: "order") != original.offset(of: "order"))
        #expect(try variant.offset(of: "color") != original.offset(of: "color"))
    }

    static func reorderedKeyPath(_ path: String) -> PartialKeyPath<FixtureFrameReordered>? {
        let all: [String: PartialKeyPath<FixtureFrameReordered>] = [
            "flags": \.flags, "order": \.order, "link": \.link, "link.next": \.link.next,
            "link.prev": \.link.prev, "color": \.color, "inner": \.inner, "inner.a": \.inner.a,
            "inner.b": \.inner.b, "tags": \.tags, "pair": \.pair, "pair.0": \.pair.0,
            "pair.1": \.pair.1, "owner": \.owner, "seq": \.seq,
        ]
        return all[path]
    }

    @Test func classReferencesPointersPayloadEnumsAndNestedGenericsLandWhereTheHostPutsThem() throws {
        let layout = try types().structLayout(named: "FixtureMixed")
        #expect(layout.size == UInt64(MemoryLayout<FixtureMixed>.size))
        #expect(layout.alignment == UInt64(MemoryLayout<FixtureMixed>.alignment))
        #expect(layout.members.map(\.name) == ["first", "node", "pointer", "maybeLink", "shape", "boxes", "maybes",
                                               "label", "small", "ratio", "pairs"])
        let members: KeyValuePairs<String, PartialKeyPath<FixtureMixed>> = [
            "first": \.first, "node": \.node, "pointer": \.pointer, "maybeLink": \.maybeLink, "shape": \.shape,
            "boxes": \.boxes, "boxes.value": \.boxes.value, "boxes.value.tag": \.boxes.value.tag,
            "boxes.tag": \.boxes.tag, "maybes": \.maybes, "label": \.label, "small": \.small, "ratio": \.ratio,
            "pairs": \.pairs, "pairs.0.1": \.pairs.0.1, "pairs.1": \.pairs.1,
        ]
        for (path, keyPath) in members {
            let expected = try #require(MemoryLayout<FixtureMixed>.offset(of: keyPath))
            #expect(try layout.offset(of: path) == UInt64(expected), "\(path)")
        }
        #expect(try layout.member("node").size == UInt64(MemoryLayout<FixtureNode?>.size))
        #expect(try layout.member("shape").size == UInt64(MemoryLayout<FixtureShape>.size))
        #expect(try layout.member("maybes").array?.elementStride == UInt64(MemoryLayout<UInt32?>.stride))
        #expect(try layout.member("pointer").nested == nil)  // standard-library types stay leaves
    }

    @Test func aClassIsNotAStructLayout() throws {
        #expect {
            _ = try types().structLayout(named: "FixtureNode")
        } throws: { error in
            guard case KernelImageError.layoutIncomplete(_, let reason) = error else { return false }
            return reason.contains("is a class")
        }
    }

    @Test func cStructsComeStraightFromDWARF() throws {
        let f = try Fixtures.get()
        let zone = try types().structLayout(named: "c_zone")
        #expect(zone.language == .c)
        #expect(zone.offsetSource == .dwarf)
        #expect(zone.size == f.cZoneOffsets["sizeof"])
        for name in ["name", "free", "lists", "flags", "order", "state", "head"] {
            #expect(try zone.offset(of: name) == f.cZoneOffsets[name], "\(name)")
        }
        #expect(try zone.member("lists").array?.count == 3)
        #expect(try zone.member("head").typeName == "const struct c_list *")
        let state = try #require(try zone.member("state").enumeration)
        #expect(!state.storedValuesAreCaseIndexes)
        for c in state.cases { #expect(f.cStateValues[c.name] == c.storedValue, "\(c.name)") }
        #expect(state.cases.count == f.cStateValues.count)
    }

    @Test func globalsHaveTheirDWARFAddress() throws {
        let f = try Fixtures.get()
        let elf = try ElfFile(path: f.image)
        let zoneSymbol = try elf.symbolTable().lookup("Fix.fixtureZone")
        let global = try types().globalVariable(named: "Fix.fixtureZone")
        #expect(global.address == zoneSymbol.address)
        #expect(global.typeName == "Fix.FixtureZone")
        #expect(global.size == UInt64(MemoryLayout<FixtureZone>.size))
        #expect(global.linkageName == zoneSymbol.name)
    }

    @Test func aGlobalMissingFromTheSymbolTableIsFoundThroughDWARF() throws {
        let f = try Fixtures.get()
        let original = try ElfFile(path: f.image).symbolTable().lookup("Fix.fixtureZone").address
        let image = try KernelImage(path: f.withoutZoneSymbol)
        #expect(throws: KernelImageError.self) { _ = try image.symbol("Fix.fixtureZone") }
        #expect(try image.address(ofGlobal: "Fix.fixtureZone") == original)
        #expect(try image.address(ofGlobal: "fixtureZone") == original)
    }

    @Test func unknownStructsAndMembersSuggestTheClosestNames() throws {
        let t = try types()
        #expect {
            _ = try t.structLayout(named: "FixtureFrme")
        } throws: { error in
            guard case KernelImageError.structNotFound(_, let closest) = error else { return false }
            return closest.contains("FixtureFrame") && "\(error)".contains("no struct 'FixtureFrme'")
        }
        let layout = try t.structLayout(named: "FixtureFrame")
        #expect {
            _ = try layout.member("sequ")
        } throws: { error in
            guard case KernelImageError.memberNotFound(let s, let m, let closest) = error else { return false }
            return s == "Fix.FixtureFrame" && m == "sequ" && closest.first == "seq"
        }
        #expect(throws: KernelImageError.self) { _ = try layout.member("inner.c") }
    }
}
