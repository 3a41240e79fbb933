import Foundation

extension PrepNote {
    static func money(_ cents: Int) -> Double { Double(cents) / 100 }

    static func kpiValue(_ kpi: KPI, _ v: Double?) -> JSON {
        guard let v else { return .null }
        switch kpi {
        case .winRate, .quotaAttainment, .winRate13w, .leadConversion: return .double(Rounding.round(v, places: 3))
        case .revenueWon, .avgDealSize, .avgDealSize13w, .pipelineVelocity: return .double(Rounding.round(v, places: 2))
        default: return .double(Rounding.round(v, places: 1))
        }
    }

    /// The contract's JSON shape (with `missing`, `questions` and `history` added).
    public var json: JSON {
        let rep = JSON.object([("email", .string(rep.email)), ("name", .from(rep.name)), ("team", .from(rep.team)),
                               ("manager_email", .from(rep.managerEmail)), ("active", .bool(rep.active))])
        let morale = JSON.object([
            ("latest", .from(latest)), ("latest_period", .from(latestWeek?.description)), ("baseline", .from(baseline)),
            ("change", .from(latest.flatMap { l in baseline.map { Rounding.round(l - $0, places: 1) } })),
            ("trend", .array(trend.map { .object([("period", .string($0.period.description)), ("morale", .from($0.morale))]) })),
            ("questions", .array(moves.map {
                .object([("question", .string($0.question)), ("text", .string($0.text)), ("latest", .double($0.latest)),
                         ("baseline", .double($0.baseline)), ("change", .double(Rounding.round($0.change, places: 1)))])
            })),
        ])
        let latestE = latestENPS
        let team: JSON = teamENPS.map { t in
            .object([("survey", .string(t.survey)), ("from", .string(t.range.from.description)), ("to", .string(t.range.to.description)),
                     ("team", .string(t.team)), ("enps", .from(t.group.enps)),
                     ("ci95", t.group.ci95.map { .array([.double($0.lowerBound), .double($0.upperBound)]) } ?? .null),
                     ("responses", .from(t.group.responses)), ("suppressed", .bool(t.group.suppressed))])
        } ?? .null
        let enps = JSON.object([
            ("latest", .from(latestE?.score)), ("category", .from(latestE.flatMap { ENPSCategory(score: $0.score)?.rawValue })),
            ("period", .from(latestE?.period.description)),
            ("history", .array(enpsHistory.map {
                .object([("period", .string($0.period.description)), ("score", .int($0.score)),
                         ("category", .from(ENPSCategory(score: $0.score)?.rawValue))])
            })),
            ("team", team),
        ])
        func kpiObject(_ pick: (KPIComparison) -> Double?) -> JSON {
            .object((kpis + pipeline).map { ($0.kpi.rawValue, Self.kpiValue($0.kpi, pick($0))) })
        }
        let quotaJSON: JSON = quota.map { q in
            .object([("period", .string(q.period.description)), ("quota", .double(Self.money(q.quotaCents))),
                     ("revenue_won", .double(Self.money(q.revenueCents))), ("attainment", .double(q.attainment)),
                     ("pace", .double(q.pace)), ("elapsed_days", .int(q.elapsedDays)), ("days", .int(q.period.dayCount))])
        } ?? .null
        let kpisJSON = JSON.object([
            ("week", .object([("period", .string(kpiWeek.description)), ("values", kpiObject(\.value)),
                              ("own_average", kpiObject(\.ownAverage)), ("team_median", kpiObject(\.teamMedian))])),
            ("quota_period", quotaJSON),
        ])
        return .object([
            ("rep", rep), ("as_of", .string(asOf.description)), ("morale", morale), ("enps", enps), ("kpis", kpisJSON),
            ("comments", .array(comments.map {
                .object([("period", .string($0.period.description)), ("question", .string($0.question)), ("text", .string($0.text))])
            })),
            ("flags", .array(flags.map { .object([("code", .string($0.code)), ("detail", .string($0.detail))]) })),
            ("talking_points", .array(talkingPoints.map(JSON.string))),
            ("open_actions", .array(openActions.map {
                .object([("id", .int(Int($0.id))), ("text", .string($0.text)), ("since", .string($0.since))])
            })),
            ("missing", .array(missing.map(JSON.string))),
        ])
    }

    static func shown(_ kpi: KPI, _ v: Double?) -> String {
        guard let v else { return "–" }
        switch kpi {
        case .winRate, .quotaAttainment, .winRate13w, .leadConversion: return "\(Int((v * 100).rounded()))%"
        case .revenueWon, .avgDealSize, .avgDealSize13w, .pipelineVelocity: return Self.grouped(v)
        default: return v == v.rounded() ? String(Int(v)) : String(Rounding.round(v, places: 1))
        }
    }

    /// 12,000 or 12,000.50: money as a manager reads it.
    static func grouped(_ v: Double) -> String {
        let allCents = Int((abs(v) * 100).rounded()), cents = allCents % 100
        var digits = String(allCents / 100), out = ""
        while digits.count > 3 { out = "," + digits.suffix(3) + out; digits = String(digits.dropLast(3)) }
        return (v < 0 && allCents > 0 ? "-" : "") + digits + out + (cents > 0 ? String(format: ".%02d", cents) : "")
    }

    static func change(_ l: Double, _ b: Double) -> String {
        let d = Rounding.round(l - b, places: 1)
        return d > 0 ? "+\(d)" : "\(d)"
    }

    /// Markdown that pastes into a meeting document: headings, lists and one table.
    /// Control characters in it are shown escaped (`\u{1B}`): it is read on terminals too.
    public var markdown: String { TerminalText.escapedLines(markdownText) }

    private var markdownText: String {
        var s = "# One-on-one: \(Self.mdEscaped(rep.displayName))\n\n"
        s += "\(rep.email)\(rep.team.map { " · team \(Self.mdEscaped($0))" } ?? "") · as of \(asOf)\(rep.active ? "" : " · deactivated")\n\n"
        s += "## Flags\n\n"
        if flags.isEmpty { s += "None.\n\n" } else {
            for f in flags { s += "- `\(f.code)`: \(Self.mdEscaped(f.detail))\n" }
            s += "\n"
        }
        s += "## Talking points\n\n"
        for p in talkingPoints { s += "- \(Self.mdEscaped(p))\n" }
        s += "\n## Morale\n\n"
        if let l = latest, let w = latestWeek {
            s += "Latest: **\(l)** in \(w)"
            if let b = baseline { s += " against a baseline of \(b) (\(Self.change(l, b)))" }
            s += ".\n\n"
            let known = trend.filter { $0.morale != nil }
            if !known.isEmpty {
                s += "Trend (\(trend.first!.period) to \(trend.last!.period)): " + trend.map { $0.morale.map { String($0) } ?? "–" }.joined(separator: " · ") + "\n\n"
            }
            if !moves.isEmpty {
                s += "What moved:\n\n"
                for m in moves { s += "- \(Self.mdEscaped(m.text)): \(m.latest) against \(m.baseline) (\(Self.change(m.latest, m.baseline)))\n" }
                s += "\n"
            }
        } else {
            s += "No morale yet.\n\n"
        }
        s += "## eNPS\n\n"
        if let e = latestENPS {
            s += "Latest answer: **\(e.score)** in \(e.period) (\(ENPSCategory(score: e.score)?.rawValue ?? "?"))."
            if enpsHistory.count > 1 { s += " History: " + enpsHistory.map { "\($0.period) \($0.score)" }.joined(separator: ", ") + "." }
            s += "\n\n"
        } else if let t = teamENPS {
            if t.group.suppressed || t.group.enps == nil {
                s += "The eNPS survey is anonymous and team \(Self.mdEscaped(t.team)) had too few respondents in \(t.range) to show its figure.\n\n"
            } else {
                s += "The eNPS survey is anonymous: team \(Self.mdEscaped(t.team)) scored **\(t.group.enps!)** in \(t.range) (\(t.group.responses ?? 0) responses), no answer per rep.\n\n"
            }
        } else {
            s += "No eNPS answers.\n\n"
        }
        s += "## KPIs, last week\n\n| KPI | \(kpiWeek) | own average | team median |\n|---|---:|---:|---:|\n"
        for k in kpis { s += "| \(k.kpi.label) | \(Self.shown(k.kpi, k.value)) | \(Self.shown(k.kpi, k.ownAverage)) | \(Self.shown(k.kpi, k.teamMedian)) |\n" }
        s += "\n"
        if hasPipeline {
            s += "## Pipeline, last week\n\n| KPI | \(kpiWeek) | own average | team median |\n|---|---:|---:|---:|\n"
            for k in pipeline { s += "| \(k.kpi.label) | \(Self.shown(k.kpi, k.value)) | \(Self.shown(k.kpi, k.ownAverage)) | \(Self.shown(k.kpi, k.teamMedian)) |\n" }
            s += "\n"
        }
        if let q = quota {
            s += "Quota \(q.period): \(Self.grouped(Self.money(q.revenueCents))) of \(Self.grouped(Self.money(q.quotaCents))) "
            s += "(\(Int((q.attainment * 100).rounded()))%) after \(q.elapsedDays) of \(q.period.dayCount) days: on pace for \(Int((q.pace * 100).rounded()))%.\n\n"
        }
        s += "## Their comments\n\n"
        if comments.isEmpty { s += "None in the last four weeks.\n\n" } else {
            for c in comments { s += "> \(Self.mdEscaped(c.text).replacingOccurrences(of: "\n", with: "\n> "))\n> — \(c.period)\n\n" }
        }
        s += "## Open actions\n\n"
        if openActions.isEmpty { s += "None.\n\n" } else {
            for a in openActions { s += "- [ ] \(Self.mdEscaped(a.text)) (#\(a.id), since \(a.since))\n" }
            s += "\n"
        }
        if !missing.isEmpty {
            s += "## Missing\n\n"
            for m in missing { s += "- \(Self.mdEscaped(m))\n" }
            s += "\n"
        }
        return s
    }

    /// Text from reps and CRM files cannot start a heading, a list or a table cell of
    /// its own, nor carry HTML into a Markdown renderer.
    static func mdEscaped(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "\\", "`", "*", "_", "[", "]", "<", ">", "|", "#": out.append("\\"); out.append(c)
            case "\r": continue
            default: out.append(c)
            }
        }
        return out
    }

    /// One self-contained HTML page: inline SVG and CSS, no script, no network.
    public var html: String {
        var b = "<header><h1>One-on-one: \(htmlEscaped(rep.displayName))</h1>"
        b += "<p class=\"sub\">\(htmlEscaped(rep.email))\(rep.team.map { " · team \(htmlEscaped($0))" } ?? "") · as of \(asOf)\(rep.active ? "" : " · <strong>deactivated</strong>")</p></header>"
        b += "<section class=\"cards\">"
        b += card(latest.map { String($0) } ?? "–", "morale \(latestWeek?.description ?? "")")
        b += card(baseline.map { String($0) } ?? "–", "baseline (4 weeks before)")
        if let e = latestENPS { b += card("\(e.score)", "eNPS answer, \(ENPSCategory(score: e.score)?.rawValue ?? "")") }
        else if let t = teamENPS, let v = t.group.enps, !t.group.suppressed { b += card(String(v), "team eNPS (anonymous)") }
        if let q = quota { b += card("\(Int((q.attainment * 100).rounded()))%", "of \(q.period) quota · pace \(Int((q.pace * 100).rounded()))%") }
        b += "</section>"
        b += "<h2>Flags</h2>"
        if flags.isEmpty { b += "<p class=\"ok\">No flags this week.</p>" }
        for f in flags { b += "<p class=\"flag\"><code>\(htmlEscaped(f.code))</code> \(htmlEscaped(f.detail))</p>" }
        b += "<h2>Talking points</h2><ul>" + talkingPoints.map { "<li>\(htmlEscaped($0))</li>" }.joined() + "</ul>"
        b += "<h2>Morale, last \(trend.count) weeks</h2>"
        if trend.contains(where: { $0.morale != nil }) {
            b += SVGChart.line(title: "Weekly morale of \(rep.displayName)", labels: trend.map { "W" + $0.period.description.suffix(2) },
                               values: trend.map(\.morale), yRange: 0...100,
                               reference: baseline.map { ($0, "baseline \($0)") })
        } else {
            b += "<p class=\"missing\">No morale yet.</p>"
        }
        if !moves.isEmpty {
            b += "<table><thead><tr><th>Question</th><th class=\"num\">latest</th><th class=\"num\">baseline</th><th class=\"num\">change</th></tr></thead><tbody>"
            for m in moves {
                b += "<tr><td>\(htmlEscaped(m.text))</td><td class=\"num\">\(m.latest)</td><td class=\"num\">\(m.baseline)</td><td class=\"num\">\(Self.change(m.latest, m.baseline))</td></tr>"
            }
            b += "</tbody></table>"
        }
        b += "<h2>KPIs, last week</h2><table><thead><tr><th>KPI</th><th class=\"num\">\(kpiWeek)</th><th class=\"num\">own average</th><th class=\"num\">team median</th></tr></thead><tbody>"
        for k in kpis {
            b += "<tr><td>\(htmlEscaped(k.kpi.label))</td><td class=\"num\">\(Self.shown(k.kpi, k.value))</td><td class=\"num\">\(Self.shown(k.kpi, k.ownAverage))</td><td class=\"num\">\(Self.shown(k.kpi, k.teamMedian))</td></tr>"
        }
        b += "</tbody></table>"
        if hasPipeline {
            b += "<h2>Pipeline, last week</h2><table><thead><tr><th>KPI</th><th class=\"num\">\(kpiWeek)</th><th class=\"num\">own average</th><th class=\"num\">team median</th></tr></thead><tbody>"
            for k in pipeline {
                b += "<tr><td>\(htmlEscaped(k.kpi.label))</td><td class=\"num\">\(Self.shown(k.kpi, k.value))</td><td class=\"num\">\(Self.shown(k.kpi, k.ownAverage))</td><td class=\"num\">\(Self.shown(k.kpi, k.teamMedian))</td></tr>"
            }
            b += "</tbody></table>"
        }
        if let q = quota {
            b += "<p>Quota \(q.period): \(Self.grouped(Self.money(q.revenueCents))) of \(Self.grouped(Self.money(q.quotaCents))) after \(q.elapsedDays) of \(q.period.dayCount) days.</p>"
        }
        b += "<h2>Their comments</h2>"
        if comments.isEmpty { b += "<p class=\"missing\">None in the last four weeks.</p>" }
        for c in comments { b += "<blockquote>\(htmlEscaped(c.text))<br><small>\(c.period)</small></blockquote>" }
        b += "<h2>Open actions</h2>"
        if openActions.isEmpty { b += "<p class=\"missing\">None.</p>" } else {
            b += "<ul>" + openActions.map { "<li>\(htmlEscaped($0.text)) <small>(#\($0.id), since \($0.since))</small></li>" }.joined() + "</ul>"
        }
        if !missing.isEmpty {
            b += "<h2>Missing</h2><ul class=\"missing\">" + missing.map { "<li>\(htmlEscaped($0))</li>" }.joined() + "</ul>"
        }
        b += "<footer>Prepared by Pulse. Morale is 0-100 from the weekly pulse's scale answers; the baseline is the mean of the four weeks before the latest.</footer>"
        return SVGChart.page(title: "One-on-one: \(rep.displayName), \(asOf)", body: b)
    }

    private func card(_ big: String, _ label: String) -> String {
        "<div class=\"card\"><div class=\"big\">\(htmlEscaped(big))</div><div class=\"label\">\(htmlEscaped(label))</div></div>"
    }
}
