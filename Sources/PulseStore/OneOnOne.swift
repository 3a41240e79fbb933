import Foundation
import GRDB
import PulseCore

extension AppDatabase {
    static func registerOneOnOneMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v3-one-on-one") { db in
            // A prep note reads one rep's history: without these, each one scans every
            // response and invitation of the workspace.
            try db.execute(sql: """
                CREATE INDEX response_rep ON response(rep_id) WHERE rep_id IS NOT NULL;
                CREATE INDEX invitation_rep ON invitation(rep_id);
                CREATE INDEX action_item_rep ON action_item(rep_id, done_at);
                CREATE INDEX note_rep ON note(rep_id);
                -- Every report reads these columns of a range of rounds: as a covering index
                -- that is one sequential read instead of a table lookup per response. It
                -- starts with round_id, so it replaces the plain index on it.
                CREATE INDEX response_report ON response(round_id, rep_id, enps, morale, team, manager_email, region);
                DROP INDEX response_round;
                """)
        }
    }

    // MARK: - Notes and actions

    /// Adds a one-on-one note with its action items; the note's id and the actions' ids.
    public func addNote(rep: Rep, text: String, actions: [String], now: Date) throws(PulseError) -> (Int64, [Int64]) {
        guard let repID = rep.id else { throw .runtime("the rep has no id") }
        return try write { db in
            let stamp = Timestamp.string(now)
            try db.execute(sql: "INSERT INTO note (rep_id, text, created_at) VALUES (?, ?, ?)", arguments: [repID, text, stamp])
            let noteID = db.lastInsertedRowID
            var ids: [Int64] = []
            for a in actions {
                try db.execute(sql: "INSERT INTO action_item (rep_id, note_id, text, created_at) VALUES (?, ?, ?, ?)",
                               arguments: [repID, noteID, a, stamp])
                ids.append(db.lastInsertedRowID)
            }
            return (noteID, ids)
        }
    }

    /// A rep's notes, newest first, each with its action items.
    public func notes(rep: Rep) throws(PulseError) -> [OneOnOneNote] {
        try read { db in
            let actions = try Self.actions(db, where: "a.rep_id = ?", arguments: [rep.id])
            return try Row.fetchAll(db, sql: "SELECT id, text, created_at FROM note WHERE rep_id = ? ORDER BY id DESC",
                                    arguments: [rep.id]).map { row in
                let id: Int64 = row["id"]
                return OneOnOneNote(id: id, text: row["text"], createdAt: row["created_at"],
                                    actions: actions.filter { $0.noteID == id })
            }
        }
    }

    /// Action items of a rep (or of every rep) still open on `day` (created by then,
    /// and not done by then), oldest first.
    public func openActions(repID: Int64?, asOf day: Day) throws(PulseError) -> [ActionItem] {
        let end = "\(day + 1)T00:00:00Z"
        return try read { db in
            try Self.actions(db, where: "(? IS NULL OR a.rep_id = ?) AND a.created_at < ? AND (a.done_at IS NULL OR a.done_at >= ?)",
                             arguments: [repID, repID, end, end])
        }
    }

    /// Marks an action item done.
    /// - Returns: the item as it was before, or `nil` when there is no such item.
    public func completeAction(id: Int64, now: Date) throws(PulseError) -> ActionItem? {
        try write { db in
            guard let item = try Self.actions(db, where: "a.id = ?", arguments: [id]).first else { return nil }
            if item.doneAt == nil {
                try db.execute(sql: "UPDATE action_item SET done_at = ? WHERE id = ?", arguments: [Timestamp.string(now), id])
            }
            return item
        }
    }

    static func actions(_ db: Database, where condition: String, arguments: StatementArguments) throws -> [ActionItem] {
        try Row.fetchAll(db, sql: """
            SELECT a.id, a.note_id, a.text, a.created_at, a.done_at, r.email FROM action_item a JOIN rep r ON r.id = a.rep_id
            WHERE \(condition) ORDER BY a.id
            """, arguments: arguments).map { row in
            ActionItem(id: row["id"], noteID: row["note_id"], email: row["email"], text: row["text"],
                       createdAt: row["created_at"], doneAt: row["done_at"])
        }
    }

    // MARK: - A rep's history for the prep note

    /// Everything a prep note reads about one rep up to the end of `asOf`.
    /// - Parameters:
    ///   - weeks: how many weeks back from the as-of week to read.
    ///   - teamReps: the reps whose KPIs give the team's medians.
    public func prepHistory(rep: Rep, asOf: Day, weeks: Int, teamReps: [Int64]) throws(PulseError) -> PrepHistory {
        guard let repID = rep.id else { throw .runtime("the rep has no id") }
        let asOfWeek = Period.week(of: asOf)
        let firstDay = asOfWeek.start - 7 * (weeks - 1)
        var history = PrepHistory(rep: PrepRep(rep), asOf: asOf)
        try read { db in
            history.deactivatedAt = try String.fetchOne(db, sql: "SELECT deactivated_at FROM rep WHERE id = ?", arguments: [repID])
            // Answers of the rep's identified responses (anonymous ones have no rep).
            let rows = try Row.fetchAll(db, sql: """
                SELECT r.period, r.period_start, r.survey_id, r.survey_version_id, s.id AS response, s.morale, s.enps,
                       a.question_id, a.number, a.text
                FROM response s JOIN round r ON r.id = s.round_id LEFT JOIN answer a ON a.response_id = s.id
                WHERE s.rep_id = ? AND r.period_start <= ?
                ORDER BY r.period_start, s.id
                """, arguments: [repID, asOf.description])
            var versions: [Int64: SurveyDefinition] = [:]
            var responses: [Int64: PrepResponse] = [:]
            var order: [Int64] = []
            for row in rows {
                guard let period = Period(row["period"] as String) else { continue }
                let id: Int64 = row["response"]
                if responses[id] == nil {
                    let versionID: Int64 = row["survey_version_id"]
                    if versions[versionID] == nil { versions[versionID] = try Self.version(id: versionID, db: db).definition }
                    responses[id] = PrepResponse(survey: row["survey_id"], period: period, morale: row["morale"], enps: row["enps"],
                                                 definition: versions[versionID]!)
                    order.append(id)
                }
                guard let question: String = row["question_id"] else { continue }
                if let n: Int = row["number"] { responses[id]!.numbers[question] = n }
                if let t: String = row["text"], !t.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                    responses[id]!.texts[question] = t
                }
            }
            history.responses = order.map { responses[$0]! }
            history.firstAnswer = try String.fetchOne(db, sql: """
                SELECT r.period FROM response s JOIN round r ON r.id = s.round_id WHERE s.rep_id = ?
                ORDER BY r.period_start LIMIT 1
                """, arguments: [repID]).flatMap { Period($0) }

            // Rounds of identified surveys the rep was sent, newest first: for non-response.
            history.invitations = try Row.fetchAll(db, sql: """
                SELECT r.period, r.survey_id, i.answered FROM invitation i JOIN round r ON r.id = i.round_id
                JOIN survey v ON v.id = r.survey_id
                WHERE i.rep_id = ? AND i.sent_at IS NOT NULL AND r.period_start <= ? AND v.anonymity = 'identified'
                ORDER BY r.period_start DESC LIMIT 52
                """, arguments: [repID, asOf.description]).compactMap { row in
                Period(row["period"] as String).map { PrepInvitation(period: $0, survey: row["survey_id"], answered: row["answered"]) }
            }
            history.hasActivity = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM activity WHERE rep_id = ?)",
                                                    arguments: [repID]) ?? false
        }
        let span = (firstDay, asOfWeek.end)
        history.weeklyKPIs = try weeklyKPIs(from: span.0, to: span.1, reps: [repID])
        history.teamWeeklyKPIs = try weeklyKPIs(from: span.0, to: span.1, reps: teamReps)
        // The quota period holding the as-of day, and revenue won in it up to that day.
        if let quota = try quotas(from: asOf, to: asOf).first(where: { $0.repID == repID }) {
            history.quota = quota
            history.revenueInQuotaPeriodCents = try read { db in
                try Int.fetchOne(db, sql: """
                    SELECT SUM(revenue_won_cents) FROM activity WHERE rep_id = ? AND day BETWEEN ? AND ?
                    """, arguments: [repID, quota.period.start.description, asOf.description])
            }
        }
        return history
    }
}
