import Crypto
import Foundation
import GRDB
import PulseCore

/// The SHA-256 of a personal token: all the database keeps of it.
public func tokenHash(_ token: String) -> Data { TokenKey.hash(token) }

extension AppDatabase {
    static let responseFixedColumns = ResponsesImport.fixedColumns

    // MARK: - Writes

    /// Imports answers collected elsewhere, all or nothing, by the rules of
    /// `ResponsesImport`, in one write transaction.
    /// - Parameters:
    ///   - surveys: the definitions in the surveys folder, by id.
    ///   - threshold: the anonymity threshold (`min_group_size`).
    public func importResponses(_ reader: CSVReader, surveys: [String: SurveyDefinition],
                                map: [String: String] = [:], threshold: Int = PulseConfig().anonymityThreshold,
                                now: Date) throws(PulseError) -> ResponsesImportSummary {
        try write { db in
            var reps: [String: Rep] = [:]
            for rep in try Row.fetchAll(db, sql: "SELECT * FROM rep").map(Rep.init(row:)) { reps[rep.email] = rep }
            var engine = SQLiteResponsesImport(db: db, stamp: Timestamp.string(now), now: now)
            return try Self.withRollupsPaused(db) {
                let summary = try ResponsesImport.run(reader, surveys: surveys, map: map, threshold: threshold, reps: reps, engine: &engine)
                return (summary, engine.touched)
            }
        }
    }
}

/// The SQLite engine of a responses import: statements on the import's write transaction.
struct SQLiteResponsesImport: ResponsesImportEngine {
    let db: Database
    let stamp: String
    let now: Date
    /// The rounds whose responses it wrote, whose rollups are summed again at the end.
    var touched: Set<Int64> = []

    /// Runs a body, turning a database error into a sentence.
    func sql<T>(_ body: () throws -> T) throws(PulseError) -> T {
        do { return try body() } catch let e as PulseError { throw e } catch { throw .runtime("the database: \(error)") }
    }

    func invitation(tokenHash hash: Data) throws(PulseError) -> (repID: Int64, survey: String, period: String)? {
        try sql {
            try Row.fetchOne(db.cachedStatement(sql: """
                SELECT i.rep_id, r.survey_id, r.period FROM invitation i JOIN round r ON r.id = i.round_id WHERE i.token_hash = ?
                """), arguments: [hash]).map { ($0["rep_id"], $0["survey_id"], $0["period"]) }
        }
    }

    func round(survey: String, period: Period) throws(PulseError) -> (id: Int64, version: SurveyVersion)? {
        try sql {
            guard let row = try Row.fetchOne(db, sql: "SELECT id, survey_version_id FROM round WHERE survey_id = ? AND period = ?",
                                             arguments: [survey, period.description]) else { return nil }
            return (row["id"], try AppDatabase.version(id: row["survey_version_id"], db: db))
        }
    }

    func openRound(_ survey: SurveyDefinition, period p: Period) throws(PulseError) -> Int64 {
        try sql {
            let versionID = try AppDatabase.registerVersion(survey, db: db, now: now)
            try db.execute(sql: """
                INSERT INTO round (survey_id, survey_version_id, period, period_start, period_end, source, opened_at)
                VALUES (?, ?, ?, ?, ?, 'imported', ?)
                """, arguments: [survey.id, versionID, p.description, p.start.description, p.end.description, stamp])
            return db.lastInsertedRowID
        }
    }

    func markAnswered(_ batch: [ImportedResponse]) throws(PulseError) -> [Bool] {
        try sql {
            let read = try db.cachedStatement(sql: "SELECT answered FROM invitation WHERE round_id = ? AND rep_id = ?")
            let insert = try db.cachedStatement(sql: """
                INSERT INTO invitation (round_id, rep_id, team, manager_email, region, created_at, answered) VALUES (?, ?, ?, ?, ?, ?, 1)
                """)
            let update = try db.cachedStatement(sql: "UPDATE invitation SET answered = 1 WHERE round_id = ? AND rep_id = ?")
            return try batch.map { p in
                let answered = try Bool.fetchOne(read, arguments: [p.roundID!, p.repID])
                if answered == nil {
                    try insert.execute(arguments: [p.roundID!, p.repID, p.keys.team, p.keys.managerEmail, p.keys.region, stamp])
                } else if answered == false {
                    try update.execute(arguments: [p.roundID!, p.repID])
                }
                return answered == true
            }
        }
    }

    mutating func storeIdentified(_ batch: [ImportedResponse]) throws(PulseError) -> [StoredOutcome] {
        for p in batch { touched.insert(p.roundID!) }
        return try sql {
            try batch.map { p -> StoredOutcome in
                let keys = p.keys
                if let id = try Int64.fetchOne(db.cachedStatement(sql: "SELECT id FROM response WHERE round_id = ? AND rep_id = ?"),
                                               arguments: [p.roundID!, p.repID]) {
                    if try AppDatabase.answers(responseID: id, definition: p.survey, db: db) == p.answers { return .unchanged }
                    try db.cachedStatement(sql: """
                        UPDATE response SET team = ?, manager_email = ?, region = ?, submitted_at = COALESCE(?, submitted_at),
                               morale = ?, enps = ?, source = 'import' WHERE id = ?
                        """).execute(arguments: [keys.team, keys.managerEmail, keys.region, p.submittedAt, p.morale, p.enps, id])
                    try db.cachedStatement(sql: "DELETE FROM answer WHERE response_id = ?").execute(arguments: [id])
                    try AppDatabase.insertAnswers(p.answers, responseID: id, db: db)
                    return .updated
                }
                try db.cachedStatement(sql: """
                    INSERT INTO response (round_id, rep_id, team, manager_email, region, submitted_at, morale, enps, source)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'import')
                    """).execute(arguments: [p.roundID!, p.repID, keys.team, keys.managerEmail, keys.region, p.submittedAt, p.morale, p.enps])
                try AppDatabase.insertAnswers(p.answers, responseID: db.lastInsertedRowID, db: db)
                return .added
            }
        }
    }

    func promise(_ k: Int, roundID: Int64) throws(PulseError) -> Int {
        try sql {
            try AppDatabase.promise(k, roundID: roundID, db: db)
            return try Int.fetchOne(db, sql: "SELECT min_group_size FROM round WHERE id = ?", arguments: [roundID]) ?? k
        }
    }

    mutating func storeAnonymous(_ batch: [AnonymousWrite]) throws(PulseError) {
        for w in batch { touched.insert(w.response.roundID!) }
        try sql {
            let insert = try db.cachedStatement(sql: """
                INSERT INTO response (id, round_id, rep_id, team, manager_email, region, submitted_at, morale, enps, source)
                VALUES (?, ?, NULL, ?, ?, ?, NULL, ?, ?, 'import')
                """)
            for w in batch {
                try insert.execute(arguments: [w.id, w.response.roundID!, w.tags.team, w.tags.managerEmail, w.tags.region,
                                               w.response.morale, w.response.enps])
                try AppDatabase.insertAnswers(w.response.answers, responseID: w.id, db: db)
            }
        }
    }
}

extension AppDatabase {
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
