import Foundation

/// `pulse kpi show`: weekly KPIs per rep or team, and per team the share of reps at or
/// above quota for each quota period.
public struct KPIReport: Sendable {
    public struct Row: Sendable {
        public var group: String
        public var week: Period
        public var reps: Int
        public var kpis: WeeklyKPIs
    }

    public struct QuotaShare: Sendable {
        public var group: String
        public var period: Period
        public var reps: Int
        public var atOrAbove: Int
        public var share: Double
    }

    public var range: PeriodRange
    public var byRep: Bool
    public var rows: [Row]
    public var quotaShares: [QuotaShare]

    /// - Parameters:
    ///   - revenueByPeriod: revenue won per rep over each quota period's whole span.
    ///   - include: which reps count (a `--team` filter).
    public static func compute(weekly: [WeeklyKPIs], quotas: [Quota], revenueByPeriod: [Period: [Int64: Int]],
                               range: PeriodRange, byRep: Bool, label: (Int64) -> String, team: (Int64) -> String,
                               include: (Int64) -> Bool) -> KPIReport {
        var cells: [String: [Period: [WeeklyKPIs]]] = [:]
        for k in weekly where range.contains(k.week) || (k.week.start <= range.end && k.week.end >= range.start) {
            cells[byRep ? label(k.repID) : team(k.repID), default: [:]][k.week, default: []].append(k)
        }
        var rows: [Row] = []
        for group in cells.keys.sorted() {
            for week in cells[group]!.keys.sorted() {
                let members = cells[group]![week]!
                var total = WeeklyKPIs(repID: members.count == 1 ? members[0].repID : 0, week: week)
                total.calls = WeeklyKPIs.sum(members.map(\.calls))
                total.emails = WeeklyKPIs.sum(members.map(\.emails))
                total.meetings = WeeklyKPIs.sum(members.map(\.meetings))
                total.opportunitiesCreated = WeeklyKPIs.sum(members.map(\.opportunitiesCreated))
                total.dealsWon = WeeklyKPIs.sum(members.map(\.dealsWon))
                total.dealsLost = WeeklyKPIs.sum(members.map(\.dealsLost))
                total.revenueWonCents = WeeklyKPIs.sum(members.map(\.revenueWonCents))
                // A group's attainment: its revenue over its quota, only when every member has a quota.
                total.quotaCents = members.allSatisfy { $0.quotaCents != nil } ? members.reduce(0) { $0 + $1.quotaCents! } : nil
                rows.append(Row(group: group, week: week, reps: members.count, kpis: total))
            }
        }
        var shares: [QuotaShare] = []
        if !byRep {
            var byGroup: [String: [Period: (reps: Int, above: Int)]] = [:]
            for q in quotas where include(q.repID) {
                let revenue = revenueByPeriod[q.period]?[q.repID] ?? 0
                let g = team(q.repID)
                var cell = byGroup[g, default: [:]][q.period] ?? (0, 0)
                cell.reps += 1
                if revenue >= q.cents { cell.above += 1 }
                byGroup[g, default: [:]][q.period] = cell
            }
            for g in byGroup.keys.sorted() {
                for period in byGroup[g]!.keys.sorted() {
                    let c = byGroup[g]![period]!
                    shares.append(QuotaShare(group: g, period: period, reps: c.reps, atOrAbove: c.above,
                                             share: Rounding.round(Double(c.above) / Double(c.reps), places: 3)))
                }
            }
        }
        return KPIReport(range: range, byRep: byRep, rows: rows, quotaShares: shares)
    }

    static func round(_ d: Double?, _ places: Int) -> Double? { d.map { Rounding.round($0, places: places) } }

    func fields(_ r: Row) -> [(String, JSON)] {
        let k = r.kpis
        return [(byRep ? "rep" : "team", .string(r.group)), ("week", .string(r.week.description)),
                ("reps", .int(r.reps)),
                ("calls", .from(k.calls)), ("emails", .from(k.emails)), ("meetings", .from(k.meetings)),
                ("activity", .from(k.activity)), ("opportunities_created", .from(k.opportunitiesCreated)),
                ("deals_won", .from(k.dealsWon)), ("deals_lost", .from(k.dealsLost)),
                ("revenue_won", .from(k.revenueWonCents.map { Double($0) / 100 })),
                ("win_rate", .from(Self.round(k.winRate, 3))), ("avg_deal_size", .from(Self.round(k.avgDealSize, 2))),
                ("quota_attainment", .from(Self.round(k.quotaAttainment, 3)))]
    }

    public var json: JSON {
        .object([("from", .string(range.from.description)), ("to", .string(range.to.description)),
                 ("by", .string(byRep ? "rep" : "team")),
                 ("rows", .array(rows.map { .object(fields($0)) })),
                 ("quota_periods", .array(quotaShares.map { s in
                     .object([("team", .string(s.group)), ("period", .string(s.period.description)), ("reps", .int(s.reps)),
                              ("at_or_above_quota", .int(s.atOrAbove)), ("share", .double(s.share))])
                 }))])
    }

    /// One table: the weekly rows, then one row per team and quota period with the reps at
    /// or above quota (its `week` and KPI cells empty, its last four filled), so that a
    /// spreadsheet or a CSV reader takes it whole.
    public var csv: String {
        var w = CSVWriter()
        w.header([byRep ? "rep" : "team", "week", "reps", "calls", "emails", "meetings", "activity", "opportunities_created",
                  "deals_won", "deals_lost", "revenue_won", "win_rate", "avg_deal_size", "quota_attainment",
                  "quota_period", "reps_with_quota", "at_or_above_quota", "share_at_or_above_quota"])
        let noQuota: [CSVWriter.Cell] = [.text(nil), .int(nil), .int(nil), .number(nil)]
        for r in rows {
            let k = r.kpis
            w.row([.text(r.group), .text(r.week.description), .int(r.reps), .int(k.calls), .int(k.emails), .int(k.meetings),
                   .int(k.activity), .int(k.opportunitiesCreated), .int(k.dealsWon), .int(k.dealsLost),
                   .number(k.revenueWonCents.map { Double($0) / 100 }), .number(Self.round(k.winRate, 3)),
                   .number(Self.round(k.avgDealSize, 2)), .number(Self.round(k.quotaAttainment, 3))] + noQuota)
        }
        for s in quotaShares {
            w.row([.text(s.group)] + Array(repeating: CSVWriter.Cell.text(nil), count: 13)
                + [.text(s.period.description), .int(s.reps), .int(s.atOrAbove), .number(s.share)])
        }
        return w.text
    }

    public func table(style: Style) -> String {
        var out = style.bold("Weekly KPIs · \(range.from) to \(range.to) · by \(byRep ? "rep" : "team")") + "\n\n"
        guard !rows.isEmpty else { return out + "No activity in this range (pulse kpi import loads it).\n" }
        func n(_ v: Int?) -> String { v.map(String.init) ?? "–" }
        func pct(_ v: Double?) -> String { v.map { String(format: "%.0f%%", $0 * 100) } ?? "–" }
        func money(_ v: Double?) -> String { v.map { String(format: "%.2f", $0) } ?? "–" }
        var t = TextTable([(byRep ? "rep" : "team", .left), ("week", .left), ("calls", .right), ("emails", .right),
                           ("meetings", .right), ("opps", .right), ("won", .right), ("revenue", .right),
                           ("win rate", .right), ("avg deal", .right), ("quota", .right)])
        for r in rows {
            let k = r.kpis
            t.add([r.group, r.week.description, n(k.calls), n(k.emails), n(k.meetings), n(k.opportunitiesCreated), n(k.dealsWon),
                   money(k.revenueWonCents.map { Double($0) / 100 }), pct(k.winRate), money(k.avgDealSize), pct(k.quotaAttainment)])
        }
        out += t.render(style: style)
        if !quotaShares.isEmpty {
            out += "\n" + style.bold("Reps at or above quota") + "\n"
            var q = TextTable([("team", .left), ("period", .left), ("at or above", .right), ("reps", .right), ("share", .right)])
            for s in quotaShares { q.add([s.group, s.period.description, String(s.atOrAbove), String(s.reps), pct(s.share)]) }
            out += q.render(style: style)
        }
        return out
    }
}

/// `pulse drivers`: the scale questions ranked by how strongly they go with the eNPS answer.
public struct DriversReport: Sendable {
    public struct Driver: Sendable {
        public var question: String
        public var text: String
        public var n: Int
        public var correlation: Correlation?
    }

    public var survey: String
    public var range: PeriodRange
    public var responses: Int
    public var suppressed: Bool
    public var drivers: [Driver]
    public var minGroupSize: Int

    public static func compute(survey: SurveyDefinition, range: PeriodRange, enpsID: String, responses: [[String: Int]],
                               minGroupSize: Int) -> DriversReport {
        let withENPS = responses.filter { $0[enpsID] != nil }
        let hidden = withENPS.count < minGroupSize
        var drivers: [Driver] = []
        if !hidden {
            for q in survey.questions where q.type == .scale {
                let pairs = withENPS.compactMap { r in r[q.id].map { (Double($0), Double(r[enpsID]!)) } }
                let c = pairs.count >= max(CorrelationReport.minPairs, minGroupSize)
                    ? Statistics.pearson(pairs.map(\.0), pairs.map(\.1)) : nil
                drivers.append(Driver(question: q.id, text: q.text.text(for: "en"), n: pairs.count, correlation: c))
            }
            drivers.sort { ($0.correlation?.r ?? -2, $1.question) > ($1.correlation?.r ?? -2, $0.question) }
        }
        return DriversReport(survey: survey.id, range: range, responses: hidden ? 0 : withENPS.count, suppressed: hidden,
                             drivers: drivers, minGroupSize: minGroupSize)
    }

    public var json: JSON {
        .object([("survey", .string(survey)), ("from", .string(range.from.description)), ("to", .string(range.to.description)),
                 ("responses", suppressed ? .null : .int(responses)), ("suppressed", .bool(suppressed)),
                 ("drivers", .array(drivers.map { d in
                     .object([("question", .string(d.question)), ("text", .string(d.text)), ("n", .int(d.n)),
                              ("r", .from(d.correlation?.r)), ("p", .from(d.correlation?.p)),
                              ("ci95", d.correlation?.ci95.map { .array([.double($0.lowerBound), .double($0.upperBound)]) } ?? .null)])
                 }))])
    }

    public var csv: String {
        var w = CSVWriter()
        w.header(["question", "text", "r", "ci95_low", "ci95_high", "p", "n"])
        for d in drivers {
            w.row([.text(d.question), .text(d.text), .number(d.correlation?.r), .number(d.correlation?.ci95?.lowerBound),
                   .number(d.correlation?.ci95?.upperBound), .number(d.correlation?.p), .int(d.n)])
        }
        return w.text
    }

    public func table(style: Style) -> String {
        var out = style.bold(TerminalText.escaped("What goes with the eNPS answer · \(survey) · \(range.from) to \(range.to)")) + "\n\n"
        if suppressed {
            return out + "Not shown: fewer than \(minGroupSize) responses with an eNPS answer (the anonymity threshold).\n"
        }
        var t = TextTable([("question", .left), ("r", .right), ("95% interval", .right), ("n", .right)])
        for d in drivers {
            let ci = d.correlation?.ci95.map { String(format: "%.2f to %.2f", $0.lowerBound, $0.upperBound) } ?? "–"
            t.add([d.text, d.correlation.map { String(format: "%.2f", $0.r) } ?? "–", ci, String(d.n)])
        }
        out += t.render(style: style)
        if let top = drivers.first, let c = top.correlation, c.r > 0.1, c.p < 0.05 {
            out += "\nThe answers to \"\(TerminalText.escaped(top.text))\" go most with the eNPS answer (r = \(String(format: "%.2f", c.r)), "
                + "n = \(top.n)): the place to start. This shows association, not cause.\n"
        }
        return out
    }
}
