import Foundation
import PostgresNIO
import PulseCore

/// The PostgreSQL engine of `ResponsesImportStore`: the file is read and checked by the
/// rules every engine shares (`ResponsesImport`) on a thread of its own, and written on
/// the import's one transaction, which any problem rolls back. One responses import runs
/// at a time (a transaction-level advisory lock); the answer pages go on answering, and
/// a rep's invitation and response rows are locked in the order the pages lock them.
extension PostgresAnswerStore: ResponsesImportStore {
    /// The advisory lock that keeps responses imports one at a time.
    static let responsesImportLock: Int64 = 0x7075_6c73_6502

    public func importResponses(_ reader: CSVReader, surveys: [String: SurveyDefinition], map: [String: String],
                                threshold: Int, now: Date) async throws(PulseError) -> ResponsesImportSummary {
        let logger = self.logger
        return try await run {
            try await client.withTransaction(logger: logger) { c -> ResponsesImportSummary in
                try await c.query("SELECT pg_advisory_xact_lock(\(Self.responsesImportLock))", logger: logger)
                var reps: [String: Rep] = [:]
                for row in try await c.query(PostgresQuery(unsafeSQL: "SELECT \(Self.repColumns) FROM rep"), logger: logger).collect() {
                    let rep = try Self.rep(row)
                    reps[rep.email] = rep
                }
                let roster = reps
                return try await ConnectionBridge.run(on: c) { bridge throws(PulseError) in
                    var engine = PostgresResponsesImport(bridge: bridge, logger: logger, stamp: Timestamp.string(now), now: now)
                    return try ResponsesImport.run(reader, surveys: surveys, map: map, threshold: threshold, reps: roster, engine: &engine)
                }
            }
        }
    }
}

/// Each call of the shared rules, as statements on the import's transaction.
struct PostgresResponsesImport: ResponsesImportEngine {
    let bridge: ConnectionBridge
    let logger: Logger
    let stamp: String
    let now: Date

    func invitation(tokenHash hash: Data) throws(PulseError) -> (repID: Int64, survey: String, period: String)? {
        let logger = self.logger
        return try bridge.call { c in
            try await c.query("""
                SELECT i.rep_id, r.survey_id, r.period FROM invitation i JOIN round r ON r.id = i.round_id WHERE i.token_hash = \(hash)
                """, logger: logger).collect().first?.decode((Int64, String, String).self)
        }
    }

    func round(survey: String, period: Period) throws(PulseError) -> (id: Int64, version: SurveyVersion)? {
        let logger = self.logger
        return try bridge.call { c -> (id: Int64, version: SurveyVersion)? in
            guard let row = try await c.query("""
                SELECT r.id, v.id, v.number, v.definition FROM round r JOIN survey_version v ON v.id = r.survey_version_id
                WHERE r.survey_id = \(survey) AND r.period = \(period.description)
                """, logger: logger).collect().first else { return nil }
            let (id, versionID, number, json) = try row.decode((Int64, Int64, Int, String).self)
            return (id, SurveyVersion(id: versionID, number: number, definition: try PostgresAnswerStore.decoded(json)))
        }
    }

    func openRound(_ survey: SurveyDefinition, period p: Period) throws(PulseError) -> Int64 {
        let (logger, stamp, now) = (self.logger, self.stamp, self.now)
        return try bridge.call { c in
            let versionID = try await PostgresAnswerStore.registerVersion(survey, now: now, on: c, logger: logger)
            return try await c.query("""
                INSERT INTO round (survey_id, survey_version_id, period, period_start, period_end, source, opened_at)
                VALUES (\(survey.id), \(versionID), \(p.description), \(p.start.description), \(p.end.description), 'imported', \(stamp))
                RETURNING id
                """, logger: logger).collect().first!.decode(Int64.self)
        }
    }

    func markAnswered(_ batch: [ImportedResponse]) throws(PulseError) -> [Bool] {
        let (logger, stamp) = (self.logger, self.stamp)
        return try bridge.call { c in
            var out: [Bool] = []
            out.reserveCapacity(batch.count)
            for p in batch {
                let roundID = p.roundID!
                // A new invitation (an imported round), or the rep's, answered now if it was not.
                let made = try await c.query("""
                    INSERT INTO invitation (round_id, rep_id, team, manager_email, region, created_at, answered)
                    VALUES (\(roundID), \(p.repID), \(p.keys.team), \(p.keys.managerEmail), \(p.keys.region), \(stamp), TRUE)
                    ON CONFLICT (round_id, rep_id) DO NOTHING RETURNING 1
                    """, logger: logger).collect()
                if !made.isEmpty { out.append(false); continue }
                let marked = try await c.query("""
                    UPDATE invitation SET answered = TRUE WHERE round_id = \(roundID) AND rep_id = \(p.repID) AND NOT answered RETURNING 1
                    """, logger: logger).collect()
                out.append(marked.isEmpty)
            }
            return out
        }
    }

    func storeIdentified(_ batch: [ImportedResponse]) throws(PulseError) -> [StoredOutcome] {
        let logger = self.logger
        return try bridge.call { c in
            var out: [StoredOutcome] = []
            out.reserveCapacity(batch.count)
            for p in batch {
                let (roundID, keys, morale, enps) = (p.roundID!, p.keys, p.morale, p.enps)
                if let id = try await c.query("SELECT id FROM response WHERE round_id = \(roundID) AND rep_id = \(p.repID) FOR UPDATE",
                                              logger: logger).collect().first?.decode(Int64.self) {
                    if try await PostgresAnswerStore.answers(responseID: id, definition: p.survey, on: c, logger: logger) == p.answers {
                        out.append(.unchanged)
                        continue
                    }
                    try await c.query("""
                        UPDATE response SET team = \(keys.team), manager_email = \(keys.managerEmail), region = \(keys.region),
                               submitted_at = COALESCE(\(p.submittedAt), submitted_at), morale = \(morale), enps = \(enps), source = 'import'
                        WHERE id = \(id)
                        """, logger: logger)
                    try await c.query("DELETE FROM answer WHERE response_id = \(id)", logger: logger)
                    try await PostgresAnswerStore.insertAnswers(p.answers, responseID: id, on: c, logger: logger)
                    out.append(.updated)
                } else {
                    let id = try await c.query("""
                        INSERT INTO response (round_id, rep_id, team, manager_email, region, submitted_at, morale, enps, source)
                        VALUES (\(roundID), \(p.repID), \(keys.team), \(keys.managerEmail), \(keys.region), \(p.submittedAt),
                                \(morale), \(enps), 'import') RETURNING id
                        """, logger: logger).collect().first!.decode(Int64.self)
                    try await PostgresAnswerStore.insertAnswers(p.answers, responseID: id, on: c, logger: logger)
                    out.append(.added)
                }
            }
            return out
        }
    }

    func promise(_ k: Int, roundID: Int64) throws(PulseError) -> Int {
        let logger = self.logger
        return try bridge.call { c in
            try await c.query("""
                UPDATE round SET min_group_size = GREATEST(COALESCE(min_group_size, 0), \(k)) WHERE id = \(roundID) RETURNING min_group_size
                """, logger: logger).collect().first?.decode(Int.self) ?? k
        }
    }

    func storeAnonymous(_ batch: [AnonymousWrite]) throws(PulseError) {
        let logger = self.logger
        try bridge.call { c in
            for w in batch {
                let p = w.response
                try await c.query("""
                    INSERT INTO response (id, round_id, rep_id, team, manager_email, region, submitted_at, morale, enps, source)
                    VALUES (\(w.id), \(p.roundID!), NULL, \(w.tags.team), \(w.tags.managerEmail), \(w.tags.region), NULL,
                            \(p.morale), \(p.enps), 'import')
                    """, logger: logger)
                try await PostgresAnswerStore.insertAnswers(p.answers, responseID: w.id, on: c, logger: logger)
            }
        }
    }
}
