import Foundation
import GRDB
import PulseCore

extension AppDatabase {
    public static let activityColumns = KPIImport.activityColumns
    public static let quotaColumns = KPIImport.quotaColumns

    /// Imports daily (or weekly) activity rows, all or nothing; upserts by (email, date),
    /// by the rules every engine shares (`KPIImport.activity`). Empty cells are missing
    /// values, not zeros; money may carry currency signs and thousands separators.
    ///
    /// Rows are checked and written in one pass inside one transaction (rolled back on
    /// the first problem found, after every problem is listed).
    /// - Parameters:
    ///   - skipUnknown: rows of emails not in the roster are left out and counted instead
    ///     of refused.
    ///   - today: rows dated after it are imported with a warning.
    ///   - progress: called with the rows read so far, every 100,000 rows.
    ///   - decimal: the decimal mark of amounts like `1,234` or `1,5` that could be read
    ///     two ways (`--decimal`); without it the file's other amounts decide, or the
    ///     import is refused.
    public func importActivity(_ reader: CSVReader, map: [String: String] = [:], dateFormat: DateFormat = .iso,
                               decimal: DecimalMark? = nil, skipUnknown: Bool = false, today: Day? = nil,
                               progress: ((Int) -> Void)? = nil) throws(PulseError) -> KPIImportSummary {
        let options = ActivityImportOptions(map: map, dateFormat: dateFormat, decimal: decimal, skipUnknown: skipUnknown, today: today)
        let reps = try repIDsByEmail()
        return try write { db in
            let before = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM activity") ?? 0
            var sink = try SQLiteActivitySink(db, mapped: { self.mapped($0) })
            var (summary, changed) = try KPIImport.activity(reader, options: options, reps: reps, sink: &sink, progress: progress)
            try Self.refreshActivityWeeks(db, sink.changes)
            let after = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM activity") ?? 0
            summary.added = after - before
            summary.updated = changed - summary.added
            summary.unchanged = summary.rows - changed
            return summary
        }
    }

    /// Imports quotas per rep and month or quarter, all or nothing; upserts by (email,
    /// period), by the rules every engine shares (`KPIImport.quotas`).
    public func importQuotas(_ reader: CSVReader, map: [String: String] = [:], decimal: DecimalMark? = nil,
                             skipUnknown: Bool = false) throws(PulseError) -> KPIImportSummary {
        let reps = try repIDsByEmail()
        return try write { db in
            let stored = try Row.fetchAll(db, sql: "SELECT rep_id, period FROM quota").compactMap { r -> (repID: Int64, period: Period)? in
                Period(r["period"] as String).map { (r["rep_id"], $0) }
            }
            var (rows, summary) = try KPIImport.quotas(reader, map: map, decimal: decimal, skipUnknown: skipUnknown, reps: reps, stored: stored)
            for q in rows {
                let old = try Int.fetchOne(db, sql: "SELECT quota_cents FROM quota WHERE rep_id = ? AND period = ?",
                                           arguments: [q.repID, q.period.description])
                if old == q.cents { summary.unchanged += 1; continue }
                try db.execute(sql: """
                    INSERT INTO quota (rep_id, period, period_start, period_end, quota_cents) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (rep_id, period) DO UPDATE SET quota_cents = excluded.quota_cents
                    """, arguments: [q.repID, q.period.description, q.period.start.description, q.period.end.description, q.cents])
                if old == nil { summary.added += 1 } else { summary.updated += 1 }
            }
            return summary
        }
    }

    func repIDsByEmail() throws(PulseError) -> [String: Int64] {
        try read { db in
            var out: [String: Int64] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT id, email FROM rep") { out[row["email"]] = row["id"] }
            return out
        }
    }

    // MARK: - Reads

    /// Weekly KPIs of every rep with activity in the weeks from `range.start` to `range.end`,
    /// by rep and week.
    ///
    /// Sums stream over the table in its key order (rep, day), so a rep's days arrive
    /// together and in order and each rep-week is closed as soon as the next begins:
    /// no row is held, and nothing is sorted.
    /// - Parameter reps: only these reps (`nil` for all).
    public func weeklyKPIs(from start: Day, to end: Day, reps: [Int64]? = nil) throws(PulseError) -> [WeeklyKPIs] {
        var out: [WeeklyKPIs] = []
        try forEachWeeklyKPIs(from: start, to: end, reps: reps) { out.append($0) }
        return out
    }

    /// One KPI of every rep-week with activity, by rep and week, without holding the
    /// rep-weeks themselves (what `correlate` needs over a large range).
    public func weeklyValues(of kpi: KPI, from start: Day, to end: Day, reps: [Int64]? = nil) throws(PulseError) -> [Int64: [Period: Double]] {
        var out: [Int64: [Period: Double]] = [:]
        var rep: Int64?, current: [Period: Double] = [:]
        try forEachWeeklyKPIs(from: start, to: end, reps: reps) { k in
            if k.repID != rep {
                if let rep, !current.isEmpty { out[rep] = current }
                rep = k.repID
                current = [:]
            }
            if let v = k.value(kpi) { current[k.week] = v }
        }
        if let rep, !current.isEmpty { out[rep] = current }
        return out
    }

    /// Calls `body` with each rep-week's KPIs, in rep and week order, from the rollup
    /// (`activity_week`), with the quota falling on each week.
    func forEachWeeklyKPIs(from start: Day, to end: Day, reps: [Int64]?, _ body: (WeeklyKPIs) -> Void) throws(PulseError) {
        let weekStart = Period.week(of: start).start, weekEnd = Period.week(of: end).end
        if let reps, reps.isEmpty { return }
        try read { db in
            let wanted = reps.map(Set.init)
            let quotas = try self.quotas(db, from: weekStart, to: weekEnd).filter { wanted?.contains($0.repID) ?? true }
            try forEachWeeklyKPIsFromRollup(db, from: weekStart, to: weekEnd, reps: reps, quotas: quotas, body)
        }
    }

    func quotas(_ db: Database, from start: Day, to end: Day) throws -> [Quota] {
        try Row.fetchAll(db, sql: "SELECT rep_id, period, quota_cents FROM quota WHERE period_end >= ? AND period_start <= ?",
                         arguments: [start.description, end.description]).compactMap { r in
            Period(r["period"] as String).map { Quota(repID: r["rep_id"], period: $0, cents: r["quota_cents"]) }
        }
    }

    /// Quotas overlapping a span of days.
    public func quotas(from start: Day, to end: Day) throws(PulseError) -> [Quota] {
        try read { db in try self.quotas(db, from: start, to: end) }
    }

    /// Each identified rep's weekly morale for a survey (the contract's definition), by rep
    /// and week: one response per rep and round, so their response's morale, as the
    /// rollup of weekly morale (`morale_week`) holds it.
    public func weeklyMorale(survey: String, range: PeriodRange) throws(PulseError) -> [Int64: [Period: Double]] {
        try weeklyMoraleSeries(survey: survey, range: range).byRep
    }

    /// The same as one series in rep and week order.
    public func weeklyMoraleSeries(survey: String, range: PeriodRange) throws(PulseError) -> RepWeekSeries {
        try read { db in try Self.moraleSeries(db, survey: survey, range: range).first?.series ?? RepWeekSeries() }
    }

    /// One KPI of every rep-week with activity, in rep and week order (not the pipeline's).
    /// A KPI that is one sum of the rollup (`KPI.rollupSum`) is read as that column
    /// alone; the others through `WeeklyKPIs`.
    public func weeklyValueSeries(of kpi: KPI, from start: Day, to end: Day) throws(PulseError) -> RepWeekSeries {
        guard let column = kpi.rollupSum else { return try weeklyValueSeriesFromKPIs(of: kpi, from: start, to: end) }
        let weekStart = Period.week(of: start).start, weekEnd = Period.week(of: end).end
        return try read { db in
            let statement = try db.makeStatement(sql: """
                SELECT rep_id, week_start, \(column.sql) FROM activity_week WHERE week_start BETWEEN ? AND ?
                ORDER BY rep_id, week_start
                """)
            var out = RepWeekSeries()
            try RawRows(statement, arguments: [weekStart.description, weekEnd.description]).forEach { row in
                guard let rep = row.int64(0), let monday = row.day(1), let v = row.int64(2) else { return }
                out.append(rep: rep, monday: monday.ordinal, value: column.cents ? Double(v) / 100 : Double(v))
            }
            out.finish()
            return out
        }
    }

    /// The same through each rep-week's `WeeklyKPIs`, for every KPI but the pipeline's.
    func weeklyValueSeriesFromKPIs(of kpi: KPI, from start: Day, to end: Day) throws(PulseError) -> RepWeekSeries {
        var out = RepWeekSeries()
        try forEachWeeklyKPIs(from: start, to: end, reps: nil) { k in
            if let v = k.value(kpi) { out.append(rep: k.repID, monday: k.week.start.ordinal, value: v) }
        }
        out.finish()
        return out
    }
}

extension AppDatabase {
    /// The numeric answers of each response to a survey inside a range (for drivers),
    /// with the definition of the latest round's version to read them by.
    /// Anonymous answers of a round with fewer than `minGroupSize` of them are left out, as
    /// from every figure.
    public func numericAnswers(survey: String, range: PeriodRange, minGroupSize: Int) throws(PulseError)
        -> (definition: SurveyDefinition?, responses: [[String: Int]]) {
        try read { db in
            let versionID = try Int64.fetchOne(db, sql: """
                SELECT survey_version_id FROM round WHERE survey_id = ? AND period_start >= ? AND period_end <= ?
                ORDER BY period_start DESC LIMIT 1
                """, arguments: [survey, range.start.description, range.end.description])
            let definition = try versionID.map { try Self.version(id: $0, db: db).definition }
            let grouping = try AnonymousGrouping(db, rounds: try roundPeriodsByID(db, survey: survey, range: range).keys,
                                                 threshold: minGroupSize)
            var byResponse: [Int64: [String: Int]] = [:]
            let rows = try Row.fetchCursor(db, sql: """
                SELECT a.response_id, a.question_id, a.number, s.round_id, s.rep_id FROM answer a
                JOIN response s ON s.id = a.response_id JOIN round r ON r.id = s.round_id
                WHERE r.survey_id = ? AND r.period_start >= ? AND r.period_end <= ? AND a.number IS NOT NULL
                """, arguments: [survey, range.start.description, range.end.description])
            while let row = try rows.next() {
                if (row[4] as Int64?) == nil, grouping.isLeftOut(round: row[3]) { continue }
                byResponse[row[0], default: [:]][row[1]] = row[2]
            }
            // In an order of their own (not of the random ids of anonymous answers), so that the
            // sums, to their last bit, are a function of the answers alone.
            let ordered = NumericAnswers(definition: definition, responses: byResponse.values)
            return (ordered.definition, ordered.responses)
        }
    }
}

extension AppDatabase {
    /// Revenue won per rep over a span of days, in cents (reps with activity only).
    public func revenueCents(from start: Day, to end: Day) throws(PulseError) -> [Int64: Int] {
        try read { db in
            var out: [Int64: Int] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT rep_id, SUM(revenue_won_cents) FROM activity WHERE day BETWEEN ? AND ? GROUP BY rep_id
                """, arguments: [start.description, end.description]) {
                out[row[0]] = (row[1] as Int?) ?? 0
            }
            return out
        }
    }
}

/// The SQLite engine's side of an activity import: one prepared upsert driven through
/// SQLite's C API, inside the import's write transaction.
struct SQLiteActivitySink: ActivitySink {
    var upsert: BulkStatement
    let current: Statement
    /// The rows added or changed, for the rollup of rep-weeks.
    var changes = ActivityChanges()
    /// A database error as the store says it (a full disk, a busy file).
    let mapped: (any Error) -> PulseError

    init(_ db: Database, mapped: @escaping (any Error) -> PulseError) throws {
        self.mapped = mapped
        upsert = BulkStatement(try db.makeStatement(sql: """
            INSERT INTO activity (rep_id, day, calls, emails, meetings, opportunities_created, deals_won, deals_lost,
                                  revenue_won_cents, pipeline_value_cents)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (rep_id, day) DO UPDATE SET
                calls = excluded.calls, emails = excluded.emails, meetings = excluded.meetings,
                opportunities_created = excluded.opportunities_created, deals_won = excluded.deals_won,
                deals_lost = excluded.deals_lost, revenue_won_cents = excluded.revenue_won_cents,
                pipeline_value_cents = excluded.pipeline_value_cents
            WHERE calls IS NOT excluded.calls OR emails IS NOT excluded.emails OR meetings IS NOT excluded.meetings
               OR opportunities_created IS NOT excluded.opportunities_created OR deals_won IS NOT excluded.deals_won
               OR deals_lost IS NOT excluded.deals_lost OR revenue_won_cents IS NOT excluded.revenue_won_cents
               OR pipeline_value_cents IS NOT excluded.pipeline_value_cents
            """), connection: db.sqliteConnection)
        current = try db.makeStatement(sql: """
            SELECT calls, emails, meetings, opportunities_created, deals_won, deals_lost, revenue_won_cents,
                   pipeline_value_cents FROM activity WHERE rep_id = ? AND day = ?
            """)
    }

    mutating func write(_ rows: [ActivityRow]) throws(PulseError) -> Int {
        var changed = 0
        do {
            for r in rows where try upsert.execute(r.repID, r.dayText, r.values) > 0 {
                changed += 1
                changes.add(repID: r.repID, day: r.day)
            }
        } catch {
            throw mapped(error)
        }
        return changed
    }

    mutating func stored(_ keys: [(repID: Int64, day: String)]) throws(PulseError) -> [[Int?]?] {
        do {
            return try keys.map { key in
                try Row.fetchOne(current, arguments: [key.repID, key.day]).map { row in (0..<8).map { row[$0] as Int? } }
            }
        } catch {
            throw mapped(error)
        }
    }
}
