import Foundation
import GRDB
import PulseCore

/// The rollup of activity into rep-weeks (`activity_week`), kept inside the transaction
/// of every write to `activity`, so that the weekly KPIs read one row per rep-week
/// instead of summing every day again. `pulse doctor` sums the days again and compares.
extension AppDatabase {
    /// v8: `activity_week`, one row per rep and ISO week with activity: the week's Monday
    /// and the sums of its days (a sum is missing when every day's value is, as in
    /// `WeeklySummer`), filled from the rows already there.
    static func registerRollupMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v8-rollups") { db in
            try db.execute(sql: """
                CREATE TABLE activity_week (
                    rep_id INTEGER NOT NULL REFERENCES rep(id),
                    week_start TEXT NOT NULL,
                    calls INTEGER,
                    emails INTEGER,
                    meetings INTEGER,
                    opportunities_created INTEGER,
                    deals_won INTEGER,
                    deals_lost INTEGER,
                    revenue_won_cents INTEGER,
                    PRIMARY KEY (rep_id, week_start)
                ) WITHOUT ROWID;
                """)
            try refreshActivityWeeks(db, from: nil, to: nil, reps: nil)
        }
    }

    static let weekSums = ["calls", "emails", "meetings", "opportunities_created", "deals_won", "deals_lost", "revenue_won_cents"]

    /// Sums the weeks holding the changed days again, for the changed reps.
    static func refreshActivityWeeks(_ db: Database, _ changes: ActivityChanges) throws {
        guard let weeks = changes.weeks else { return }
        try refreshActivityWeeks(db, from: weeks.monday, to: weeks.sunday, reps: Array(changes.reps))
    }

    /// Sums the rep-weeks from `monday` to `sunday` (every week when `nil`) again from the
    /// daily rows, for these reps (every rep when `nil`). A day's ISO week is found from
    /// its Julian day number, whose remainder by 7 is 0 on Mondays.
    static func refreshActivityWeeks(_ db: Database, from monday: Day?, to sunday: Day?, reps: [Int64]?) throws {
        var conditions: [String] = []
        var arguments: StatementArguments = []
        if let monday, let sunday {
            conditions.append("%@ BETWEEN ? AND ?")
            arguments += [monday.description, sunday.description]
        }
        if let reps {
            try db.execute(sql: "CREATE TEMP TABLE IF NOT EXISTS activity_touched (rep_id INTEGER PRIMARY KEY); DELETE FROM temp.activity_touched")
            let insert = try db.makeStatement(sql: "INSERT OR IGNORE INTO temp.activity_touched (rep_id) VALUES (?)")
            for rep in reps { try insert.execute(arguments: [rep]) }
            conditions.append("rep_id IN (SELECT rep_id FROM temp.activity_touched)")
        }
        func clause(_ column: String) -> String {
            conditions.isEmpty ? "" : " WHERE " + conditions.map { $0.replacingOccurrences(of: "%@", with: column) }.joined(separator: " AND ")
        }
        try db.execute(sql: "DELETE FROM activity_week\(clause("week_start"))", arguments: arguments)
        try db.execute(sql: """
            INSERT INTO activity_week (rep_id, week_start, \(weekSums.joined(separator: ", ")))
            SELECT rep_id, date(jdn - jdn % 7), \(weekSums.map { "SUM(\($0))" }.joined(separator: ", "))
            FROM (SELECT rep_id, CAST(julianday(day) + 0.5 AS INTEGER) AS jdn, \(weekSums.joined(separator: ", "))
                  FROM activity\(clause("day")))
            GROUP BY rep_id, jdn - jdn % 7
            """, arguments: arguments)
    }

    /// Calls `body` with each rep-week's KPIs summed again from the daily rows, in rep and
    /// week order: what the rollup is checked against.
    ///
    /// Sums stream over the table in its key order (rep, day), so a rep's days arrive
    /// together and in order and each rep-week is closed as soon as the next begins.
    func forEachWeeklyKPIsFromDays(_ db: Database, from weekStart: Day?, to weekEnd: Day?, reps: [Int64]?,
                                   quotas: [Quota], _ body: (WeeklyKPIs) -> Void) throws {
        var summer = WeeklySummer(quotas: quotas)
        var conditions: [String] = []
        var arguments: StatementArguments = []
        if let weekStart, let weekEnd { conditions.append("day BETWEEN ? AND ?"); arguments += [weekStart.description, weekEnd.description] }
        if let reps { conditions.append("rep_id IN (\(reps.map(String.init).joined(separator: ",")))") }
        let statement = try db.makeStatement(sql: """
            SELECT rep_id, day, calls, emails, meetings, opportunities_created, deals_won, deals_lost, revenue_won_cents
            FROM activity\(conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")) ORDER BY rep_id, day
            """)
        try RawRows(statement, arguments: arguments).forEach { row in
            guard let day = row.day(1), let rep = row.int64(0) else { return }
            let d = ActivityDay(repID: rep, day: day, calls: row.int(2), emails: row.int(3), meetings: row.int(4),
                                opportunitiesCreated: row.int(5), dealsWon: row.int(6), dealsLost: row.int(7),
                                revenueWonCents: row.int(8))
            if let k = summer.add(d) { body(k) }
        }
        if let k = summer.finish() { body(k) }
    }

    /// Calls `body` with each rep-week's KPIs as the rollup holds them, in rep and week order.
    func forEachWeeklyKPIsFromRollup(_ db: Database, from weekStart: Day?, to weekEnd: Day?, reps: [Int64]?,
                                     quotas: [Quota], _ body: (WeeklyKPIs) -> Void) throws {
        var quotasByRep: [Int64: [Quota]] = [:]
        for q in quotas { quotasByRep[q.repID, default: []].append(q) }
        var conditions: [String] = []
        var arguments: StatementArguments = []
        if let weekStart, let weekEnd { conditions.append("week_start BETWEEN ? AND ?"); arguments += [weekStart.description, weekEnd.description] }
        if let reps { conditions.append("rep_id IN (\(reps.map(String.init).joined(separator: ",")))") }
        let statement = try db.makeStatement(sql: """
            SELECT rep_id, week_start, \(Self.weekSums.joined(separator: ", "))
            FROM activity_week\(conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")) ORDER BY rep_id, week_start
            """)
        var weekOfMonday: [Int: Period] = [:]
        try RawRows(statement, arguments: arguments).forEach { row in
            guard let monday = row.day(1), let rep = row.int64(0) else { return }
            let week: Period
            if let known = weekOfMonday[monday.ordinal] { week = known } else {
                week = Period.week(of: monday)
                weekOfMonday[monday.ordinal] = week
            }
            var k = WeeklyKPIs(repID: rep, week: week)
            (k.calls, k.emails, k.meetings, k.opportunitiesCreated) = (row.int(2), row.int(3), row.int(4), row.int(5))
            (k.dealsWon, k.dealsLost, k.revenueWonCents) = (row.int(6), row.int(7), row.int(8))
            k.quotaCents = WeeklyKPIs.quotaOverlap(quotasByRep[rep] ?? [], from: week.start, to: week.end)
            body(k)
        }
    }

    /// The rollups summed again from the raw rows and compared (`pulse doctor`): how many
    /// rep-weeks the rollup holds, and where it differs.
    public func rollupCheck() throws(PulseError) -> RollupCheck {
        try read { db in
            var held: [WeeklyKPIs] = [], summed: [WeeklyKPIs] = []
            try forEachWeeklyKPIsFromRollup(db, from: nil, to: nil, reps: nil, quotas: []) { held.append($0) }
            try forEachWeeklyKPIsFromDays(db, from: nil, to: nil, reps: nil, quotas: []) { summed.append($0) }
            let answers = try Self.responseRollupCheck(db)
            return RollupCheck(rows: held.count, responseGroups: answers.groups, respondents: answers.respondents,
                               moraleWeeks: answers.moraleWeeks,
                               differences: WeeklyKPIs.differences(held: held, summed: summed, table: "activity_week") + answers.differences)
        }
    }

    /// Sums every rollup again from the raw rows (after `pulse doctor` found a difference).
    public func rebuildRollups() throws(PulseError) -> RollupCheck {
        try write { db in
            try Self.refreshActivityWeeks(db, from: nil, to: nil, reps: nil)
            try Self.fillResponseRollups(db)
        }
        return try rollupCheck()
    }
}
