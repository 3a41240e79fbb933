import Foundation

func fmt(_ v: Double?, places: Int = 1) -> String {
    guard let v else { return "–" }
    return fixedDecimals(v, places: places)
}

/// `String(format: "%.Nf", v)` without Foundation's formatter (a tenth of the time, and
/// reports format thousands of cells): the same digits, the binary value's exact
/// decimal expansion rounded half to even. Values it cannot do exactly (not finite, or
/// 10^places × |v| at or over 2^52) go to the formatter.
public func fixedDecimals(_ v: Double, places: Int) -> String {
    let powers: [Double] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000]
    guard places >= 0, places < powers.count, v.isFinite, abs(v) * powers[places] < 0x1p52 else {
        return String(format: "%.\(places)f", v)
    }
    let scale = powers[places], a = abs(v)
    // a × scale as a double and the exact remainder of the product (a fused multiply-add):
    // only a product landing on a half needs the remainder to round as the exact value would.
    let p = a * scale, error = (-p).addingProduct(a, scale)
    let floor = p.rounded(.down), fraction = p - floor
    let n: Double
    if fraction > 0.5 || (fraction == 0.5 && error > 0) { n = floor + 1 }
    else if fraction < 0.5 || error < 0 { n = floor }
    else { n = floor.truncatingRemainder(dividingBy: 2) == 0 ? floor : floor + 1 }
    let digits = UInt64(n), unit = UInt64(scale)
    var out = v.sign == .minus ? "-" : ""
    out += String(digits / unit)
    guard places > 0 else { return out }
    let tail = String(digits % unit)
    return out + "." + String(repeating: "0", count: places - tail.count) + tail
}

// MARK: - eNPS

extension ENPSReport {
    public var json: JSON {
        .object([
            ("survey", .string(survey)),
            ("from", .string(range.from.description)),
            ("to", .string(range.to.description)),
            ("by", .string(by.rawValue)),
            ("groups", .array(groups.map { g in
                .object([
                    ("group", .string(g.group)),
                    ("invited", .from(g.invited)),
                    ("responses", .from(g.responses)),
                    ("respondents", .from(g.respondents)),
                    ("response_rate", .from(g.responseRate)),
                    ("promoters", .from(g.promoters)),
                    ("passives", .from(g.passives)),
                    ("detractors", .from(g.detractors)),
                    ("enps", .from(g.enps)),
                    ("ci95", g.ci95.map { .array([.double($0.lowerBound), .double($0.upperBound)]) } ?? .null),
                    ("suppressed", .bool(g.suppressed)),
                ])
            })),
        ])
    }

    public var csv: String {
        var w = CSVWriter()
        w.header(["survey", "from", "to", "group", "invited", "responses", "respondents", "response_rate",
                  "promoters", "passives", "detractors", "enps", "ci95_low", "ci95_high", "suppressed"])
        for g in groups {
            w.row([.text(survey), .text(range.from.description), .text(range.to.description), .text(g.group),
                   .int(g.invited), .int(g.responses), .int(g.respondents), .number(g.responseRate),
                   .int(g.promoters), .int(g.passives), .int(g.detractors), .number(g.enps),
                   .number(g.ci95?.lowerBound), .number(g.ci95?.upperBound), .bool(g.suppressed)])
        }
        return w.text
    }

    public func table(style: Style, minGroupSize: Int) -> String {
        let span = range.from == range.to ? range.from.description : "\(range.from) to \(range.to)"
        var out = style.bold(TerminalText.escaped("eNPS · \(survey) · \(span) · by \(by.rawValue)")) + "\n\n"
        guard !groups.isEmpty else { return out + "No eNPS answers in this range.\n" }
        var t = TextTable([(by == .all ? "" : by.rawValue, .left), ("eNPS", .right), ("95% interval", .right),
                           ("promoters", .right), ("passives", .right), ("detractors", .right),
                           ("responses", .right), ("rate", .right)])
        for g in groups {
            if g.suppressed {
                let cells = [g.group, "hidden", "", "", "", "", "", ""]
                t.add(cells, styles: cells.map { _ in { style.dim($0) } })
                continue
            }
            let score = g.enps.map { ($0 > 0 ? "+" : "") + fmt($0) } ?? "–"
            var scoreStyle: ((String) -> String)?
            if let e = g.enps, e != 0 { scoreStyle = e > 0 ? { style.green($0) } : { style.red($0) } }
            let ci = g.ci95.map { "\(fmt($0.lowerBound)) to \(fmt($0.upperBound))" } ?? "–"
            let rate = g.responseRate.map { "\(Int(($0 * 100).rounded()))%" } ?? "–"
            let cells = [g.group, score, ci, "\(g.promoters ?? 0)", "\(g.passives ?? 0)", "\(g.detractors ?? 0)",
                         g.invited.map { "\(g.responses ?? 0)/\($0)" } ?? "\(g.responses ?? 0)", rate]
            t.add(cells, styles: [nil, scoreStyle])
        }
        out += t.render(style: style)
        if groups.contains(where: \.suppressed) {
            out += style.dim("\nhidden: fewer than \(minGroupSize) respondents, or hidden with such a group so that it cannot be worked out.") + "\n"
        }
        return out
    }
}

// MARK: - Trends

extension TrendsReport {
    public var json: JSON {
        .object([
            ("survey", .string(survey)),
            ("from", .string(range.from.description)),
            ("to", .string(range.to.description)),
            ("by", .string(by.rawValue)),
            ("series", .array(series.map { s in
                .object([
                    ("group", .string(s.group)),
                    ("points", .array(s.points.map { p in
                        .object([
                            ("period", .string(p.period.description)),
                            ("morale", .from(p.morale)),
                            ("respondents", .from(p.respondents)),
                            ("suppressed", .bool(p.suppressed)),
                        ])
                    })),
                ])
            })),
        ])
    }

    public var csv: String {
        var w = CSVWriter()
        w.header(["survey", "group", "period", "morale", "respondents", "suppressed"])
        for s in series {
            for p in s.points {
                w.row([.text(survey), .text(s.group), .text(p.period.description), .number(p.morale),
                       .int(p.respondents), .bool(p.suppressed)])
            }
        }
        return w.text
    }

    public func table(style: Style, minGroupSize: Int) -> String {
        var out = style.bold(TerminalText.escaped("Morale · \(survey) · \(range.from) to \(range.to) · by \(by.rawValue)")) + "\n"
        out += style.dim("morale 0-100: the mean of each rep's scale answers, rescaled") + "\n\n"
        guard let periods = series.first?.points.map(\.period), !periods.isEmpty else {
            return out + "No answers with scale questions in this range.\n"
        }
        let shown = periods.count > 8 ? Array(periods.suffix(8)) : periods
        var columns: [(String, TextTable.Alignment)] = [(by == .all ? "" : by.rawValue, .left), ("trend", .left)]
        columns += shown.map { (Self.shortLabel($0), .right) }
        columns += [("change", .right)]
        var t = TextTable(columns)
        for s in series {
            let values = s.points.map(\.morale)
            var cells = [s.group, sparkline(values)]
            var styles: [((String) -> String)?] = [nil, nil]
            for p in s.points.suffix(shown.count) {
                cells.append(p.suppressed ? "hidden" : fmt(p.morale))
                styles.append(p.suppressed ? { style.dim($0) } : nil)
            }
            let known = values.compactMap { $0 }
            if known.count >= 2 {
                let d = known.last! - known[known.count - 2]
                cells.append((d > 0 ? "+" : "") + fmt(d))
                styles.append(d <= -5 ? { style.red($0) } : d >= 5 ? { style.green($0) } : nil)
            } else {
                cells.append("–")
            }
            t.add(cells, styles: styles)
        }
        out += t.render(style: style)
        if periods.count > shown.count {
            out += style.dim("\nthe trend covers all \(periods.count) periods; the columns show the last \(shown.count)") + "\n"
        }
        if series.contains(where: { $0.points.contains(where: \.suppressed) }) {
            out += style.dim("\nhidden: fewer than \(minGroupSize) respondents, or hidden with such a group so that it cannot be worked out.") + "\n"
        }
        return out
    }

    static func shortLabel(_ p: Period) -> String {
        if case let .week(_, w) = p { return "W\(Day.pad(w, 2))" }
        return p.description
    }
}
