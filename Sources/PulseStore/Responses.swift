import Crypto
import Foundation
import GRDB
import PulseCore

/// What a responses import did.
public struct ResponsesImportSummary: Sendable, Equatable {
    public var added = 0
    public var updated = 0
    public var unchanged = 0
    /// Anonymous answers from reps who had already answered that round: an anonymous
    /// answer has no link back to its rep, so it cannot be replaced and is left as it was.
    public var anonymousAlreadyAnswered = 0
    public var roundsCreated: [String] = []
    public var warnings: [String] = []
}

/// The SHA-256 of a personal token: all the database keeps of it.
public func tokenHash(_ token: String) -> Data { TokenKey.hash(token) }

extension AppDatabase {
    static let responseFixedColumns = ["email", "token", "survey", "period", "submitted_at"]

    private struct PendingResponse {
        var line: Int
        var survey: SurveyDefinition
        var versionID: Int64?
        var roundID: Int64?
        var period: Period
        var rep: Rep
        var submittedAt: String?
        var answers: [String: AnswerValue]
    }

    // MARK: - Writes

    /// Imports answers collected elsewhere, all or nothing.
    ///
    /// Each row is checked against the survey version its round uses (the current file
    /// for a new round): the range and type of each answer, required answers, and
    /// cells for questions the survey does not have. Identified answers upsert by
    /// (email, survey, period). Anonymous answers are stored with no rep and no time.
    ///
    /// The anonymous answers of a round that one file brings are one batch: at least
    /// `threshold` of them, or the file is refused (written alone, fewer would be tied to
    /// the reps whose invitations the import marks answered). They are written after every
    /// invitation, in a random order with random ids, under the groups `AnonymousCells`
    /// leaves them, so that neither row order, ids, page offsets nor group tags line an
    /// answer up with its rep.
    /// - Parameters:
    ///   - surveys: the definitions in the surveys folder, by id.
    ///   - threshold: the anonymity threshold (`min_group_size`).
    public func importResponses(_ reader: CSVReader, surveys: [String: SurveyDefinition],
                                map: [String: String] = [:], threshold: Int = PulseConfig().anonymityThreshold,
                                now: Date) throws(PulseError) -> ResponsesImportSummary {
        let file = reader.file
        let questionColumns = Set(surveys.values.flatMap { $0.questions.map(\.id) })
        let layout = try ColumnLayout(header: reader.header, file: file, required: ["survey", "period"],
                                      oneOf: [["email", "token"]], optional: ["submitted_at"], map: map)
        // Every other column is a candidate question id.
        var questionIndex: [String: Int] = [:]
        var summary = ResponsesImportSummary()
        for u in layout.unused {
            let id = u.name.lowercased()
            if questionColumns.contains(id) {
                questionIndex[id] = u.index
            } else {
                summary.warnings.append("\(file): column \"\(u.name)\" is not a question of any survey and was ignored")
            }
        }

        return try write { db in
            var issues: [InputIssue] = []
            var repsByEmail: [String: Rep] = [:]
            for rep in try Row.fetchAll(db, sql: "SELECT * FROM rep").map(Rep.init(row:)) { repsByEmail[rep.email] = rep }
            var roundCache: [String: (id: Int64, version: SurveyVersion)?] = [:]
            func round(_ survey: String, _ period: Period) throws -> (id: Int64, version: SurveyVersion)? {
                let key = "\(survey)|\(period)"
                if let cached = roundCache[key] { return cached }
                var found: (Int64, SurveyVersion)?
                if let row = try Row.fetchOne(db, sql: "SELECT id, survey_version_id FROM round WHERE survey_id = ? AND period = ?",
                                              arguments: [survey, period.description]) {
                    found = (row["id"], try Self.version(id: row["survey_version_id"], db: db))
                }
                roundCache[key] = found
                return found
            }

            var pending: [PendingResponse] = []
            var seen: [String: (line: Int, answers: [String: AnswerValue])] = [:]
            try reader.forEachRecord { record throws(PulseError) in
                let line = record.line
                func bad(_ field: String?, _ message: String) {
                    issues.append(InputIssue(file: file, line: line, field: field, message))
                }
                func cell(_ i: Int?) -> String? {
                    guard let i else { return nil }
                    guard let s = record.string(i) else { return nil }
                    let t = s.trimmingSpaces
                    return t.isEmpty ? nil : t
                }
                guard let surveyID = cell(layout.index("survey")) else { return bad("survey", "is empty") }
                guard let fileDefinition = surveys[surveyID] ?? surveys[surveyID.lowercased()] else {
                    return bad("survey", "unknown survey \"\(surveyID)\" (the surveys are: \(surveys.keys.sorted().joined(separator: ", ")))")
                }
                guard let periodText = cell(layout.index("period")) else { return bad("period", "is empty") }
                guard let period = Period(periodText) else {
                    return bad("period", "\"\(periodText)\" is not a period: \(Period.hint)")
                }
                if let kind = fileDefinition.schedule?.periodKind, kind != period.kind {
                    return bad("period", "\"\(periodText)\" is a \(period.kind.rawValue), but \(fileDefinition.id) runs every \(fileDefinition.schedule!.every.rawValue): give a \(kind.rawValue)")
                }
                // The rep: by email, or by the personal token of an invitation.
                var rep: Rep?
                if let email = cell(layout.index("email"))?.lowercased() {
                    rep = repsByEmail[email]
                    if rep == nil { return bad("email", "\(email) is not in the roster (import it with pulse roster import)") }
                } else if let token = cell(layout.index("token")) {
                    let row = try? Row.fetchOne(db, sql: """
                        SELECT i.rep_id, r.survey_id, r.period FROM invitation i JOIN round r ON r.id = i.round_id
                        WHERE i.token_hash = ?
                        """, arguments: [tokenHash(token)])
                    guard let row else { return bad("token", "no invitation has this token") }
                    guard row["survey_id"] == fileDefinition.id, row["period"] == period.description else {
                        return bad("token", "the token belongs to another survey or period")
                    }
                    let repID: Int64 = row["rep_id"]
                    rep = repsByEmail.values.first { $0.id == repID }
                } else {
                    return bad("email", "is empty: every row needs an email or a token")
                }
                guard let rep else { return }
                // The definition that governs: the round's version, or the file for a new round.
                let existing: (id: Int64, version: SurveyVersion)?
                do { existing = try round(fileDefinition.id, period) } catch {
                    return bad(nil, "cannot read the round: \(error)")
                }
                let definition = existing?.version.definition ?? fileDefinition
                var answers: [String: AnswerValue] = [:]
                for q in definition.questions {
                    guard let raw = cell(questionIndex[q.id]) else {
                        if !q.isOptional { bad(q.id, "an answer is required") }
                        continue
                    }
                    switch q.parse(raw) {
                    case let .success(v): answers[q.id] = v
                    case let .failure(problem): bad(q.id, problem.message)
                    }
                }
                for (id, i) in questionIndex where definition.question(id) == nil && cell(i) != nil {
                    let which = existing.map { " (version \($0.version.number), used by the round \(period))" } ?? ""
                    bad(id, "\(definition.id)\(which) has no question \"\(id)\"")
                }
                var submitted: String?
                if let s = cell(layout.index("submitted_at")) {
                    if let date = Self.parseTimestamp(s) {
                        submitted = Timestamp.string(date)
                    } else {
                        bad("submitted_at", "\"\(s)\" is not a date or time (2026-11-20 or 2026-11-20T09:30:00Z)")
                    }
                }
                let key = "\(rep.email)|\(definition.id)|\(period)"
                if let earlier = seen[key] {
                    if earlier.answers != answers {
                        bad(nil, "\(rep.email) answered \(definition.id) for \(period) on line \(earlier.line) too, with other answers; keep one row")
                    }
                    return
                }
                seen[key] = (line, answers)
                pending.append(PendingResponse(line: line, survey: definition, versionID: existing?.version.id,
                                               roundID: existing?.id, period: period, rep: rep,
                                               submittedAt: definition.anonymity == .anonymous ? nil : submitted,
                                               answers: answers))
            }
            guard issues.isEmpty else { throw PulseError.invalidInput(issues) }

            // Rounds the file opens.
            let stamp = Timestamp.string(now)
            var newRounds: [String: Int64] = [:]
            for i in pending.indices where pending[i].roundID == nil {
                let key = "\(pending[i].survey.id)|\(pending[i].period)"
                if let id = newRounds[key] {
                    pending[i].roundID = id
                    continue
                }
                let versionID = try Self.registerVersion(pending[i].survey, db: db, now: now)
                let p = pending[i].period
                try db.execute(sql: """
                    INSERT INTO round (survey_id, survey_version_id, period, period_start, period_end, source, opened_at)
                    VALUES (?, ?, ?, ?, ?, 'imported', ?)
                    """, arguments: [pending[i].survey.id, versionID, p.description, p.start.description, p.end.description, stamp])
                newRounds[key] = db.lastInsertedRowID
                pending[i].roundID = db.lastInsertedRowID
                summary.roundsCreated.append("\(pending[i].survey.id) \(p)")
            }
            if pending.contains(where: { $0.survey.anonymity == .anonymous && $0.submittedAt == nil }),
               layout.has("submitted_at") {
                summary.warnings.append("\(file): submitted_at is not kept for anonymous surveys")
            }
            // Every invitation first, in the file's order; the identified answers with them.
            var anonymous: [Int64: [PendingResponse]] = [:]
            for p in pending {
                let answeredBefore = try markAnswered(p, db: db, stamp: stamp)
                switch p.survey.anonymity {
                case .anonymous:
                    if answeredBefore { summary.anonymousAlreadyAnswered += 1 } else { anonymous[p.roundID!, default: []].append(p) }
                case .identified:
                    try storeIdentified(p, db: db, summary: &summary)
                }
            }
            // Then each round's anonymous answers, as one batch.
            var rng = SystemRandomNumberGenerator()
            var small: [InputIssue] = []
            for (roundID, batch) in anonymous.sorted(by: { $0.value[0].line < $1.value[0].line }) {
                // The round's own threshold when its mail promised a larger one.
                let threshold = max(threshold, try Int.fetchOne(db, sql: "SELECT min_group_size FROM round WHERE id = ?",
                                                                arguments: [roundID]) ?? 0)
                try Self.promise(threshold, roundID: roundID, db: db)
                guard let tags = AnonymousCells.tags(batch.map(\.rep.groupKeys), threshold: threshold) else {
                    let first = batch[0]
                    small.append(InputIssue(file: file, line: first.line, field: "survey",
                        "\(Plural.count(batch.count, "new anonymous answer")) to \(first.survey.id) \(first.period) in this file, fewer than "
                        + "min_group_size (\(threshold)): written alone, they would be tied to the reps this import marks as having "
                        + "answered; import them with at least \(threshold - batch.count) more of the round's answers"))
                    continue
                }
                for i in batch.indices.shuffled(using: &rng) {
                    try storeAnonymous(batch[i], tags: tags[i], db: db, rng: &rng)
                    summary.added += 1
                }
            }
            guard small.isEmpty else { throw PulseError.invalidInput(small) }
            return summary
        }
    }

    /// Marks the rep's invitation answered (making it for an imported round); whether it
    /// was answered before.
    private func markAnswered(_ p: PendingResponse, db: Database, stamp: String) throws -> Bool {
        let roundID = p.roundID!
        let keys = p.rep.groupKeys
        let answered = try Bool.fetchOne(db.cachedStatement(sql: "SELECT answered FROM invitation WHERE round_id = ? AND rep_id = ?"),
                                         arguments: [roundID, p.rep.id])
        if answered == nil {
            try db.cachedStatement(sql: """
                INSERT INTO invitation (round_id, rep_id, team, manager_email, region, created_at, answered)
                VALUES (?, ?, ?, ?, ?, ?, 1)
                """).execute(arguments: [roundID, p.rep.id, keys.team, keys.managerEmail, keys.region, stamp])
        } else if answered == false {
            try db.cachedStatement(sql: "UPDATE invitation SET answered = 1 WHERE round_id = ? AND rep_id = ?").execute(arguments: [roundID, p.rep.id])
        }
        return answered == true
    }

    /// An anonymous answer: a random id, no rep, no time, the groups its batch leaves it.
    private func storeAnonymous(_ p: PendingResponse, tags: GroupKeys, db: Database,
                                rng: inout SystemRandomNumberGenerator) throws {
        let enps = p.survey.enpsQuestion.flatMap { p.answers[$0.id]?.number }
        let morale = p.survey.morale(of: p.answers)
        let id = Int64.random(in: 1...Int64.max, using: &rng)
        try db.cachedStatement(sql: """
            INSERT INTO response (id, round_id, rep_id, team, manager_email, region, submitted_at, morale, enps, source)
            VALUES (?, ?, NULL, ?, ?, ?, NULL, ?, ?, 'import')
            """).execute(arguments: [id, p.roundID!, tags.team, tags.managerEmail, tags.region, morale, enps])
        try Self.insertAnswers(p.answers, responseID: id, db: db)
    }

    private func storeIdentified(_ p: PendingResponse, db: Database, summary: inout ResponsesImportSummary) throws {
        let roundID = p.roundID!
        let keys = p.rep.groupKeys
        let enps = p.survey.enpsQuestion.flatMap { p.answers[$0.id]?.number }
        let morale = p.survey.morale(of: p.answers)
        if let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT id FROM response WHERE round_id = ? AND rep_id = ?"),
                                      arguments: [roundID, p.rep.id]) {
            let id: Int64 = row["id"]
            if try Self.answers(responseID: id, definition: p.survey, db: db) == p.answers {
                summary.unchanged += 1
                return
            }
            try db.cachedStatement(sql: """
                UPDATE response SET team = ?, manager_email = ?, region = ?, submitted_at = COALESCE(?, submitted_at),
                       morale = ?, enps = ?, source = 'import' WHERE id = ?
                """).execute(arguments: [keys.team, keys.managerEmail, keys.region, p.submittedAt, morale, enps, id])
            try db.cachedStatement(sql: "DELETE FROM answer WHERE response_id = ?").execute(arguments: [id])
            try Self.insertAnswers(p.answers, responseID: id, db: db)
            summary.updated += 1
        } else {
            try db.cachedStatement(sql: """
                INSERT INTO response (round_id, rep_id, team, manager_email, region, submitted_at, morale, enps, source)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'import')
                """).execute(arguments: [roundID, p.rep.id, keys.team, keys.managerEmail, keys.region, p.submittedAt, morale, enps])
            try Self.insertAnswers(p.answers, responseID: db.lastInsertedRowID, db: db)
            summary.added += 1
        }
    }

    static func insertAnswers(_ answers: [String: AnswerValue], responseID: Int64, db: Database) throws {
        let insert = try db.cachedStatement(sql: "INSERT INTO answer (response_id, question_id, number, text) VALUES (?, ?, ?, ?)")
        for (question, value) in answers {
            try insert.execute(arguments: [responseID, question, value.number, value.text])
        }
    }

    static func answers(responseID: Int64, definition: SurveyDefinition, db: Database) throws -> [String: AnswerValue] {
        var out: [String: AnswerValue] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT question_id, number, text FROM answer WHERE response_id = ?", arguments: [responseID]) {
            let id: String = row["question_id"]
            let n: Int? = row["number"]
            let t: String = row["text"] ?? ""
            out[id] = n.map(AnswerValue.number) ?? (definition.question(id)?.type == .choice ? .choice(t) : .text(t))
        }
        return out
    }

}

extension AppDatabase {
    static func parseTimestamp(_ s: String) -> Date? { Timestamp.parse(s) }
}
