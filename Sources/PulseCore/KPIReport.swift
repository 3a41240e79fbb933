import Foundation

/// `pulse kpi show`: weekly KPIs per rep or team, and per team the share of reps at or
/// above quota for each quota period.
public struct KPIReport: Sendable {
    public struct Row: Sendable {
        public var group: String
        public var week: Period
        public var reps: Int
        public var kpis: WeeklyKPIs
        public var pipeline: PipelineCells
        /// Whether a rep of the row has activity that week (not only pipeline figures).
        public var hasActivity: Bool
    }

    /// A row's pipeline KPIs: a rep's own, or a team's (the mean of its reps' values,
    /// but `opportunities_open`, which is summed; each over the reps that have a value).
    public struct PipelineCells: Sendable, Equatable {
        public var opportunitiesOpen: Int?
        public var salesCycleDays: Double?
        public var winRate13w: Double?
        public var avgDealSize13w: Double?
        public var pipelineVelocity: Double?
        public var leadConversion: Double?

        public init(_ members: [PipelineWeek]) {
            func mean(_ values: [Double?]) -> Double? {
                let present = values.compactMap { $0 }
                return present.isEmpty ? nil : present.reduce(0, +) / Double(present.count)
            }
            opportunitiesOpen = WeeklyKPIs.sum(members.map(\.opportunitiesOpen))
            salesCycleDays = mean(members.map(\.salesCycleDays))
            winRate13w = mean(members.map(\.winRate13w))
            avgDealSize13w = mean(members.map(\.avgDealSize13w))
            pipelineVelocity = mean(members.map(\.pipelineVelocity))
            leadConversion = mean(members.map(\.leadConversion))
        }

        public var isEmpty: Bool {
            opportunitiesOpen == nil && salesCycleDays == nil && winRate13w == nil && avgDealSize13w == nil && pipelineVelocity == nil
                && leadConversion == nil
        }
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
    ///   - pipeline: each rep's pipeline KPIs by week (a rep-week may have these and no activity).
    ///   - include: which reps count (a `--team` filter).
    public static func compute(weekly: [WeeklyKPIs], pipeline: [Int64: [Period: PipelineWeek]] = [:], quotas: [Quota],
                               revenueByPeriod: [Period: [Int64: Int]], range: PeriodRange, byRep: Bool, label: (Int64) -> String,
                               team: (Int64) -> String, include: (Int64) -> Bool) -> KPIReport {
        func inRange(_ week: Period) -> Bool { range.contains(week) || (week.start <= range.end && week.end >= range.start) }
        var cells: [String: [Period: [WeeklyKPIs]]] = [:]
        var activityWeeks: Set<String> = [], activityCells: Set<String> = []
        for k in weekly where inRange(k.week) {
            cells[byRep ? label(k.repID) : team(k.repID), default: [:]][k.week, default: []].append(k)
            activityWeeks.insert("\(k.repID)|\(k.week)")
            activityCells.insert("\(byRep ? label(k.repID) : team(k.repID))|\(k.week)")
        }
        var pipelineCells: [String: [Period: [PipelineWeek]]] = [:]
        for (rep, weeks) in pipeline where include(rep) {
            for (week, p) in weeks where inRange(week) && !p.isEmpty {
                let group = byRep ? label(rep) : team(rep)
                pipelineCells[group, default: [:]][week, default: []].append(p)
                // A rep-week with pipeline figures and no activity is one more rep in its row.
                if !activityWeeks.contains("\(rep)|\(week)") {
                    cells[group, default: [:]][week, default: []].append(WeeklyKPIs(repID: rep, week: week))
                }
            }
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
                rows.append(Row(group: group, week: week, reps: members.count, kpis: total,
                                pipeline: PipelineCells(pipelineCells[group]?[week] ?? []),
                                hasActivity: activityCells.contains("\(group)|\(week)")))
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
                ("quota_attainment", .from(Self.round(k.quotaAttainment, 3))),
                ("opportunities_open", .from(r.pipeline.opportunitiesOpen)), ("sales_cycle_days", .from(Self.round(r.pipeline.salesCycleDays, 1))),
                ("win_rate_13w", .from(Self.round(r.pipeline.winRate13w, 3))), ("avg_deal_size_13w", .from(Self.round(r.pipeline.avgDealSize13w, 2))),
                ("pipeline_velocity", .from(Self.round(r.pipeline.pipelineVelocity, 2))),
                ("lead_conversion", .from(Self.round(r.pipeline.leadConversion, 3)))]
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
                  "opportunities_open", "sales_cycle_days", "win_rate_13w", "avg_deal_size_13w", "pipeline_velocity", "lead_conversion",
                  "quota_period", "reps_with_quota", "at_or_above_quota", "share_at_or_above_quota"])
        let noQuota: [CSVWriter.Cell] = [.text(nil), .int(nil), .int(nil), .number(nil)]
        for r in rows {
            let k = r.kpis
            w.row([.text(r.group), .text(r.week.description), .int(r.reps), .int(k.calls), .int(k.emails), .int(k.meetings),
                   .int(k.activity), .int(k.opportunitiesCreated), .int(k.dealsWon), .int(k.dealsLost),
                   .number(k.revenueWonCents.map { Double($0) / 100 }), .number(Self.round(k.winRate, 3)),
                   .number(Self.round(k.avgDealSize, 2)), .number(Self.round(k.quotaAttainment, 3)),
                   .int(r.pipeline.opportunitiesOpen), .number(Self.round(r.pipeline.salesCycleDays, 1)),
                   .number(Self.round(r.pipeline.winRate13w, 3)), .number(Self.round(r.pipeline.avgDealSize13w, 2)),
                   .number(Self.round(r.pipeline.pipelineVelocity, 2)), .number(Self.round(r.pipeline.leadConversion, 3))] + noQuota)
        }
        for s in quotaShares {
            w.row([.text(s.group)] + Array(repeating: CSVWriter.Cell.text(nil), count: 19)
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
        let activityRows = rows.filter(\.hasActivity)
        for r in activityRows {
            let k = r.kpis
            t.add([r.group, r.week.description, n(k.calls), n(k.emails), n(k.meetings), n(k.opportunitiesCreated), n(k.dealsWon),
                   money(k.revenueWonCents.map { Double($0) / 100 }), pct(k.winRate), money(k.avgDealSize), pct(k.quotaAttainment)])
        }
        out += activityRows.isEmpty ? "No activity in this range (pulse kpi import loads it).\n" : t.render(style: style)
        let pipelineRows = rows.filter { !$0.pipeline.isEmpty }
        if !pipelineRows.isEmpty {
            out += "\n" + style.bold("Pipeline · the trailing quarter (13 weeks) to each week") + "\n"
            func days(_ v: Double?) -> String { v.map { String(format: "%.1f", $0) } ?? "–" }
            var p = TextTable([(byRep ? "rep" : "team", .left), ("week", .left), ("open", .right), ("cycle days", .right),
                               ("win rate", .right), ("avg deal", .right), ("velocity/day", .right), ("lead conv.", .right)])
            for r in pipelineRows {
                let c = r.pipeline
                p.add([r.group, r.week.description, n(c.opportunitiesOpen), days(c.salesCycleDays), pct(c.winRate13w),
                       money(c.avgDealSize13w), money(c.pipelineVelocity), pct(c.leadConversion)])
            }
            out += p.render(style: style)
        }
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
