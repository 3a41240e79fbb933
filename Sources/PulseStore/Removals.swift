import Foundation
import GRDB
import PulseCore

extension AppDatabase {
    // MARK: - Reads

    /// A round with each invited rep: sent, reminded and answered. For an anonymous survey
    /// only whether each rep answered, never when or what.
    public func roundDetail(survey: String, period: Period) throws(PulseError) -> (round: Round, anonymity: Anonymity, reps: [RoundRep]) {
        try read { db in
            let round = try Self.round(survey: survey, period: period, db: db)
            let definition = try Self.version(id: round.versionID, db: db).definition
            let anonymous = definition.anonymity == .anonymous
            let rows = try Row.fetchAll(db, sql: """
                SELECT rep.email, rep.name, i.team, i.sent_at, i.reminders, i.last_reminded_at, i.answered,
                       (SELECT s.submitted_at FROM response s WHERE s.round_id = i.round_id AND s.rep_id = i.rep_id) AS submitted
                FROM invitation i JOIN rep ON rep.id = i.rep_id WHERE i.round_id = ? ORDER BY rep.email
                """, arguments: [round.id])
            let reps = rows.map { row in
                RoundRep(email: row["email"], name: row["name"], team: row["team"], sentAt: row["sent_at"],
                         reminders: row["reminders"], lastRemindedAt: row["last_reminded_at"], answered: row["answered"],
                         answeredAt: anonymous ? nil : row["submitted"])
            }
            return (round, definition.anonymity, reps)
        }
    }

    /// The responses of an identified survey, one per rep and round, with their answers.
    /// - Throws: `.usage` for an anonymous survey: its answers are never shown one by one.
    public func exportResponses(survey: String, range: PeriodRange?) throws(PulseError)
        -> (definition: SurveyDefinition, responses: [ExportedResponse]) {
        try read { db in
            guard let versionID = try Int64.fetchOne(db, sql: "SELECT current_version_id FROM survey WHERE id = ?", arguments: [survey])
                ?? Int64.fetchOne(db, sql: "SELECT MAX(id) FROM survey_version WHERE survey_id = ?", arguments: [survey]) else {
                throw PulseError.usage("there are no answers to \(survey) (pulse rounds list shows the rounds)")
            }
            let definition = try Self.version(id: versionID, db: db).definition
            let storedAnonymous = try Bool.fetchOne(db, sql: "SELECT anonymity = 'anonymous' FROM survey WHERE id = ?", arguments: [survey]) ?? false
            if definition.anonymity == .anonymous || storedAnonymous {
                throw PulseError.usage("\(survey) is anonymous: its answers are not linked to reps and are never shown one by one; "
                    + "pulse enps and pulse trends give its figures for groups of at least min_group_size")
            }
            var sql = """
                SELECT s.id, rep.email, rep.name, s.team, r.period, s.submitted_at, r.survey_version_id
                FROM response s JOIN round r ON r.id = s.round_id JOIN rep ON rep.id = s.rep_id
                WHERE r.survey_id = ?
                """
            var arguments: StatementArguments = [survey]
            if let range {
                sql += " AND r.period_start >= ? AND r.period_end <= ?"
                arguments += [range.start.description, range.end.description]
            }
            sql += " ORDER BY r.period_start, rep.email"
            var definitions: [Int64: SurveyDefinition] = [:]
            var out: [ExportedResponse] = []
            for row in try Row.fetchAll(db, sql: sql, arguments: arguments) {
                let vid: Int64 = row["survey_version_id"]
                if definitions[vid] == nil { definitions[vid] = try Self.version(id: vid, db: db).definition }
                guard let period = Period(row["period"] as String) else { continue }
                out.append(ExportedResponse(email: row["email"], name: row["name"], team: row["team"], period: period,
                                            submittedAt: row["submitted_at"],
                                            answers: try Self.answers(responseID: row["id"], definition: definitions[vid]!, db: db)))
            }
            return (definition, out)
        }
    }

    // MARK: - Writes

    /// Removes a round with its invitations, their mail and its answers. Without `apply`
    /// it counts what it would remove and changes nothing.
    public func deleteRound(survey: String, period: Period, apply: Bool) throws(PulseError) -> RemovalSummary {
        try transaction(dryRun: !apply) { db in
            let round = try Self.round(survey: survey, period: period, db: db)
            var summary = RemovalSummary(applied: apply)
            func run(_ what: String, _ sql: String) throws {
                try db.execute(sql: sql, arguments: [round.id])
                summary.parts.append((what, db.changesCount))
            }
            try run("queued or sent message", "DELETE FROM outbox WHERE invitation_id IN (SELECT id FROM invitation WHERE round_id = ?)")
            try run("invitation", "DELETE FROM invitation WHERE round_id = ?")
            try db.execute(sql: "DELETE FROM answer WHERE response_id IN (SELECT id FROM response WHERE round_id = ?)", arguments: [round.id])
            try run("response", "DELETE FROM response WHERE round_id = ?")
            try run("round", "DELETE FROM round WHERE id = ?")
            return summary
        }
    }

    /// Removes activity rows between two days (both included), of one rep or of everyone.
    public func deleteActivity(from: Day, to: Day, repEmail: String?, apply: Bool) throws(PulseError) -> RemovalSummary {
        try transaction(dryRun: !apply) { db in
            var sql = "DELETE FROM activity WHERE day >= ? AND day <= ?"
            var arguments: StatementArguments = [from.description, to.description]
            var reps: [Int64]?
            if let repEmail {
                guard let id = try Int64.fetchOne(db, sql: "SELECT id FROM rep WHERE email = ?", arguments: [repEmail]) else {
                    throw PulseError.input(InputIssue(file: repEmail, "not in the roster"))
                }
                sql += " AND rep_id = ?"
                arguments += [id]
                reps = [id]
            }
            try db.execute(sql: sql, arguments: arguments)
            let removed = db.changesCount
            // The weeks holding the range, summed again from the days left in them.
            try Self.refreshActivityWeeks(db, from: Period.week(of: from).start, to: Period.week(of: to).end, reps: reps)
            return RemovalSummary(parts: [("activity row", removed)], applied: apply)
        }
    }

    /// Removes everything held about a rep: the rep, their identified answers, notes,
    /// actions, activity, quotas, invitations and mail. Anonymous answers stay: they hold
    /// no link to the rep, so there is nothing that says which are theirs.
    public func eraseRep(email: String, apply: Bool) throws(PulseError) -> RemovalSummary {
        try transaction(dryRun: !apply) { db in
            guard let id = try Int64.fetchOne(db, sql: "SELECT id FROM rep WHERE email = ?", arguments: [email]) else {
                throw PulseError.input(InputIssue(file: email, "not in the roster"))
            }
            var summary = RemovalSummary(applied: apply)
            func run(_ what: String, _ sql: String) throws {
                try db.execute(sql: sql, arguments: [id])
                summary.parts.append((what, db.changesCount))
            }
            try run("message", "DELETE FROM outbox WHERE invitation_id IN (SELECT id FROM invitation WHERE rep_id = ?)")
            try run("invitation", "DELETE FROM invitation WHERE rep_id = ?")
            try db.execute(sql: "DELETE FROM answer WHERE response_id IN (SELECT id FROM response WHERE rep_id = ?)", arguments: [id])
            try run("identified response", "DELETE FROM response WHERE rep_id = ?")
            try run("action", "DELETE FROM action_item WHERE rep_id = ?")
            try run("note", "DELETE FROM note WHERE rep_id = ?")
            try run("activity row", "DELETE FROM activity WHERE rep_id = ?")
            try db.execute(sql: "DELETE FROM activity_week WHERE rep_id = ?", arguments: [id])
            try run("quota", "DELETE FROM quota WHERE rep_id = ?")
            try run("opportunity", "DELETE FROM opportunity WHERE rep_id = ?")
            try run("lead", "DELETE FROM lead WHERE rep_id = ?")
            try run("rep", "DELETE FROM rep WHERE id = ?")
            return summary
        }
    }

    static func round(survey: String, period: Period, db: Database) throws -> Round {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM round WHERE survey_id = ? AND period = ?",
                                         arguments: [survey, period.description]) else {
            let periods = try String.fetchAll(db, sql: "SELECT period FROM round WHERE survey_id = ? ORDER BY period_start", arguments: [survey])
            if periods.isEmpty {
                let surveys = try String.fetchAll(db, sql: "SELECT DISTINCT survey_id FROM round ORDER BY survey_id")
                throw Closest.unknown("survey with rounds", survey, known: surveys, listLabel: "the surveys with rounds are")
            }
            throw PulseError.usage("there is no round \(survey) \(period) (its rounds are: \(periods.suffix(12).joined(separator: ", ")))")
        }
        return try Round(row: row)
    }
}
