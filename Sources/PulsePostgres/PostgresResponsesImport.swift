import Foundation
import PostgresNIO
import PulseCore

/// The PostgreSQL engine of `ResponsesImportStore`: the file is read and checked by the
/// rules every engine shares (`ResponsesImport`) on a thread of its own, and written on
/// the import's one transaction, which any problem rolls back. One responses import runs
/// at a time (a transaction-level advisory lock); the answer pages go on answering, and
/// a rep's invitation and response rows are locked in the order the pages lock them.
/// Each batch of rows is copied (`COPY ... FROM STDIN`) into a temporary table and
/// written from it in a few statements; answers are copied straight into their table.
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
                try await c.query("""
                    CREATE TEMPORARY TABLE response_in (ord INTEGER, round_id BIGINT, rep_id BIGINT, team TEXT, manager_email TEXT,
                                                        region TEXT, submitted_at TEXT, morale DOUBLE PRECISION, enps INTEGER) ON COMMIT DROP
                    """, logger: logger)
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

    /// Copies a batch into the import's temporary table `response_in`, each row with its
    /// place in the batch (`ord`).
    static func stage(_ batch: [ImportedResponse], on c: PostgresConnection, logger: Logger) async throws {
        try await c.query("TRUNCATE response_in", logger: logger)
        var text = CopyText(capacity: batch.count * 96)
        for (ord, p) in batch.enumerated() {
            text.int(Int64(ord)); text.separator(); text.int(p.roundID!); text.separator(); text.int(p.repID); text.separator()
            text.text(p.keys.team); text.separator(); text.text(p.keys.managerEmail); text.separator(); text.text(p.keys.region)
            text.separator(); text.text(p.submittedAt); text.separator(); text.real(p.morale); text.separator()
            text.int(p.enps.map(Int64.init)); text.endRow()
        }
        let buffer = text.buffer
        try await c.copyFrom(table: "response_in", columns: ["ord", "round_id", "rep_id", "team", "manager_email", "region", "submitted_at",
                                                             "morale", "enps"], logger: logger) { try await $0.write(buffer) }
    }

    /// Responses' answers, by `COPY`.
    static func copyAnswers(_ items: [(responseID: Int64, answers: [String: AnswerValue])], on c: PostgresConnection, logger: Logger) async throws {
        var text = CopyText(capacity: items.count * 64)
        var rows = 0
        for item in items {
            for (question, value) in item.answers.sorted(by: { $0.key < $1.key }) {
                text.int(item.responseID); text.separator(); text.text(question); text.separator()
                text.int(value.number.map(Int64.init)); text.separator(); text.text(value.text); text.endRow()
                rows += 1
            }
        }
        guard rows > 0 else { return }
        let buffer = text.buffer
        try await c.copyFrom(table: "answer", columns: ["response_id", "question_id", "number", "text"], logger: logger) { try await $0.write(buffer) }
    }

    func markAnswered(_ batch: [ImportedResponse]) throws(PulseError) -> [Bool] {
        let (logger, stamp) = (self.logger, self.stamp)
        return try bridge.call { c in
            try await Self.stage(batch, on: c, logger: logger)
            // The invitations there are, locked (as an answer page locks one) before they change.
            var before = [Bool](repeating: false, count: batch.count)
            for try await (ord, answered) in try await c.query("""
                SELECT n.ord, i.answered FROM invitation i JOIN response_in n ON i.round_id = n.round_id AND i.rep_id = n.rep_id FOR UPDATE OF i
                """, logger: logger).decode((Int, Bool).self) {
                before[ord] = answered
            }
            // The invitations an imported round lacks, in the file's order; then the rest answered.
            try await c.query("""
                INSERT INTO invitation (round_id, rep_id, team, manager_email, region, created_at, answered)
                SELECT n.round_id, n.rep_id, n.team, n.manager_email, n.region, \(stamp), TRUE FROM response_in n
                WHERE NOT EXISTS (SELECT 1 FROM invitation i WHERE i.round_id = n.round_id AND i.rep_id = n.rep_id) ORDER BY n.ord
                ON CONFLICT (round_id, rep_id) DO UPDATE SET answered = TRUE
                """, logger: logger)
            try await c.query("""
                UPDATE invitation i SET answered = TRUE FROM response_in n WHERE i.round_id = n.round_id AND i.rep_id = n.rep_id AND NOT i.answered
                """, logger: logger)
            return before
        }
    }

    func storeIdentified(_ batch: [ImportedResponse]) throws(PulseError) -> [StoredOutcome] {
        let logger = self.logger
        return try bridge.call { c in
            try await Self.stage(batch, on: c, logger: logger)
            var stored: [Int: Int64] = [:]
            for try await (ord, id) in try await c.query("""
                SELECT n.ord, r.id FROM response r JOIN response_in n ON r.round_id = n.round_id AND r.rep_id = n.rep_id FOR UPDATE OF r
                """, logger: logger).decode((Int, Int64).self) {
                stored[ord] = id
            }
            // What the stored responses hold, to leave alone those that hold the same.
            var held: [Int64: [(String, Int?, String?)]] = [:]
            if !stored.isEmpty {
                let ids = Array(stored.values)
                for try await (id, question, number, text) in try await c.query("""
                    SELECT response_id, question_id, number, text FROM answer WHERE response_id = ANY(\(ids))
                    """, logger: logger).decode((Int64, String, Int?, String?).self) {
                    held[id, default: []].append((question, number, text))
                }
            }
            var outcomes: [StoredOutcome] = []
            var changed: [Int64] = []
            var answers: [(responseID: Int64, answers: [String: AnswerValue])] = []
            for (ord, p) in batch.enumerated() {
                guard let id = stored[ord] else { outcomes.append(.added); continue }
                var was: [String: AnswerValue] = [:]
                for (question, n, t) in held[id] ?? [] {
                    was[question] = n.map(AnswerValue.number) ?? (p.survey.question(question)?.type == .choice ? .choice(t ?? "") : .text(t ?? ""))
                }
                if was == p.answers {
                    outcomes.append(.unchanged)
                } else {
                    outcomes.append(.updated)
                    changed.append(id)
                    answers.append((id, p.answers))
                }
            }
            if !changed.isEmpty {
                try await c.query("""
                    UPDATE response r SET team = n.team, manager_email = n.manager_email, region = n.region,
                           submitted_at = COALESCE(n.submitted_at, r.submitted_at), morale = n.morale, enps = n.enps, source = 'import'
                    FROM response_in n WHERE r.id = ANY(\(changed)) AND r.round_id = n.round_id AND r.rep_id = n.rep_id
                    """, logger: logger)
                try await c.query("DELETE FROM answer WHERE response_id = ANY(\(changed))", logger: logger)
            }
            if stored.count < batch.count {
                var made: [String: Int64] = [:]
                for try await (id, round, rep) in try await c.query("""
                    INSERT INTO response (round_id, rep_id, team, manager_email, region, submitted_at, morale, enps, source)
                    SELECT n.round_id, n.rep_id, n.team, n.manager_email, n.region, n.submitted_at, n.morale, n.enps, 'import'
                    FROM response_in n
                    WHERE NOT EXISTS (SELECT 1 FROM response r WHERE r.round_id = n.round_id AND r.rep_id = n.rep_id) ORDER BY n.ord
                    RETURNING id, round_id, rep_id
                    """, logger: logger).decode((Int64, Int64, Int64).self) {
                    made["\(round)|\(rep)"] = id
                }
                for (ord, p) in batch.enumerated() where stored[ord] == nil {
                    guard let id = made["\(p.roundID!)|\(p.repID)"] else {
                        throw PulseError.runtime("the import lost the response of \(p.email) on line \(p.line)")
                    }
                    answers.append((id, p.answers))
                }
            }
            try await Self.copyAnswers(answers, on: c, logger: logger)
            return outcomes
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
            var text = CopyText(capacity: batch.count * 64)
            for w in batch {
                text.int(w.id); text.separator(); text.int(w.response.roundID!); text.separator(); text.text(w.tags.team); text.separator()
                text.text(w.tags.managerEmail); text.separator(); text.text(w.tags.region); text.separator(); text.real(w.response.morale)
                text.separator(); text.int(w.response.enps.map(Int64.init)); text.separator(); text.text("import"); text.endRow()
            }
            let buffer = text.buffer
            // No rep and no time: the columns are left to their NULL.
            try await c.copyFrom(table: "response", columns: ["id", "round_id", "team", "manager_email", "region", "morale", "enps", "source"],
                                 logger: logger) { try await $0.write(buffer) }
            try await PostgresResponsesImport.copyAnswers(batch.map { ($0.id, $0.response.answers) }, on: c, logger: logger)
        }
    }
}
