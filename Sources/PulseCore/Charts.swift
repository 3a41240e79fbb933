import Foundation

/// Charts as inline SVG: no script, no web font, nothing fetched, so that a report is
/// one file that opens anywhere and prints. Every text is escaped.
public enum SVGChart {
    static func n(_ x: Double) -> String { String(format: "%.1f", x) }

    /// A chart never shrinks below the width it is drawn for, where its text is 11 px: on a
    /// narrower screen (a phone) it scrolls sideways inside its own box, which the keyboard
    /// can reach, and the page itself keeps to the screen's width.
    static func framed(_ svg: String, title: String) -> String {
        #"<div class="chart-frame" role="region" tabindex="0" aria-label="\#(htmlEscaped(title))">"#
            + svg + "</div>"
    }

    /// A line over labelled points (gaps where a value is missing), with an optional
    /// band (an interval per point) and a dashed reference line.
    public static func line(title: String, labels: [String], values: [Double?], band: [ClosedRange<Double>?]? = nil,
                            yRange: ClosedRange<Double>, reference: (value: Double, label: String)? = nil,
                            width: Double = 640, height: Double = 220) -> String {
        let left = 44.0, right = 12.0, top = 14.0, bottom = 34.0
        let plotW = width - left - right, plotH = height - top - bottom
        let count = max(labels.count, 1)
        func x(_ i: Int) -> Double { left + (count == 1 ? plotW / 2 : plotW * Double(i) / Double(count - 1)) }
        func y(_ v: Double) -> Double {
            let span = yRange.upperBound - yRange.lowerBound
            return top + plotH * (1 - (min(max(v, yRange.lowerBound), yRange.upperBound) - yRange.lowerBound) / span)
        }
        var s = #"<svg class="chart" role="img" viewBox="0 0 \#(n(width)) \#(n(height))" style="min-width: \#(Int(width.rounded(.up)))px">"#
        s += "<title>\(htmlEscaped(title))</title>"
        // Grid and axis labels: four steps.
        for k in 0...4 {
            let v = yRange.lowerBound + (yRange.upperBound - yRange.lowerBound) * Double(k) / 4
            s += #"<line x1="\#(n(left))" x2="\#(n(width - right))" y1="\#(n(y(v)))" y2="\#(n(y(v)))" class="grid"/>"#
            s += #"<text x="\#(n(left - 6))" y="\#(n(y(v) + 4))" class="axis" text-anchor="end">\#(Int(v.rounded()))</text>"#
        }
        let step = max(1, Int((Double(count) / 8).rounded(.up)))
        for (i, label) in labels.enumerated() where i % step == 0 || i == count - 1 {
            // The end labels lean inwards so that they are never cut by the edge.
            let anchor = count > 1 && i == 0 ? "start" : count > 1 && i == count - 1 ? "end" : "middle"
            s += #"<text x="\#(n(x(i)))" y="\#(n(height - 12))" class="axis" text-anchor="\#(anchor)">\#(htmlEscaped(label))</text>"#
        }
        if let band {
            // One polygon per run of points with an interval.
            var run: [(Int, ClosedRange<Double>)] = []
            func flush() {
                guard run.count > 1 else { run = []; return }
                let upper = run.map { "\(n(x($0.0))),\(n(y($0.1.upperBound)))" }
                let lower = run.reversed().map { "\(n(x($0.0))),\(n(y($0.1.lowerBound)))" }
                s += #"<polygon class="band" points="\#((upper + lower).joined(separator: " "))"/>"#
                run = []
            }
            for (i, b) in band.enumerated() { if let b { run.append((i, b)) } else { flush() } }
            flush()
        }
        if let reference {
            s += #"<line x1="\#(n(left))" x2="\#(n(width - right))" y1="\#(n(y(reference.value)))" y2="\#(n(y(reference.value)))" class="reference"/>"#
            s += #"<text x="\#(n(width - right))" y="\#(n(y(reference.value) - 5))" class="axis" text-anchor="end">\#(htmlEscaped(reference.label))</text>"#
        }
        var segment: [String] = []
        func flushLine() {
            if segment.count > 1 { s += #"<polyline class="series" points="\#(segment.joined(separator: " "))"/>"# }
            segment = []
        }
        for (i, v) in values.enumerated() {
            guard let v else { flushLine(); continue }
            segment.append("\(n(x(i))),\(n(y(v)))")
        }
        flushLine()
        for (i, v) in values.enumerated() {
            guard let v else { continue }
            s += #"<circle class="point" cx="\#(n(x(i)))" cy="\#(n(y(v)))" r="3.5"><title>\#(htmlEscaped(labels[i])): \#(n(v))</title></circle>"#
        }
        return framed(s + "</svg>", title: title)
    }

    /// A heatmap of rows by columns, 0-100, a blank cell where there is no value and a
    /// hatched one where it is hidden by the anonymity threshold.
    public static func heatmap(title: String, rows: [String], columns: [String], cells: [[HeatCell]]) -> String {
        let labelW = 170.0, cellW = max(22.0, min(44.0, 560.0 / Double(max(columns.count, 1)))), cellH = 22.0, top = 34.0
        let width = labelW + cellW * Double(columns.count) + 10, height = top + cellH * Double(rows.count) + 8
        var s = #"<svg class="chart heatmap" role="img" viewBox="0 0 \#(n(width)) \#(n(height))" style="min-width: \#(Int(width.rounded(.up)))px">"#
        s += "<title>\(htmlEscaped(title))</title>"
        s += #"<defs><pattern id="hidden" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" class="hatch"/></pattern></defs>"#
        let step = max(1, Int((Double(columns.count) * cellW / 360).rounded(.up)))
        for (j, c) in columns.enumerated() where j % step == 0 {
            s += #"<text x="\#(n(labelW + cellW * (Double(j) + 0.5)))" y="22" class="axis" text-anchor="middle">\#(htmlEscaped(c))</text>"#
        }
        for (i, r) in rows.enumerated() {
            let y = top + cellH * Double(i)
            s += #"<text x="\#(n(labelW - 8))" y="\#(n(y + 15))" class="axis" text-anchor="end">\#(htmlEscaped(String(r.prefix(26))))</text>"#
            for (j, cell) in cells[i].enumerated() {
                let x = labelW + cellW * Double(j)
                let rect = #"x="\#(n(x + 1))" y="\#(n(y + 1))" width="\#(n(cellW - 2))" height="\#(n(cellH - 2))""#
                switch cell {
                case .empty:
                    s += #"<rect \#(rect) class="empty"><title>\#(htmlEscaped(r)) \#(htmlEscaped(columns[j])): no answers</title></rect>"#
                case .hidden:
                    s += #"<rect \#(rect) fill="url(#hidden)" class="hidden"><title>\#(htmlEscaped(r)) \#(htmlEscaped(columns[j])): hidden (too few respondents)</title></rect>"#
                case let .value(v):
                    s += #"<rect \#(rect) fill="\#(color(v))"><title>\#(htmlEscaped(r)) \#(htmlEscaped(columns[j])): \#(n(v))</title></rect>"#
                    if cellW >= 30 {
                        s += #"<text x="\#(n(x + cellW / 2))" y="\#(n(y + 15))" class="cell" text-anchor="middle">\#(Int(v.rounded()))</text>"#
                    }
                }
            }
        }
        return framed(s + "</svg>", title: title)
    }

    public enum HeatCell: Sendable, Equatable { case empty, hidden, value(Double) }

    /// Red (0) through yellow (50) to green (100), readable in grey print.
    static func color(_ v: Double) -> String {
        let t = min(max(v, 0), 100) / 100
        let hue = 120 * t
        let light = 78 - 30 * abs(t - 0.5)
        return "hsl(\(Int(hue)), 62%, \(Int(light))%)"
    }

    /// A scatter of (x, y) points with both axes fitted to the data.
    public static func scatter(title: String, xLabel: String, yLabel: String, points: [(x: Double, y: Double)],
                               width: Double = 640, height: Double = 280) -> String {
        let left = 50.0, right = 14.0, top = 14.0, bottom = 40.0
        let xs = points.map(\.x), ys = points.map(\.y)
        let x0 = xs.min() ?? 0, x1 = max(xs.max() ?? 1, x0 + 1), y0 = min(ys.min() ?? 0, 0), y1 = max(ys.max() ?? 100, 100)
        func px(_ v: Double) -> Double { left + (width - left - right) * (v - x0) / (x1 - x0) }
        func py(_ v: Double) -> Double { top + (height - top - bottom) * (1 - (v - y0) / (y1 - y0)) }
        var s = #"<svg class="chart" role="img" viewBox="0 0 \#(n(width)) \#(n(height))" style="min-width: \#(Int(width.rounded(.up)))px">"#
        s += "<title>\(htmlEscaped(title))</title>"
        for k in 0...4 {
            let v = y0 + (y1 - y0) * Double(k) / 4, u = x0 + (x1 - x0) * Double(k) / 4
            s += #"<line x1="\#(n(left))" x2="\#(n(width - right))" y1="\#(n(py(v)))" y2="\#(n(py(v)))" class="grid"/>"#
            s += #"<text x="\#(n(left - 6))" y="\#(n(py(v) + 4))" class="axis" text-anchor="end">\#(Int(v.rounded()))</text>"#
            s += #"<text x="\#(n(px(u)))" y="\#(n(height - 22))" class="axis" text-anchor="middle">\#(tick(u, span: x1 - x0))</text>"#
        }
        s += #"<text x="\#(n((left + width - right) / 2))" y="\#(n(height - 4))" class="axis" text-anchor="middle">\#(htmlEscaped(xLabel))</text>"#
        s += #"<text x="12" y="\#(n(top + (height - top - bottom) / 2))" class="axis" text-anchor="middle" transform="rotate(-90 12 \#(n(top + (height - top - bottom) / 2)))">\#(htmlEscaped(yLabel))</text>"#
        for p in points {
            s += #"<circle class="dot" cx="\#(n(px(p.x)))" cy="\#(n(py(p.y)))" r="3"/>"#
        }
        return framed(s + "</svg>", title: title)
    }

    /// An axis label as precise as the axis needs: 120 on a wide one, 0.25 on one of rates.
    static func tick(_ v: Double, span: Double) -> String {
        if span >= 20 { return String(Int(v.rounded())) }
        var text = String(format: "%.2f", v)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text == "-0" ? "0" : text
    }

    /// The style sheet the charts and reports share: calm colours, print friendly.
    public static let css = """
        :root { color-scheme: light; --ink: #1d2733; --muted: #5b6875; --line: #d5dbe1; --accent: #2f6fb0; }
        * { box-sizing: border-box; }
        body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", "Noto Sans", "Noto Sans Thai", sans-serif; color: var(--ink);
               margin: 0 auto; max-width: 980px; padding: 28px 24px 48px; background: #fff; }
        h1 { font-size: 1.6em; margin: 0 0 2px; } h2 { font-size: 1.15em; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
        .sub { color: var(--muted); margin: 0 0 18px; }
        .cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 12px 0; }
        .card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; min-width: 150px; }
        .card .big { font-size: 1.7em; font-weight: 650; } .card .label { color: var(--muted); font-size: .85em; }
        .flag { display: block; border-left: 4px solid #c0392b; background: #fbeeec; padding: 6px 10px; margin: 6px 0; border-radius: 0 6px 6px 0; }
        .flag code { font-weight: 650; color: #8e2a1f; }
        .ok { border-left: 4px solid #2e8b57; background: #edf7f1; padding: 6px 10px; border-radius: 0 6px 6px 0; }
        .missing { color: var(--muted); font-style: italic; }
        table { border-collapse: collapse; width: 100%; margin: 6px 0; font-variant-numeric: tabular-nums; }
        th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); }
        td.num, th.num { text-align: right; }
        blockquote { margin: 6px 0; padding: 6px 12px; border-left: 3px solid var(--line); color: var(--ink); background: #f7f9fb; }
        svg.chart { width: 100%; height: auto; display: block; margin: 8px 0; }
        .chart-frame { overflow-x: auto; margin: 8px 0; } .chart-frame svg.chart { margin: 0; }
        .chart-frame:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
        svg .grid { stroke: #e6eaee; stroke-width: 1; } svg .axis { fill: var(--muted); font-size: 11px; }
        svg .series { fill: none; stroke: var(--accent); stroke-width: 2.5; } svg .point { fill: var(--accent); }
        svg .band { fill: #2f6fb0; fill-opacity: .15; } svg .reference { stroke: #8a96a3; stroke-dasharray: 5 4; }
        svg .dot { fill: var(--accent); fill-opacity: .55; } svg .cell { font-size: 11px; fill: #1d2733; }
        svg .empty { fill: #f4f6f8; } svg .hatch { stroke: #b9c2cb; stroke-width: 2; }
        footer { margin-top: 36px; color: var(--muted); font-size: .85em; }
        @media (max-width: 480px) { body { padding: 20px 12px 40px; } th, td { padding: 5px 6px; } }
        @media print { body { padding: 0; max-width: none; } h2 { break-after: avoid; } svg, table, .card { break-inside: avoid; } }
        """

    /// A whole page: the only external thing it may name is nothing at all.
    public static func page(title: String, lang: String = "en", body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="\(htmlEscaped(lang))"><head><meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
        <title>\(htmlEscaped(title))</title>
        <style>\(css)</style></head>
        <body>
        \(body)
        </body></html>

        """
    }
}
