import Foundation
import GRDB
import PulseCore

/// A stored version of a survey definition.


extension Round {
    init(row: Row) throws {
        let p: String = row["period"]
        guard let period = Period(p) else {
            throw PulseError.runtime("the database holds a round with a bad period \"\(p)\"")
        }
        self.init(id: row["id"], surveyID: row["survey_id"], versionID: row["survey_version_id"], period: period,
                  source: row["source"], openedAt: row["opened_at"], closesAt: row["closes_at"], closedAt: row["closed_at"],
                  minGroupSize: row.hasColumn("min_group_size") ? row["min_group_size"] : nil)
    }
}

extension AppDatabase {
    /// Stores a definition as the survey's current version, or finds the stored version
    /// with the same content. Runs inside the caller's transaction.
    /// - Returns: the version's id.
    static func registerVersion(_ definition: SurveyDefinition, db: Database, now: Date) throws -> Int64 {
        let json = definition.canonicalJSON()
        let title = definition.title.text(for: "en")
        try db.execute(sql: """
            INSERT INTO survey (id, title, anonymity) VALUES (?, ?, ?)
            ON CONFLICT(id) DO UPDATE SET title = excluded.title, anonymity = excluded.anonymity
            """, arguments: [definition.id, title, definition.anonymity.rawValue])
        let versionID: Int64
        if let existing = try Int64.fetchOne(db, sql: "SELECT id FROM survey_version WHERE survey_id = ? AND definition = ?",
                                             arguments: [definition.id, json]) {
            versionID = existing
        } else {
            let number = (try Int.fetchOne(db, sql: "SELECT MAX(number) FROM survey_version WHERE survey_id = ?",
                                           arguments: [definition.id]) ?? 0) + 1
            try db.execute(sql: """
                INSERT INTO survey_version (survey_id, number, definition, registered_at) VALUES (?, ?, ?, ?)
                """, arguments: [definition.id, number, json, Timestamp.string(now)])
            versionID = db.lastInsertedRowID
        }
        try db.execute(sql: "UPDATE survey SET current_version_id = ? WHERE id = ?", arguments: [versionID, definition.id])
        return versionID
    }

    /// Definitions decoded from their stored JSON, by that JSON: the answer pages read
    /// one per request, and the same text always decodes to the same definition.
    private static let definitions = BoundedCache<String, SurveyDefinition>(limit: 256)

    static func version(id: Int64, db: Database) throws -> SurveyVersion {
        guard let row = try Row.fetchOne(db, sql: "SELECT id, number, definition FROM survey_version WHERE id = ?", arguments: [id]) else {
            throw PulseError.runtime("the database has no survey version \(id)")
        }
        let json: String = row["definition"]
        let definition: SurveyDefinition
        if let cached = definitions[json] {
            definition = cached
        } else {
            definition = try SurveyDefinition.fromCanonicalJSON(json)
            definitions[json] = definition
        }
        return SurveyVersion(id: row["id"], number: row["number"], definition: definition)
    }

    /// The number of stored versions and rounds of each survey.
    public func surveyHistory() throws(PulseError) -> [String: (versions: Int, rounds: Int)] {
        try read { db in
            var out: [String: (Int, Int)] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT s.id,
                       (SELECT COUNT(*) FROM survey_version v WHERE v.survey_id = s.id) AS versions,
                       (SELECT COUNT(*) FROM round r WHERE r.survey_id = s.id) AS rounds
                FROM survey s
                """) {
                out[row["id"]] = (row["versions"], row["rounds"])
            }
            return out
        }
    }

    /// The rounds of a survey (all surveys when `nil`), oldest first.
    public func rounds(survey: String? = nil) throws(PulseError) -> [Round] {
        try read { db in
            if let survey {
                return try Row.fetchAll(db, sql: "SELECT * FROM round WHERE survey_id = ? ORDER BY period_start, id", arguments: [survey]).map(Round.init(row:))
            }
            return try Row.fetchAll(db, sql: "SELECT * FROM round ORDER BY period_start, survey_id").map(Round.init(row:))
        }
    }
}

extension AppDatabase {
    public func roundSummaries(survey: String? = nil) throws(PulseError) -> [RoundSummary] {
        try read { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT r.*, v.number AS version_number,
                       (SELECT COUNT(*) FROM invitation i WHERE i.round_id = r.id AND i.sent_at IS NOT NULL) AS invited,
                       (SELECT COUNT(*) FROM invitation i WHERE i.round_id = r.id AND i.answered) AS answered,
                       (SELECT COUNT(*) FROM response s WHERE s.round_id = r.id) AS responses
                FROM round r JOIN survey_version v ON v.id = r.survey_version_id
                WHERE ?1 IS NULL OR r.survey_id = ?1
                ORDER BY r.period_start, r.survey_id
                """, arguments: [survey])
            return try rows.map { row in
                RoundSummary(round: try Round(row: row), version: row["version_number"], invited: row["invited"],
                             answered: row["answered"], responses: row["responses"])
            }
        }
    }
}
