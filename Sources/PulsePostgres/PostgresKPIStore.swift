import Foundation
import PostgresNIO
import PulseCore

/// The PostgreSQL engine of `KPIStore`: the server sums the days into rep-weeks (SUM
/// skips a missing value and is missing when every day's is, as `WeeklySummer`); the
/// quota falling on each week is spread as on every engine (`WeeklyKPIs.quotaOverlap`).
extension PostgresAnswerStore: KPIStore {
    public func weeklyKPIs(from start: Day, to end: Day, reps: [Int64]?) async throws(PulseError) -> [WeeklyKPIs] {
        if let reps, reps.isEmpty { return [] }
        let weekStart = Period.week(of: start).start, weekEnd = Period.week(of: end).end
        let logger = self.logger
        let quotas = try await self.quotas(from: weekStart, to: weekEnd)
        var byRep: [Int64: [Quota]] = [:]
        let wanted = reps.map(Set.init)
        for q in quotas where wanted?.contains(q.repID) ?? true { byRep[q.repID, default: []].append(q) }
        let found = byRep
        return try await run {
            try await Self.weeklyKPIs(client.query("""
                SELECT rep_id, week_start, calls, emails, meetings, opportunities_created, deals_won, deals_lost, revenue_won_cents
                FROM activity_week WHERE week_start BETWEEN \(weekStart.description) AND \(weekEnd.description)
                  AND (\(reps)::BIGINT[] IS NULL OR rep_id = ANY(\(reps)))
                ORDER BY rep_id, week_start
                """, logger: logger), quotas: found)
        }
    }

    /// Rep-weeks from rows of (rep, Monday, the seven sums), with the quota falling on each.
    static func weeklyKPIs(_ rows: PostgresRowSequence, quotas: [Int64: [Quota]]) async throws -> [WeeklyKPIs] {
        var out: [WeeklyKPIs] = []
        var weeks: [String: Period] = [:]
        for try await row in rows {
            var r = RowCells(row)
            let rep = try r.int64(), monday = try r.string()
            func number() throws -> Int? { try r.int64OrNil().map(Int.init) }
            let calls = try number(), emails = try number(), meetings = try number(), opportunities = try number()
            let won = try number(), lost = try number(), revenue = try number()
            let week: Period
            if let known = weeks[monday] { week = known } else {
                guard let day = Day(iso: monday) else { continue }
                week = Period.week(of: day)
                weeks[monday] = week
            }
            var k = WeeklyKPIs(repID: rep, week: week)
            k.calls = calls; k.emails = emails; k.meetings = meetings; k.opportunitiesCreated = opportunities
            k.dealsWon = won; k.dealsLost = lost; k.revenueWonCents = revenue
            k.quotaCents = WeeklyKPIs.quotaOverlap(quotas[rep] ?? [], from: week.start, to: week.end)
            out.append(k)
        }
        return out
    }

    public func weeklyValues(of kpi: KPI, from start: Day, to end: Day, reps: [Int64]?) async throws(PulseError) -> [Int64: [Period: Double]] {
        if kpi.isPipeline { return try await pipelineValues(of: kpi, from: start, to: end, reps: reps) }
        var out: [Int64: [Period: Double]] = [:]
        for k in try await weeklyKPIs(from: start, to: end, reps: reps) {
            if let v = k.value(kpi) { out[k.repID, default: [:]][k.week] = v }
        }
        return out
    }

    public func quotas(from start: Day, to end: Day) async throws(PulseError) -> [Quota] {
        let logger = self.logger
        return try await run {
            try await client.query("""
                SELECT rep_id, period, quota_cents FROM quota WHERE period_end >= \(start.description) AND period_start <= \(end.description)
                ORDER BY rep_id, period COLLATE "C"
                """, logger: logger).collect().compactMap { row in
                let (rep, period, cents) = try row.decode((Int64, String, Int).self)
                return Period(period).map { Quota(repID: rep, period: $0, cents: cents) }
            }
        }
    }

    public func revenueCents(from start: Day, to end: Day) async throws(PulseError) -> [Int64: Int] {
        let logger = self.logger
        return try await run {
            var out: [Int64: Int] = [:]
            for row in try await client.query("""
                SELECT rep_id, SUM(revenue_won_cents)::BIGINT FROM activity WHERE day BETWEEN \(start.description) AND \(end.description)
                GROUP BY rep_id
                """, logger: logger).collect() {
                let (rep, cents) = try row.decode((Int64, Int?).self)
                out[rep] = cents ?? 0
            }
            return out
        }
    }

    public func weeklyMorale(survey: String, range: PeriodRange) async throws(PulseError) -> [Int64: [Period: Double]] {
        try await weeklyMoraleSeries(survey: survey, range: range).byRep
    }

    /// One row per rep with the rep's weeks in two arrays (see `packedSeries`).
    public func weeklyMoraleSeries(survey: String, range: PeriodRange) async throws(PulseError) -> RepWeekSeries {
        var binds = PostgresBindings()
        binds.append(survey)
        binds.append(range.start.description)
        binds.append((range.end - 6).description)
        return try await packedSeries(PostgresQuery(unsafeSQL: """
            SELECT rep_id, array_agg((week_start::DATE - DATE '1970-01-01')::BIGINT ORDER BY week_start COLLATE "C"),
                   array_agg(morale::DOUBLE PRECISION ORDER BY week_start COLLATE "C")
            FROM morale_week WHERE survey_id = $1 AND week_start BETWEEN $2 AND $3 GROUP BY rep_id ORDER BY rep_id
            """, binds: binds))
    }

    /// A rep-week series from rows of (rep, the weeks' Mondays as days since 1970-01-01,
    /// their values), one row per rep: a row through PostgresNIO costs several
    /// microseconds (an async step, retains and releases for every cell), so a year of
    /// 20,000 reps comes as 20,000 rows rather than a million.
    func packedSeries(_ query: PostgresQuery) async throws(PulseError) -> RepWeekSeries {
        let logger = self.logger
        return try await run {
            var out = RepWeekSeries()
            for try await row in try await client.query(query, logger: logger) {
                let (rep, mondays, values) = try row.decode((Int64, [Int64], [Double]).self)
                guard mondays.count == values.count else { throw PulseError.runtime("PostgreSQL returned a rep's weeks and values unpaired") }
                for i in mondays.indices { out.append(rep: rep, monday: Int(mondays[i]), value: values[i]) }
            }
            out.finish()
            return out
        }
    }

    /// A KPI that is one sum of the rollup (`KPI.rollupSum`) is read as that column alone;
    /// the others through `WeeklyKPIs`.
    public func weeklyValueSeries(of kpi: KPI, from start: Day, to end: Day) async throws(PulseError) -> RepWeekSeries {
        if kpi.isPipeline { return RepWeekSeries(try await pipelineValues(of: kpi, from: start, to: end, reps: nil)) }
        guard let column = kpi.rollupSum else { return try await weeklyValueSeriesFromKPIs(of: kpi, from: start, to: end) }
        var binds = PostgresBindings()
        binds.append(Period.week(of: start).start.description)
        binds.append(Period.week(of: end).end.description)
        let value = column.cents ? "(\(column.sql))::DOUBLE PRECISION / 100" : "(\(column.sql))::DOUBLE PRECISION"
        return try await packedSeries(PostgresQuery(unsafeSQL: """
            SELECT rep_id, array_agg((week_start::DATE - DATE '1970-01-01')::BIGINT ORDER BY week_start COLLATE "C"),
                   array_agg(\(value) ORDER BY week_start COLLATE "C")
            FROM activity_week WHERE week_start BETWEEN $1 AND $2 AND (\(column.sql)) IS NOT NULL GROUP BY rep_id ORDER BY rep_id
            """, binds: binds))
    }

    /// The same through each rep-week's `WeeklyKPIs`, for every KPI but the pipeline's.
    func weeklyValueSeriesFromKPIs(of kpi: KPI, from start: Day, to end: Day) async throws(PulseError) -> RepWeekSeries {
        var out = RepWeekSeries()
        for k in try await weeklyKPIs(from: start, to: end, reps: nil) {
            if let v = k.value(kpi) { out.append(rep: k.repID, monday: k.week.start.ordinal, value: v) }
        }
        out.finish()
        return out
    }
}
