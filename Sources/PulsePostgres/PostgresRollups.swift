import Foundation
import PostgresNIO
import PulseCore

/// The rollup of activity into rep-weeks (`activity_week`) on PostgreSQL, kept inside the
/// transaction of every write to `activity`, as on SQLite.
extension PostgresAnswerStore {
    /// The start of the statement that sums days into rep-weeks; the caller adds `FROM
    /// activity`, its conditions and `GROUP BY rep_id, monday`.
    static let activityWeekInsert = """
        INSERT INTO activity_week (rep_id, week_start, calls, emails, meetings, opportunities_created, deals_won, deals_lost,
                                   revenue_won_cents)
        SELECT rep_id, \(mondayOfDay) AS monday, SUM(calls)::BIGINT, SUM(emails)::BIGINT, SUM(meetings)::BIGINT,
               SUM(opportunities_created)::BIGINT, SUM(deals_won)::BIGINT, SUM(deals_lost)::BIGINT, SUM(revenue_won_cents)::BIGINT
        """

    /// The Monday of a day's ISO week, as the tables write days.
    static let mondayOfDay = "to_char(day::date - (extract(isodow FROM day::date)::int - 1), 'YYYY-MM-DD')"

    /// Sums the rep-weeks from `monday` to `sunday` (every week when `nil`) again from the
    /// daily rows, for these reps (every rep when `nil`).
    static func refreshActivityWeeks(from monday: Day?, to sunday: Day?, reps: [Int64]?,
                                     on c: PostgresConnection, logger: Logger) async throws {
        let from = monday?.description, to = sunday?.description
        // One refresh at a time: two removals of the same weeks would otherwise both insert them.
        try await c.query("LOCK TABLE activity_week IN SHARE ROW EXCLUSIVE MODE", logger: logger)
        try await c.query("""
            DELETE FROM activity_week WHERE (\(from)::TEXT IS NULL OR week_start BETWEEN \(from) AND \(to))
              AND (\(reps)::BIGINT[] IS NULL OR rep_id = ANY(\(reps)))
            """, logger: logger)
        var binds = PostgresBindings()
        binds.append(from); binds.append(to); binds.append(reps)
        try await c.query(PostgresQuery(unsafeSQL: activityWeekInsert + """
             FROM activity WHERE ($1::TEXT IS NULL OR day BETWEEN $1 AND $2) AND ($3::BIGINT[] IS NULL OR rep_id = ANY($3))
            GROUP BY rep_id, monday
            """, binds: binds), logger: logger)
    }

    /// The rollups summed again from the raw rows and compared (`pulse doctor`), in one
    /// snapshot of the database.
    public func rollupCheck() async throws(PulseError) -> RollupCheck {
        let logger = self.logger
        return try await run {
            try await client.withConnection { c in
                try await c.inTransaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger) { c in
                    let held = try await Self.weeklyKPIs(c.query("""
                        SELECT rep_id, week_start, calls, emails, meetings, opportunities_created, deals_won, deals_lost, revenue_won_cents
                        FROM activity_week ORDER BY rep_id, week_start
                        """, logger: logger), quotas: [:])
                    let summed = try await Self.weeklyKPIs(c.query(PostgresQuery(unsafeSQL: """
                        SELECT rep_id, \(Self.mondayOfDay) AS monday, SUM(calls)::BIGINT, SUM(emails)::BIGINT, SUM(meetings)::BIGINT,
                               SUM(opportunities_created)::BIGINT, SUM(deals_won)::BIGINT, SUM(deals_lost)::BIGINT,
                               SUM(revenue_won_cents)::BIGINT
                        FROM activity GROUP BY rep_id, monday ORDER BY rep_id, monday
                        """), logger: logger), quotas: [:])
                    let answers = try await Self.responseRollupCheck(on: c, logger: logger)
                    return RollupCheck(rows: held.count, responseGroups: answers.groups, respondents: answers.respondents,
                                       moraleWeeks: answers.moraleWeeks,
                                       differences: WeeklyKPIs.differences(held: held, summed: summed, table: "activity_week")
                                           + answers.differences)
                }
            }
        }
    }

    /// Sums every rollup again from the raw rows (after `pulse doctor` found a difference).
    public func rebuildRollups() async throws(PulseError) -> RollupCheck {
        let logger = self.logger
        _ = try await transaction(dryRun: false) { c in
            try await c.query("LOCK TABLE activity IN SHARE ROW EXCLUSIVE MODE", logger: logger)
            try await Self.refreshActivityWeeks(from: nil, to: nil, reps: nil, on: c, logger: logger)
            try await c.query("LOCK TABLE response IN SHARE ROW EXCLUSIVE MODE", logger: logger)
            for statement in Self.fillResponseRollups { try await c.query(PostgresQuery(unsafeSQL: statement), logger: logger) }
        }
        return try await rollupCheck()
    }
}
