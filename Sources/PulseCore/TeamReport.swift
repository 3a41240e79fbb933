import Foundation

/// A team's (or every team's) report: eNPS over time with its interval, a morale heatmap,
/// response rates, and morale against a KPI. Everything under the anonymity threshold
/// stays hidden, as in every other report.
public struct TeamReport: Sendable {
    public struct RateRow: Sendable, Equatable {
        public var period: Period
        public var invited: Int?
        public var respondents: Int?
        public var rate: Double?
        public var suppressed: Bool
        public init(period: Period, invited: Int?, respondents: Int?, rate: Double?, suppressed: Bool) {
            self.period = period; self.invited = invited; self.respondents = respondents; self.rate = rate; self.suppressed = suppressed
        }
    }

    public struct HeatRow: Sendable, Equatable {
        public var name: String
        public var cells: [SVGChart.HeatCell]
        public init(name: String, cells: [SVGChart.HeatCell]) { self.name = name; self.cells = cells }
    }

    /// `nil` for every team.
    public var team: String?
    public var range: PeriodRange
    public var weeks: [Period]
    public var moraleSurvey: String
    public var enpsSurvey: String?
    public var enps: [(period: Period, group: ENPSGroup)]
    /// "reps" (an identified survey, one team) or "teams".
    public var heatmapOf: String
    public var heatmap: [HeatRow]
    public var morale: [TrendPoint]
    public var responseRates: [RateRow]
    public var kpi: KPI
    public var correlation: CorrelationReport.Result?
    public var correlationSentence: String?
    public var scatter: [(x: Double, y: Double)]
    public var notes: [String]
    public var generated: Day

    public init(team: String?, range: PeriodRange, weeks: [Period], moraleSurvey: String, enpsSurvey: String?,
                enps: [(period: Period, group: ENPSGroup)], heatmapOf: String, heatmap: [HeatRow], morale: [TrendPoint],
                responseRates: [RateRow], kpi: KPI, correlation: CorrelationReport.Result?, correlationSentence: String?,
                scatter: [(x: Double, y: Double)], notes: [String], generated: Day) {
        self.team = team; self.range = range; self.weeks = weeks; self.moraleSurvey = moraleSurvey; self.enpsSurvey = enpsSurvey
        self.enps = enps; self.heatmapOf = heatmapOf; self.heatmap = heatmap; self.morale = morale
        self.responseRates = responseRates; self.kpi = kpi; self.correlation = correlation
        self.correlationSentence = correlationSentence; self.scatter = scatter; self.notes = notes; self.generated = generated
    }

    var title: String { team.map { "Team \($0)" } ?? "All teams" }

    static func cellJSON(_ c: SVGChart.HeatCell) -> JSON {
        switch c {
        case .empty: .object([("morale", .null), ("suppressed", .bool(false))])
        case .hidden: .object([("morale", .null), ("suppressed", .bool(true))])
        case let .value(v): .object([("morale", .double(Rounding.round(v, places: 1))), ("suppressed", .bool(false))])
        }
    }

    static func correlationJSON(_ c: Correlation?) -> JSON {
        guard let c else { return .null }
        return .object([("r", .double(Rounding.round(c.r, places: 4))), ("p", .double(c.p)), ("df", .int(c.df)),
                        ("ci95", c.ci95.map { .array([.double(Rounding.round($0.lowerBound, places: 4)), .double(Rounding.round($0.upperBound, places: 4))]) } ?? .null)])
    }

    public var json: JSON {
        .object([
            ("team", .from(team)), ("from", .string(range.from.description)), ("to", .string(range.to.description)),
            ("morale_survey", .string(moraleSurvey)), ("enps_survey", .from(enpsSurvey)),
            ("enps", .array(enps.map { e in
                .object([("period", .string(e.period.description)), ("enps", .from(e.group.enps)),
                         ("ci95", e.group.ci95.map { .array([.double($0.lowerBound), .double($0.upperBound)]) } ?? .null),
                         ("responses", .from(e.group.responses)), ("suppressed", .bool(e.group.suppressed))])
            })),
            ("morale", .array(morale.map {
                .object([("period", .string($0.period.description)), ("morale", .from($0.morale)),
                         ("respondents", .from($0.respondents)), ("suppressed", .bool($0.suppressed))])
            })),
            ("heatmap", .object([("of", .string(heatmapOf)), ("weeks", .array(weeks.map { .string($0.description) })),
                                 ("rows", .array(heatmap.map { .object([("name", .string($0.name)), ("cells", .array($0.cells.map(Self.cellJSON)))]) }))])),
            ("response_rates", .array(responseRates.map {
                .object([("period", .string($0.period.description)), ("invited", .from($0.invited)), ("respondents", .from($0.respondents)),
                         ("rate", .from($0.rate)), ("suppressed", .bool($0.suppressed))])
            })),
            ("correlation", correlation.map { c in
                .object([("kpi", .string(kpi.rawValue)), ("n", .int(c.n)), ("reps", .int(c.reps)), ("pearson", Self.correlationJSON(c.pearson)),
                         ("within_rep", Self.correlationJSON(c.withinRep)), ("suppressed", .bool(c.suppressed)),
                         ("summary", .from(correlationSentence))])
            } ?? .null),
            ("notes", .array(notes.map(JSON.string))),
        ])
    }

    static func pct(_ x: Double?) -> String { x.map { "\(Int(($0 * 100).rounded()))%" } ?? "–" }

    /// Markdown, with control characters shown escaped (`\u{1B}`) as in every text output.
    public var markdown: String { TerminalText.escapedLines(markdownText) }

    private var markdownText: String {
        var s = "# \(PrepNote.mdEscaped(title)): morale, eNPS and \(kpi.label)\n\n\(range) · \(moraleSurvey)\(enpsSurvey.map { " and \($0)" } ?? "")\n\n"
        s += "## eNPS\n\n"
        if enps.isEmpty { s += "No eNPS rounds.\n\n" } else {
            s += "| period | eNPS | 95% interval | responses |\n|---|---:|---|---:|\n"
            for e in enps {
                let g = e.group
                s += g.suppressed ? "| \(e.period) | hidden | | < threshold |\n"
                    : "| \(e.period) | \(g.enps.map { String($0) } ?? "–") | \(g.ci95.map { "\($0.lowerBound) to \($0.upperBound)" } ?? "–") | \(g.responses ?? 0) |\n"
            }
            s += "\n"
        }
        s += "## Morale by week\n\n| week | morale | respondents | invited | response rate |\n|---|---:|---:|---:|---:|\n"
        for (p, r) in zip(morale, responseRates) {
            s += p.suppressed ? "| \(p.period) | hidden | | | |\n"
                : "| \(p.period) | \(p.morale.map { String($0) } ?? "–") | \(p.respondents ?? 0) | \(r.invited.map(String.init) ?? "–") | \(Self.pct(r.rate)) |\n"
        }
        s += "\n## Morale and \(kpi.label)\n\n\(PrepNote.mdEscaped(correlationSentence ?? "Not enough data."))\n\n"
        if !notes.isEmpty { s += "## Notes\n\n" + notes.map { "- \(PrepNote.mdEscaped($0))\n" }.joined() + "\n" }
        return s
    }

    public var html: String {
        var b = "<header><h1>\(htmlEscaped(title))</h1><p class=\"sub\">\(range) · morale from \(htmlEscaped(moraleSurvey))"
        b += enpsSurvey.map { ", eNPS from \(htmlEscaped($0))" } ?? ""
        b += " · prepared \(generated)</p></header>"
        let latest = morale.last { $0.morale != nil }
        let latestENPS = enps.last { $0.group.enps != nil }
        let meanRate = Statistics.mean(responseRates.compactMap(\.rate))
        b += "<section class=\"cards\">"
        b += card(latest?.morale.map { String($0) } ?? "–", "morale \(latest?.period.description ?? "")")
        b += card(latestENPS?.group.enps.map { String($0) } ?? "–", "eNPS \(latestENPS?.period.description ?? "")")
        b += card(Self.pct(meanRate), "response rate")
        if let within = correlation?.withinRep {
            b += card(String(format: "%.2f", within.r), "r within reps, morale and \(kpi.label)")
        } else {
            b += card(correlation?.pearson.map { String(format: "%.2f", $0.r) } ?? "–", "r, morale and \(kpi.label)")
        }
        b += "</section>"

        b += "<h2>eNPS over time, with its 95% interval</h2>"
        if enps.contains(where: { $0.group.enps != nil }) {
            b += SVGChart.line(title: "eNPS of \(title)", labels: enps.map(\.period.description), values: enps.map(\.group.enps),
                               band: enps.map(\.group.ci95), yRange: -100...100, reference: (0, "0"))
        } else {
            b += "<p class=\"missing\">No eNPS to show\(enps.contains { $0.group.suppressed } ? ": every round is under the anonymity threshold" : "").</p>"
        }

        b += "<h2>Morale by week (\(heatmapOf == "reps" ? "reps" : "teams"))</h2>"
        if heatmap.isEmpty {
            b += "<p class=\"missing\">No morale answers in the range.</p>"
        } else {
            b += SVGChart.heatmap(title: "Morale of \(title) by week", rows: heatmap.map(\.name),
                                  columns: weeks.map { "W" + $0.description.suffix(2) }, cells: heatmap.map(\.cells))
            b += "<p class=\"sub\">0 (red) to 100 (green); blank: no answer; hatched: hidden under the anonymity threshold.</p>"
        }

        b += "<h2>Response rates</h2><table><thead><tr><th>week</th><th class=\"num\">morale</th><th class=\"num\">respondents</th><th class=\"num\">invited</th><th class=\"num\">rate</th></tr></thead><tbody>"
        for (p, r) in zip(morale, responseRates) {
            if p.suppressed {
                b += "<tr><td>\(p.period)</td><td class=\"num\" colspan=\"4\">hidden (under the anonymity threshold)</td></tr>"
            } else {
                b += "<tr><td>\(p.period)</td><td class=\"num\">\(p.morale.map { String($0) } ?? "–")</td><td class=\"num\">\(p.respondents ?? 0)</td><td class=\"num\">\(r.invited.map(String.init) ?? "–")</td><td class=\"num\">\(Self.pct(r.rate))</td></tr>"
            }
        }
        b += "</tbody></table>"

        b += "<h2>Morale and \(htmlEscaped(kpi.label))</h2>"
        if !scatter.isEmpty {
            b += SVGChart.scatter(title: "Weekly morale against \(kpi.label)", xLabel: kpi.label, yLabel: "morale", points: scatter)
        }
        b += "<p>\(htmlEscaped(correlationSentence ?? "Not enough rep-weeks with both morale and \(kpi.label)."))</p>"
        if !notes.isEmpty { b += "<ul class=\"missing\">" + notes.map { "<li>\(htmlEscaped($0))</li>" }.joined() + "</ul>" }
        b += "<footer>Prepared by Pulse. eNPS = 100 × (promoters − detractors) / responses; morale is 0-100 from the scale answers; groups under the anonymity threshold are hidden.</footer>"
        return SVGChart.page(title: "\(title): morale, eNPS and \(kpi.label), \(range)", body: b)
    }

    private func card(_ big: String, _ label: String) -> String {
        "<div class=\"card\"><div class=\"big\">\(htmlEscaped(big))</div><div class=\"label\">\(htmlEscaped(label))</div></div>"
    }
}
