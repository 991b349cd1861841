import AllocatorView

/// The report page for a ``MemoryMapPage``: one self-contained HTML file (no network, no
/// external file). Title, verdict and the post-mortem banner first; then the map of physical
/// memory with a PFN / physical-address axis, the zone and segment bands with their names and
/// every violation ringed; beside it the violation list (check and frame) and the decode of the
/// selected frame — a click on a ring or a list entry selects both; below, the holes and
/// reserved ranges and the text views. `FILE.html#select=N` opens with violation N selected,
/// `FILE.html#pfn=0x…` as a click on that frame's cell.
/// Positions follow ``MemoryMapLayout``.
public enum MemoryMapHTML {
    public static func render(_ page: MemoryMapPage) -> String {
        typealias L = MemoryMapLayout
        let layout = MemoryMapLayout(frameCount: page.frameCount, framesPerCell: page.framesPerCell)
        let codes = String(page.cells.prefix(layout.cellCount).map { Character(UnicodeScalar(UInt8(97 + $0.rawValue))) })
        let classes = MemoryMapPage.CellClass.allCases
        let colors = classes.map { js($0.color) }.joined(separator: ",")
        let labels = classes.map { js($0.label) }.joined(separator: ",")
        func bands(_ b: [MemoryMapPage.Band]) -> String { b.map { "[\($0.start),\($0.end),\(js($0.name))]" }.joined(separator: ",") }
        let marks = page.marks.map { m in
            "[\(m.pfn.map(String.init) ?? "-1"),\(js(m.check)),\(js(m.text)),\(js(m.note ?? "")),\(js(m.decode ?? "")),"
                + (m.span.map { "\($0.start),\($0.end)" } ?? "-1,-1") + "]"
        }.joined(separator: ",\n")
        // the legend names the classes the map shows (and the violation's red and ring when there is one)
        var shown = Set(page.cells)
        if !page.marks.isEmpty { shown.insert(.violation) }
        let legend = classes.filter(shown.contains).map {
            "<span class=\"key\"><span class=\"sw\" style=\"background:\($0.color)\"></span>\(escape($0.label))</span>"
        }.joined(separator: "\n")
            + "\n<span class=\"key\"><span class=\"sw ring\"></span>ringed: a violation's frame</span>"
        let zoneKey = page.zones.enumerated().map { i, z in
            "<span class=\"key\"><span class=\"sw\" style=\"background:\(L.zoneColors[i % L.zoneColors.count])\"></span>zone \(escape(z.name)) pfn [\(hex(z.start)), \(hex(z.end)))</span>"
        }.joined(separator: "\n")
        let unit = page.framesPerCell == 1 ? "frame" : "\(page.framesPerCell) frames (the most common class)"
        let rowBytes = layout.framesPerRow * page.pageSize
        var ticks: [String] = []
        for row in stride(from: 0, through: layout.rows, by: layout.rowsPerLabel) {
            let pfn = UInt64(row) * layout.framesPerRow
            ticks.append("<div class=\"tick\" data-pfn=\"\(hex(pfn))\" style=\"top:\(L.mapTop + row * layout.cellSize - 7)px\">pfn \(hex(pfn)) · \(hex(pfn * page.pageSize))</div>")
        }
        let items = page.marks.enumerated().map { i, m in
            "<li class=\"v\" id=\"v\(i)\" data-i=\"\(i)\" data-check=\"\(escape(m.check))\" data-pfn=\"\(m.pfn.map(hex) ?? "")\">"
                + "<b>\(escape(m.check))</b> · " + (m.pfn.map { "pfn \(hex($0))" }
                    ?? m.span.map { "\(escape($0.name)) pfn [\(hex($0.start)), \(hex($0.end)))" } ?? "no frame")
                + "<br><span class=\"t\">\(escape(m.text))</span>" + (m.note.map { "<br><i>\(escape($0))</i>" } ?? "") + "</li>"
        }.joined(separator: "\n")
        let runRows = page.runs.map {
            "<tr><td class=\"sw\" style=\"background:\($0.cellClass.color)\"></td><td>pfn [\(hex($0.start)), \(hex($0.end)))</td><td>\($0.end - $0.start) frames</td><td>\(escape($0.cellClass.label))</td></tr>"
        }.joined(separator: "\n")
        let sections = page.sections.map { "<h2>\(escape($0.0))</h2>\n<pre>\(escape($0.1))</pre>" }.joined(separator: "\n")
        let banner = page.banner.isEmpty ? "" : "<div id=\"banner\">" + page.banner.map(escape).joined(separator: "<br>") + "</div>"
        let belowTop = L.mapTop + layout.mapHeight + 24
        return """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(escape(page.title))</title>
        <style>
        body { margin: 0; font: 13px/1.4 ui-monospace, Menlo, Consolas, monospace; color: #111; background: #fff; min-width: \(L.pageWidth)px; }
        #head { position: absolute; left: 16px; top: 0; width: \(L.pageWidth - 32)px; height: \(L.headerHeight - 8)px; overflow: auto; }
        h1 { font-size: 17px; margin: 8px 0 4px; } h2 { font-size: 14px; margin: 14px 0 4px; }
        #verdict { font-size: 15px; font-weight: bold; margin: 0 0 4px; } #verdict.bad { color: #c00000; } #verdict.ok { color: #1b7a1b; }
        #banner { background: #fff0f0; border: 2px solid #c00000; padding: 3px 8px; }
        #rownote { position: absolute; left: \(L.mapLeft)px; top: \(L.mapTop - 20)px; color: #555; }
        .tick { position: absolute; left: 0; width: \(L.axisWidth)px; text-align: right; font-size: 11px; line-height: 14px; color: #333; }
        .tick::after { content: ""; display: inline-block; width: 6px; border-top: 1px solid #333; vertical-align: 3px; margin-left: 3px; }
        #bands { position: absolute; left: \(L.zoneBandLeft)px; top: \(L.mapTop)px; }
        #map { position: absolute; left: \(L.mapLeft)px; top: \(L.mapTop)px; image-rendering: pixelated; }
        #marks { position: absolute; left: \(L.mapLeft - L.ringPad)px; top: \(L.mapTop - L.ringPad)px; }
        #marks { cursor: crosshair; }
        #side { position: absolute; left: \(L.sideLeft)px; top: \(L.mapTop - 20)px; width: \(L.sideWidth)px; }
        #violations { max-height: 420px; overflow-y: auto; margin: 0; padding-left: 28px; border: 1px solid #ccc; }
        .v { cursor: pointer; padding: 2px 4px; border-bottom: 1px solid #eee; } .v:hover { background: #f6f0ff; }
        .v.sel { background: #dff4ff; outline: 2px solid \(L.selectedRingColor); } .v .t { color: #444; font-size: 12px; }
        #decode { white-space: pre-wrap; min-height: 60px; }
        #below { position: absolute; left: \(L.mapLeft)px; top: \(belowTop)px; width: \(L.mapWidth)px; }
        #tip { position: fixed; pointer-events: none; background: #ffffe0; border: 1px solid #888; padding: 2px 6px; display: none; }
        .key { display: inline-block; margin: 0 12px 3px 0; font-size: 12px; }
        .sw { display: inline-block; width: 12px; height: 12px; vertical-align: -2px; margin-right: 4px; border: 1px solid #555; }
        .sw.ring { border: 3px solid \(L.ringColor); width: 8px; height: 8px; }
        pre { background: #f4f4f4; padding: 8px; overflow-x: auto; } table { border-collapse: collapse; } td { padding: 1px 6px; }
        </style></head><body>
        <header id="head">
        <h1>\(escape(page.title))</h1>
        <p id="verdict" class="\(page.passed ? "ok" : "bad")">\(escape(page.verdict))</p>
        \(banner)
        </header>
        <div id="rownote">one cell per \(unit) · each row \(layout.framesPerRow) frames (\(bytes(rowBytes))) · \(page.frameCount) frames</div>
        <div id="axis">
        \(ticks.joined(separator: "\n"))
        </div>
        <canvas id="bands" width="\(2 * L.bandWidth + 2)" height="\(layout.mapHeight)"></canvas>
        <canvas id="map" width="\(L.mapWidth)" height="\(layout.mapHeight)"></canvas>
        <canvas id="marks" width="\(L.mapWidth + 2 * L.ringPad)" height="\(layout.mapHeight + 2 * L.ringPad)"></canvas>
        <div id="tip"></div>
        <aside id="side">
        <div>\(legend)</div>
        <div>\(zoneKey)</div>
        <h2>Violations (\(page.marks.count + page.unlisted))</h2>
        <ol id="violations">
        \(items)
        </ol>
        \(page.unlisted > 0 ? "<p>\(page.unlisted) more not listed (verify keeps the first of each check)</p>" : "")
        <h2>Frame</h2>
        <pre id="decode">\(page.marks.isEmpty ? "No violation. Click a cell of the map to see what it holds." : "Click a violation (on the map or in the list) to see its frame.")</pre>
        </aside>
        <div id="below">
        <h2>Holes and reserved ranges</h2>
        <table id="runs">\(runRows)</table>
        \(sections)
        </div>
        <script>
        const cells = "\(codes)", colors = [\(colors)], labels = [\(labels)];
        const zones = [\(bands(page.zones))], segments = [\(bands(page.segments))];
        const marks = [\(marks)];
        const per = \(page.framesPerCell), cols = \(layout.columns), size = \(layout.cellSize), rows = \(layout.rows);
        const zoneColors = [\(L.zoneColors.map(js).joined(separator: ","))], segColors = [\(L.segmentColors.map(js).joined(separator: ","))];
        const outside = "\(L.outsideColor)", bw = \(L.bandWidth), gap = \(L.ringGap), rw = \(L.ringWidth);
        const ring = "\(L.ringColor)", selRing = "\(L.selectedRingColor)", pad = \(L.ringPad);
        const hex = n => "0x" + n.toString(16);
        const find = (list, pfn) => list.findIndex(b => pfn >= b[0] && pfn < b[1]);
        const ctx = document.getElementById("map").getContext("2d");
        for (let i = 0; i < cells.length; i++) {
          ctx.fillStyle = colors[cells.charCodeAt(i) - 97];
          ctx.fillRect((i % cols) * size, Math.floor(i / cols) * size, size, size);
        }
        // the bands: each row takes the zone and the segment of its first frame; names along them
        const bctx = document.getElementById("bands").getContext("2d");
        for (let r = 0; r < rows; r++) {
          const pfn = r * cols * per, z = find(zones, pfn), s = find(segments, pfn);
          bctx.fillStyle = z < 0 ? outside : zoneColors[z % zoneColors.length];
          bctx.fillRect(0, r * size, bw, size);
          bctx.fillStyle = s < 0 ? outside : segColors[s % segColors.length];
          bctx.fillRect(bw + 2, r * size, bw, size);
        }
        function names(list, x, color) {
          list.forEach(b => {
            const top = Math.floor(b[0] / per / cols) * size, bottom = Math.ceil(b[1] / per / cols) * size;
            bctx.save(); bctx.beginPath(); bctx.rect(x + 3, top, bw - 3, bottom - top); bctx.clip();
            bctx.translate(x + bw / 2 + 4, top + 3); bctx.rotate(Math.PI / 2);
            bctx.fillStyle = color; bctx.font = "bold 10px sans-serif"; bctx.fillText(b[2], 0, 0); bctx.restore();
          });
        }
        names(zones, 0, "#000"); names(segments, bw + 2, "#fff");
        // the rings
        const mk = document.getElementById("marks"), mctx = mk.getContext("2d");
        let selected = -1;
        function drawRings() {
          mctx.clearRect(0, 0, mk.width, mk.height);
          marks.forEach((m, i) => {
            if (i === selected) return;
            if (m[0] >= 0) frame(m[0], ring, rw, gap); else if (m[5] >= 0) bracket(m[5], m[6], ring);
          });
          const s = selected >= 0 ? marks[selected] : null;
          if (s && s[0] >= 0) frame(s[0], selRing, rw + 2, gap + 2); else if (s && s[5] >= 0) bracket(s[5], s[6], selRing);
        }
        // a violation of a segment or zone (no one frame): a bar beside the map along its rows
        function bracket(start, end, color) {
          const top = Math.floor(start / per / cols) * size, bottom = Math.ceil(end / per / cols) * size;
          mctx.fillStyle = color;
          mctx.fillRect(pad - \(L.bracketOffset), pad + top, rw, bottom - top);
        }
        function frame(pfn, color, w, g) {
          const c = Math.floor(pfn / per), x = pad + (c % cols) * size - g, y = pad + Math.floor(c / cols) * size - g, s = size + 2 * g;
          mctx.fillStyle = color;
          mctx.fillRect(x, y, s, w); mctx.fillRect(x, y + s - w, s, w); mctx.fillRect(x, y, w, s); mctx.fillRect(x + s - w, y, w, s);
        }
        drawRings();
        const decode = document.getElementById("decode"), items = document.querySelectorAll("#violations .v");
        function describe(cell) {
          const pfn = cell * per, z = find(zones, pfn), s = find(segments, pfn);
          return (per === 1 ? "pfn " + hex(pfn) + " (phys " + hex(pfn * \(page.pageSize)) + ")" : "pfn " + hex(pfn) + "–" + hex(pfn + per - 1)) +
            " · " + (z < 0 ? "no zone" : "zone " + zones[z][2]) + " · " + (s < 0 ? "no segment" : "segment " + segments[s][2]) +
            " · " + labels[cells.charCodeAt(cell) - 97];
        }
        function select(i, scroll) {
          selected = i;
          items.forEach(li => li.classList.toggle("sel", Number(li.dataset.i) === i));
          drawRings();
          const m = marks[i];
          if (m[0] < 0 && m[5] >= 0) { decode.textContent = m[1] + ": " + m[2] + (m[3] ? "\\n[" + m[3] + "]" : "") + "\\n\\nabout pfn [" + hex(m[5]) + ", " + hex(m[6]) + "): the bar beside the map"; return; }
          decode.textContent = m[1] + ": " + m[2] + (m[3] ? "\\n[" + m[3] + "]" : "") + (m[4] ? "\\n\\n" + m[4] : "");
          if (scroll) items[i].scrollIntoView({ block: "nearest" });
        }
        items.forEach(li => li.addEventListener("click", () => select(Number(li.dataset.i), false)));
        const tip = document.getElementById("tip");
        function cellAt(e) {
          const r = mk.getBoundingClientRect();
          const x = Math.floor((e.clientX - r.left - pad) / size), y = Math.floor((e.clientY - r.top - pad) / size);
          return x < 0 || x >= cols || y < 0 ? -1 : y * cols + x;
        }
        mk.addEventListener("click", e => pick(cellAt(e)));
        // a cell picked (clicked, or named by #pfn=0x…): the violation ringed nearest to it, else what the cell holds
        function pick(cell) {
          if (cell < 0 || cell >= cells.length) return;
          // the nearest ringed frame within a ring's reach of the click
          let best = -1, dist = 1e9, reach = Math.ceil(gap / size) + 1;
          marks.forEach((m, i) => {
            if (m[0] < 0) return;
            const c = Math.floor(m[0] / per), d = Math.max(Math.abs(c % cols - cell % cols), Math.abs(Math.floor(c / cols) - Math.floor(cell / cols)));
            if (d <= reach && d < dist) { best = i; dist = d; }
          });
          if (best >= 0) return select(best, true);
          selected = -1; items.forEach(li => li.classList.remove("sel")); drawRings();
          decode.textContent = describe(cell);
        }
        mk.addEventListener("mousemove", e => {
          const cell = cellAt(e);
          if (cell < 0 || cell >= cells.length) { tip.style.display = "none"; return; }
          tip.textContent = describe(cell);
          tip.style.left = (e.clientX + 12) + "px"; tip.style.top = (e.clientY + 12) + "px"; tip.style.display = "block";
        });
        mk.addEventListener("mouseleave", () => { tip.style.display = "none"; });
        // page.html#select=3 opens with violation 3 selected (a link to one violation)
        // and page.html#pfn=0x2201 as a click on that frame's cell
        const opened = location.hash.match(/^#select=([0-9]+)$/), picked = location.hash.match(/^#pfn=0x([0-9a-f]+)$/);
        if (opened && Number(opened[1]) < marks.length) select(Number(opened[1]), false);
        if (picked) pick(Math.floor(parseInt(picked[1], 16) / per));
        </script>
        </body></html>
        """
    }

    static func bytes(_ v: UInt64) -> String {
        v >= 1 << 30 && v % (1 << 30) == 0 ? "\(v >> 30) GiB" : v >= 1 << 20 && v % (1 << 20) == 0 ? "\(v >> 20) MiB" : "\(v >> 10) KiB"
    }

    /// A JavaScript string literal (double quotes) that cannot end the script element.
    public static func js(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "<": out += "\\u003c"
            case ">": out += "\\u003e"
            case "&": out += "\\u0026"
            default:
                if u.value < 0x20 || u.value == 0x2028 || u.value == 0x2029 {
                    out += "\\u" + String(repeating: "0", count: 4 - String(u.value, radix: 16).count) + String(u.value, radix: 16)
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }

    /// Text made safe for HTML.
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }
}
