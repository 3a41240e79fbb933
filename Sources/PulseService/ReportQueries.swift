import Foundation
import PulseCore

/// The reports as the commands compute them, from either engine's store: one place that `pulse enps`,
/// `trends`, `drivers` and `correlate`, the demo and the tests all call.
public enum ReportQueries {
    /// eNPS per group (`pulse enps`), anonymous answers under the groups every figure uses.
    public static func enps(_ store: any ReportStore, survey: String, range: PeriodRange, by: GroupBy,
                            minGroupSize: Int) async throws(PulseError) -> ENPSReport {
        ENPSReport.compute(survey: survey, range: range, by: by,
                           counts: try await store.enpsCounts(survey: survey, range: range, by: by, minGroupSize: minGroupSize),
                           invited: try await store.invitedCounts(survey: survey, range: range, by: by), minGroupSize: minGroupSize)
    }

    /// Morale per group and round period (`pulse trends`).
    public static func trends(_ store: any ReportStore, survey: String, range: PeriodRange, by: GroupBy,
                              minGroupSize: Int) async throws(PulseError) -> TrendsReport {
        TrendsReport.compute(survey: survey, range: range, by: by, periods: try await store.roundPeriods(survey: survey, range: range),
                             cells: try await store.moraleCells(survey: survey, range: range, by: by, minGroupSize: minGroupSize),
                             minGroupSize: minGroupSize)
    }

    /// Why a survey cannot be ranked for drivers, in a sentence; `nil` when it can.
    public static func unanalysable(_ d: SurveyDefinition) -> String? {
        let scales = d.questions.filter { $0.type == .scale }.count
        switch (d.enpsQuestion != nil, scales > 0) {
        case (true, true): return nil
        case (false, true): return "\(d.id) cannot be analysed for drivers: it has scale questions but no eNPS question to rank them against"
        case (true, false): return "\(d.id) cannot be analysed for drivers: it has an eNPS question but no scale questions to rank"
        case (false, false): return "\(d.id) cannot be analysed for drivers: it has neither an eNPS question nor scale questions"
        }
    }

    /// The scale questions ranked by how they go with the eNPS answer (`pulse drivers`).
    public static func drivers(_ store: any ReportStore, survey: String, range: PeriodRange,
                               minGroupSize: Int) async throws(PulseError) -> DriversReport {
        let found = try await store.numericAnswers(survey: survey, range: range, minGroupSize: minGroupSize)
        return try drivers(found, survey: survey, range: range, minGroupSize: minGroupSize)
    }

    static func drivers(_ found: NumericAnswers, survey: String, range: PeriodRange, minGroupSize: Int) throws(PulseError) -> DriversReport {
        guard let definition = found.definition else { throw PulseError.usage("\(survey) has no answers in \(range)") }
        if let why = unanalysable(definition) {
            throw PulseError.usage(why + " (drivers rank a survey's scale questions by how their answers go with its "
                + "eNPS answer; the shipped engagement survey has both)")
        }
        return DriversReport.compute(survey: definition, range: range, enpsID: definition.enpsQuestion!.id, responses: found.responses,
                                     minGroupSize: minGroupSize)
    }

    /// Morale against a KPI, rep-week by rep-week (`pulse correlate`), for an identified
    /// survey that runs by week.
    /// - Parameters:
    ///   - anonymous: whether the survey's definition says anonymous (refused).
    ///   - byTeam: one result per team.
    public static func correlation(_ store: any ReportStore & KPIStore & RosterStore, survey: String, anonymous: Bool, kpi: KPI, lag: Int,
                                   range: PeriodRange, byTeam: Bool, minGroupSize: Int) async throws(PulseError) -> CorrelationReport {
        let refusal = "\(survey) is anonymous: its answers have no link to a rep, so they cannot be joined with a rep's KPIs"
        if anonymous { throw PulseError.usage(refusal + " (use an identified survey such as weekly-pulse)") }
        let periods = try await store.roundPeriods(survey: survey, range: range)
        if let p = periods.first, p.kind != .week {
            throw PulseError.usage("\(survey) runs by \(p.kind.rawValue); correlate pairs weekly morale with weekly KPIs")
        }
        let shift = 7 * lag
        // The KPI's series is read beside the morale's (two reads at once on either engine).
        async let kpiSeries: Result<RepWeekSeries, PulseError> = {
            do throws(PulseError) {
                return .success(try await store.weeklyValueSeries(of: kpi, from: range.start + min(0, shift), to: range.end + max(0, shift)))
            } catch {
                return .failure(error)
            }
        }()
        let morale = try await store.weeklyMoraleSeries(survey: survey, range: range)
        if morale.isEmpty, try await !store.moraleCells(survey: survey, range: range, by: .all, minGroupSize: 1).isEmpty {
            throw PulseError.usage(refusal)
        }
        let kpis = try await kpiSeries.get()
        let groups: [Int64: String]? = byTeam
            ? Dictionary(uniqueKeysWithValues: try await store.reps(includeInactive: true, team: nil).map { ($0.id!, $0.team ?? GroupBy.noneLabel) })
            : nil
        return CorrelationReport.compute(survey: survey, kpi: kpi, lag: lag, range: range, morale: morale, kpis: kpis,
                                         groups: groups, minGroupSize: minGroupSize)
    }
}
