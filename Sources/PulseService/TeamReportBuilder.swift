import Foundation
import PulseCore

/// Gathers a team report's figures from the store, each under the anonymity threshold.
public struct TeamReportBuilder: Sendable {
    let db: any ServiceStore
    let surveys: [String: SurveyDefinition]
    let threshold: Int

    public init(db: any ServiceStore, surveys: [String: SurveyDefinition], threshold: Int) {
        self.db = db; self.surveys = surveys; self.threshold = threshold
    }

    /// The report of one team (`nil`: every team) over a range of weeks.
    public func build(team: String?, range: PeriodRange, moraleSurvey: String, enpsSurvey: String?, kpi: KPI, generated: Day) async throws(PulseError) -> TeamReport {
        var notes: [String] = []
        let weeks = range.weeks
        let by: GroupBy = team == nil ? .all : .team
        let group = team ?? "all"
        let identified = surveys[moraleSurvey]?.anonymity != .anonymous
        let known = try await db.knowsSurvey(moraleSurvey)
        if surveys[moraleSurvey] == nil && !known {
            throw PulseError.usage("no survey \"\(moraleSurvey)\" (give the morale survey with --survey)")
        }

        // Morale per week with suppression across the teams, and the heatmap.
        let teamCells = try await db.moraleCells(survey: moraleSurvey, range: range, by: .team, minGroupSize: threshold)
        let byTeam = TrendsReport.compute(survey: moraleSurvey, range: range, by: .team, periods: weeks,
                                          cells: teamCells, minGroupSize: threshold)
        let mine: TrendSeries?
        if by == .all {
            mine = TrendsReport.compute(survey: moraleSurvey, range: range, by: .all, periods: weeks,
                                        cells: try await db.moraleCells(survey: moraleSurvey, range: range, by: .all, minGroupSize: threshold), minGroupSize: threshold).series.first
        } else if identified {
            // An identified survey's team report shows each rep's line: hiding the team's
            // own line beside them would protect no one and only lose the summary.
            mine = TrendsReport.compute(survey: moraleSurvey, range: range, by: .team, periods: weeks,
                                        cells: teamCells.filter { $0.key == group }, minGroupSize: 1).series.first
        } else {
            mine = byTeam.series.first { $0.group == group }
        }
        let morale = mine?.points ?? weeks.map { TrendPoint(period: $0, morale: nil, respondents: 0, suppressed: false) }
        var heatmap: [TeamReport.HeatRow] = []
        var heatmapOf = "teams"
        let teamReps = if let team { try await db.reps(includeInactive: true, team: team) } else { [Rep]() }
        let weeklyMorale = identified ? try await db.weeklyMorale(survey: moraleSurvey, range: range) : [:]
        if team != nil, identified {
            heatmapOf = "reps"
            for rep in teamReps where weeklyMorale[rep.id!] != nil || rep.active {
                let series = weeklyMorale[rep.id!] ?? [:]
                heatmap.append(.init(name: rep.name ?? rep.email, cells: weeks.map { series[$0].map(SVGChart.HeatCell.value) ?? .empty }))
            }
        } else {
            for s in byTeam.series where team == nil || s.group == team {
                heatmap.append(.init(name: s.group, cells: s.points.map { p in
                    p.suppressed ? .hidden : p.morale.map(SVGChart.HeatCell.value) ?? .empty
                }))
            }
            if team != nil && !identified { notes.append("\(moraleSurvey) is anonymous: the heatmap shows the team, never a rep") }
            for left in try await db.anonymousAnswersLeftOut(survey: moraleSurvey, range: range, minGroupSize: threshold) {
                let (period, n) = (left.period, left.answers)
                notes.append("\(n) anonymous \(n == 1 ? "answer" : "answers") to \(moraleSurvey) \(period) left out: fewer than "
                    + "the anonymity threshold (\(threshold)) in that round")
            }
        }

        // Response rates: invitations sent against respondents, where rounds were sent through Pulse.
        var rates: [TeamReport.RateRow] = []
        for p in morale {
            let invited = try await db.invitedCounts(survey: moraleSurvey, range: PeriodRange(p.period), by: by)?[by == .all ? "all" : group]
            let rate = p.suppressed ? nil : invited.flatMap { i in p.respondents.flatMap { i > 0 ? Rounding.round(Double($0) / Double(i), places: 3) : nil } }
            rates.append(.init(period: p.period, invited: p.suppressed ? nil : invited, respondents: p.suppressed ? nil : p.respondents,
                               rate: rate, suppressed: p.suppressed))
        }

        // eNPS over the year up to the range's end, one point per round.
        let enpsID = enpsSurvey ?? (surveys["enps"]?.enpsQuestion != nil ? "enps" : surveys.keys.sorted().first { surveys[$0]?.enpsQuestion != nil })
        var enps: [(Period, ENPSGroup)] = []
        if let enpsID {
            let yearBack = try PeriodRange(from: Period.week(of: range.end - 364), to: Period.quarter(of: range.end))
            for p in try await db.roundPeriods(survey: enpsID, range: yearBack) {
                let r = ENPSReport.compute(survey: enpsID, range: PeriodRange(p), by: by,
                                           counts: try await db.enpsCounts(survey: enpsID, range: PeriodRange(p), by: by, minGroupSize: threshold), invited: nil, minGroupSize: threshold)
                if let g = r.groups.first(where: { $0.group == (by == .all ? "all" : group) }) { enps.append((p, g)) }
            }
        }

        // Morale against the KPI, rep-week by rep-week, under the same rule as `correlate --by team`.
        var result: CorrelationReport.Result?
        var sentence: String?
        var scatter: [(x: Double, y: Double)] = []
        if identified {
            let reps = team == nil ? nil : teamReps.compactMap(\.id)
            let kpis = try await db.weeklyValues(of: kpi, from: range.start, to: range.end, reps: reps)
            let wanted = reps.map(Set.init)
            let morale = weeklyMorale.filter { wanted?.contains($0.key) ?? true }
            let groups = team.map { t in Dictionary(uniqueKeysWithValues: (reps ?? []).map { ($0, t) }) }
            let c = CorrelationReport.compute(survey: moraleSurvey, kpi: kpi, lag: 0, range: range, morale: morale, kpis: kpis,
                                              groups: groups, minGroupSize: threshold)
            if let r = c.results.first {
                result = r
                sentence = c.sentence(r)
                if !r.suppressed {
                    for (rep, weeks) in morale { for (w, m) in weeks { if let v = kpis[rep]?[w] { scatter.append((v, m)) } } }
                    scatter.sort { ($0.x, $0.y) < ($1.x, $1.y) }
                }
            }
        } else {
            notes.append("\(moraleSurvey) is anonymous: its answers cannot be paired with a rep's \(kpi.label)")
        }
        return TeamReport(team: team, range: range, weeks: weeks, moraleSurvey: moraleSurvey, enpsSurvey: enpsID, enps: enps,
                          heatmapOf: heatmapOf, heatmap: heatmap, morale: morale, responseRates: rates, kpi: kpi,
                          correlation: result, correlationSentence: sentence, scatter: scatter, notes: notes, generated: generated)
    }
}
