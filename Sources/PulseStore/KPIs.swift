import Foundation
import GRDB
import PulseCore

/// What a KPI import did.
public struct KPIImportSummary: Sendable, Equatable {
    public var rows = 0
    public var added = 0
    public var updated = 0
    public var unchanged = 0
    public var firstDay: Day?
    public var lastDay: Day?
    public var warnings: [String] = []
}

extension AppDatabase {
    public static let activityColumns = ["email", "date", "calls", "emails", "meetings", "opportunities_created", "deals_won",
                                         "deals_lost", "revenue_won", "pipeline_value"]
    public static let quotaColumns = ["email", "period", "quota"]

    private static let countColumns = ["calls", "emails", "meetings", "opportunities_created", "deals_won", "deals_lost"]

    /// Imports daily (or weekly) activity rows, all or nothing; upserts by (email, date).
    /// Empty cells are missing values, not zeros; money may carry currency signs and
    /// thousands separators.
    public func importActivity(_ reader: CSVReader, map: [String: String] = [:], dateFormat: DateFormat = .iso)
        throws(PulseError) -> KPIImportSummary {
        let file = reader.file
        let layout = try ColumnLayout(header: reader.header, file: file, required: ["email", "date"],
                                      optional: Array(Self.activityColumns.dropFirst(2)), map: map)
        var summary = KPIImportSummary()
        for u in layout.unused { summary.warnings.append("\(file): column \"\(u.name)\" is not an activity column and was ignored") }
        let reps = try repIDsByEmail()
        var issues: [InputIssue] = []
        var rows: [ActivityDay] = []
        struct RepDay: Hashable { var rep: Int64; var day: Int }
        var seen: [RepDay: (line: Int, row: ActivityDay)] = [:]
        try reader.forEachRecord { record throws(PulseError) in
            let line = record.line
            func bad(_ field: String, _ message: String) {
                if issues.count < 1000 { issues.append(InputIssue(file: file, line: line, field: field, message)) }
            }
            func cell(_ column: String) -> String? {
                guard let i = layout.index(column), let s = record.string(i) else { return nil }
                let t = s.trimmingSpaces
                return t.isEmpty ? nil : t
            }
            guard let email = cell("email")?.lowercased() else { return bad("email", "is empty") }
            guard let repID = reps[email] else { return bad("email", "\(email) is not in the roster (import it with pulse roster import)") }
            guard let dateText = cell("date") else { return bad("date", "is empty") }
            guard let day = dateFormat.parse(dateText) else {
                return bad("date", "\"\(dateText)\" is not a date as \(dateFormat.rawValue) (--date-format \(DateFormat.allCases.map(\.rawValue).joined(separator: "|")))")
            }
            var row = ActivityDay(repID: repID, day: day)
            var counts: [Int?] = []
            for column in Self.countColumns {
                guard let text = cell(column) else { counts.append(nil); continue }
                guard let n = Parse.count(text) else {
                    bad(column, "\"\(text)\" is not a whole number of 0 or more")
                    counts.append(nil)
                    continue
                }
                counts.append(n)
            }
            (row.calls, row.emails, row.meetings, row.opportunitiesCreated, row.dealsWon, row.dealsLost)
                = (counts[0], counts[1], counts[2], counts[3], counts[4], counts[5])
            for (column, path) in [("revenue_won", \ActivityDay.revenueWonCents), ("pipeline_value", \ActivityDay.pipelineValueCents)] {
                guard let text = cell(column) else { continue }
                guard let cents = Parse.cents(text), cents >= 0 else {
                    bad(column, "\"\(text)\" is not an amount of money (like 1234.50, $1,234.50 or 1 234,50 ₽)")
                    continue
                }
                row[keyPath: path] = cents
            }
            let key = RepDay(rep: repID, day: day.ordinal)
            if let earlier = seen[key] {
                if earlier.row != row {
                    bad("date", "\(email) has another row for \(day) on line \(earlier.line) with other values; keep one row per rep and day")
                }
                return
            }
            seen[key] = (line, row)
            rows.append(row)
        }
        guard issues.isEmpty else { throw .invalidInput(issues) }
        if rows.isEmpty { summary.warnings.append("\(file): no rows after the header") }
        summary.rows = rows.count
        summary.firstDay = rows.map(\.day).min()
        summary.lastDay = rows.map(\.day).max()
        try write { db in
            let upsert = try db.makeStatement(sql: """
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
                """)
            let exists = try db.makeStatement(sql: "SELECT 1 FROM activity WHERE rep_id = ? AND day = ?")
            for r in rows {
                let existed = try Bool.fetchOne(exists, arguments: [r.repID, r.day.description]) ?? false
                try upsert.execute(arguments: [r.repID, r.day.description, r.calls, r.emails, r.meetings, r.opportunitiesCreated,
                                               r.dealsWon, r.dealsLost, r.revenueWonCents, r.pipelineValueCents])
                if !existed { summary.added += 1 } else if db.changesCount > 0 { summary.updated += 1 } else { summary.unchanged += 1 }
            }
        }
        return summary
    }

    /// Imports quotas per rep and month or quarter, all or nothing; upserts by (email, period).
    public func importQuotas(_ reader: CSVReader, map: [String: String] = [:]) throws(PulseError) -> KPIImportSummary {
        let file = reader.file
        let layout = try ColumnLayout(header: reader.header, file: file, required: Self.quotaColumns, optional: [], map: map)
        var summary = KPIImportSummary()
        for u in layout.unused { summary.warnings.append("\(file): column \"\(u.name)\" is not a quota column and was ignored") }
        let reps = try repIDsByEmail()
        var issues: [InputIssue] = []
        var rows: [Quota] = []
        var seen: [String: (line: Int, cents: Int)] = [:]
        try reader.forEachRecord { record throws(PulseError) in
            let line = record.line
            func bad(_ field: String, _ message: String) { issues.append(InputIssue(file: file, line: line, field: field, message)) }
            func cell(_ column: String) -> String? {
                guard let i = layout.index(column), let s = record.string(i) else { return nil }
                let t = s.trimmingSpaces
                return t.isEmpty ? nil : t
            }
            guard let email = cell("email")?.lowercased() else { return bad("email", "is empty") }
            guard let repID = reps[email] else { return bad("email", "\(email) is not in the roster (import it with pulse roster import)") }
            guard let periodText = cell("period") else { return bad("period", "is empty") }
            guard let period = Period(periodText), period.kind != .week else {
                return bad("period", "\"\(periodText)\" is not a month (2026-11) or a quarter (2026-Q4)")
            }
            guard let quotaText = cell("quota") else { return bad("quota", "is empty") }
            guard let cents = Parse.cents(quotaText), cents > 0 else {
                return bad("quota", "\"\(quotaText)\" is not an amount of money above 0")
            }
            let key = "\(repID)|\(period)"
            if let earlier = seen[key] {
                if earlier.cents != cents { bad("quota", "\(email) has another quota for \(period) on line \(earlier.line)") }
                return
            }
            seen[key] = (line, cents)
            rows.append(Quota(repID: repID, period: period, cents: cents))
        }
        guard issues.isEmpty else { throw .invalidInput(issues) }
        summary.rows = rows.count
        try write { db in
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
        }
        return summary
    }

    func repIDsByEmail() throws(PulseError) -> [String: Int64] {
        try read { db in
            var out: [String: Int64] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT id, email FROM rep") { out[row["email"]] = row["id"] }
            return out
        }
    }

    // MARK: - Reads

    /// Weekly KPIs of every rep with activity in the weeks from `range.start` to `range.end`.
    public func weeklyKPIs(from start: Day, to end: Day) throws(PulseError) -> [WeeklyKPIs] {
        let weekStart = Period.week(of: start).start, weekEnd = Period.week(of: end).end
        return try read { db in
            var days: [ActivityDay] = []
            let rows = try Row.fetchCursor(db, sql: """
                SELECT rep_id, day, calls, emails, meetings, opportunities_created, deals_won, deals_lost,
                       revenue_won_cents, pipeline_value_cents
                FROM activity WHERE day BETWEEN ? AND ?
                """, arguments: [weekStart.description, weekEnd.description])
            while let r = try rows.next() {
                guard let day = Day(iso: r["day"] as String) else { continue }
                days.append(ActivityDay(repID: r[0], day: day, calls: r[2], emails: r[3], meetings: r[4], opportunitiesCreated: r[5],
                                        dealsWon: r[6], dealsLost: r[7], revenueWonCents: r[8], pipelineValueCents: r[9]))
            }
            let quotas = try self.quotas(db, from: weekStart, to: weekEnd)
            return WeeklyKPIs.compute(days: days, quotas: quotas)
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

    /// Each identified rep's weekly morale for a survey (the contract's definition), by rep and week.
    public func weeklyMorale(survey: String, range: PeriodRange) throws(PulseError) -> [Int64: [Period: Double]] {
        var sums: [Int64: [Period: (Double, Int)]] = [:]
        for f in try responseFacts(survey: survey, range: range) {
            guard case let .rep(id) = f.respondent, let m = f.morale, f.period.kind == .week else { continue }
            let old = sums[id, default: [:]][f.period] ?? (0, 0)
            sums[id, default: [:]][f.period] = (old.0 + m, old.1 + 1)
        }
        return sums.mapValues { $0.mapValues { $0.0 / Double($0.1) } }
    }
}

extension AppDatabase {
    /// The numeric answers of each response to a survey inside a range (for drivers),
    /// with the definition of the latest round's version to read them by.
    public func numericAnswers(survey: String, range: PeriodRange) throws(PulseError)
        -> (definition: SurveyDefinition?, responses: [[String: Int]]) {
        try read { db in
            let versionID = try Int64.fetchOne(db, sql: """
                SELECT survey_version_id FROM round WHERE survey_id = ? AND period_start >= ? AND period_end <= ?
                ORDER BY period_start DESC LIMIT 1
                """, arguments: [survey, range.start.description, range.end.description])
            let definition = try versionID.map { try Self.version(id: $0, db: db).definition }
            var byResponse: [Int64: [String: Int]] = [:]
            let rows = try Row.fetchCursor(db, sql: """
                SELECT a.response_id, a.question_id, a.number FROM answer a
                JOIN response s ON s.id = a.response_id JOIN round r ON r.id = s.round_id
                WHERE r.survey_id = ? AND r.period_start >= ? AND r.period_end <= ? AND a.number IS NOT NULL
                """, arguments: [survey, range.start.description, range.end.description])
            while let row = try rows.next() { byResponse[row[0], default: [:]][row[1]] = row[2] }
            return (definition, byResponse.keys.sorted().map { byResponse[$0]! })
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
