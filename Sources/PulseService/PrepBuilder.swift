import Foundation
import PulseCore

/// What the reports, prep notes and team reports read, on either engine.
public typealias ServiceStore = ReportStore & KPIStore & RosterStore & OneOnOneStore & PipelineStore

/// Builds prep notes for one as-of day, reading what every note shares once.
public struct PrepBuilder: Sendable {
    let db: any ServiceStore
    let config: PulseConfig
    let asOf: Day
    let thresholds: PrepThresholds
    /// eNPS by team of the first anonymous survey with an eNPS question, over its latest
    /// round on or before the day.
    let teamENPS: ENPSReport?
    let teams: [String: [Int64]]

    /// - Parameter notesFor: the reps whose notes it will build, when known: only their
    ///   teams are read (a note compares a rep with their team), not the whole roster.
    public init(db: any ServiceStore, surveys: [String: SurveyDefinition], config: PulseConfig, asOf: Day,
                notesFor: [Rep]? = nil) async throws(PulseError) {
        self.db = db
        self.config = config
        self.asOf = asOf
        thresholds = config.prepThresholds
        var report: ENPSReport?
        for (id, definition) in surveys.sorted(by: { $0.key < $1.key })
        where report == nil && definition.anonymity == .anonymous && definition.enpsQuestion != nil {
            guard let period = try await db.latestRoundPeriod(survey: id, onOrBefore: asOf) else { continue }
            let range = PeriodRange(period)
            report = ENPSReport.compute(survey: id, range: range, by: .team, counts: try await db.enpsCounts(survey: id, range: range, by: .team, minGroupSize: config.anonymityThreshold),
                                        invited: nil, minGroupSize: config.anonymityThreshold)
        }
        teamENPS = report
        var teams: [String: [Int64]] = [:]
        if let notesFor, notesFor.allSatisfy({ $0.team != nil }) {
            for team in Set(notesFor.compactMap(\.team)) {
                teams[team] = try await db.reps(includeInactive: false, team: team).map { $0.id! }
            }
        } else {
            for rep in try await db.reps(includeInactive: false, team: nil) { teams[rep.team ?? GroupBy.noneLabel, default: []].append(rep.id!) }
        }
        self.teams = teams
    }

    /// The note for one rep.
    public func note(for rep: Rep) async throws(PulseError) -> PrepNote {
        let team = teams[rep.team ?? GroupBy.noneLabel] ?? []
        var history = try await db.prepHistory(rep: rep, asOf: asOf, weeks: thresholds.trendWeeks, teamReps: team)
        history.openActions = try await db.openActions(repID: rep.id, asOf: asOf)
        // The pipeline KPIs over the same weeks, the rep's own and each of the team's reps'.
        let asOfWeek = Period.week(of: asOf)
        let ids = team.contains(rep.id!) ? team : team + [rep.id!]
        var pipeline = try await db.pipelineWeeks(from: asOfWeek.start - 7 * (thresholds.trendWeeks - 1), to: asOfWeek.end, reps: ids)
        history.pipelineWeeks = pipeline[rep.id!] ?? [:]
        if !team.contains(rep.id!) { pipeline[rep.id!] = nil }
        history.teamPipelineWeeks = pipeline
        // An anonymous eNPS shows as the team's figure only, under the same threshold as every report.
        let hasOwn = history.responses.contains { $0.enps != nil }
        if !hasOwn, let report = teamENPS {
            let name = GroupBy.team.group(of: rep.groupKeys)
            let group = report.groups.first { $0.group == name }
                ?? ENPSGroup(group: name, invited: nil, responses: 0, respondents: 0, responseRate: nil, promoters: nil,
                             passives: nil, detractors: nil, enps: nil, ci95: nil, suppressed: false)
            history.teamENPS = TeamENPS(survey: report.survey, range: report.range, team: name, group: group)
        }
        return PrepNote.compute(history, thresholds: thresholds)
    }
}
