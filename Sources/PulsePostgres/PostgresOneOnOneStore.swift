import Foundation
import PostgresNIO
import PulseCore

/// The PostgreSQL engine of `OneOnOneStore`: the same reads as the SQLite engine, so that a
/// prep note is the same on both for the same data.
extension PostgresAnswerStore: OneOnOneStore {
    public func addNote(rep: Rep, text: String, actions: [String], now: Date) async throws(PulseError) -> (note: Int64, actions: [Int64]) {
        guard let repID = rep.id else { throw .runtime("the rep has no id") }
        let logger = self.logger
        let stamp = Timestamp.string(now)
        let ids = try await run {
            try await client.withTransaction(logger: logger) { c -> [Int64] in
                guard let note = try await c.query("INSERT INTO note (rep_id, text, created_at) VALUES (\(repID), \(text), \(stamp)) RETURNING id",
                                                   logger: logger).collect().first?.decode(Int64.self) else {
                    throw PulseError.runtime("PostgreSQL kept no note")
                }
                var ids = [note]
                for a in actions {
                    guard let id = try await c.query("""
                        INSERT INTO action_item (rep_id, note_id, text, created_at) VALUES (\(repID), \(note), \(a), \(stamp)) RETURNING id
                        """, logger: logger).collect().first?.decode(Int64.self) else { throw PulseError.runtime("PostgreSQL kept no action") }
                    ids.append(id)
                }
                return ids
            }
        }
        return (ids[0], Array(ids.dropFirst()))
    }

    public func notes(rep: Rep) async throws(PulseError) -> [OneOnOneNote] {
        let logger = self.logger
        return try await run {
            try await client.withConnection { c in
                let actions = try await Self.actions(repID: rep.id, on: c, logger: logger)
                return try await c.query("SELECT id, text, created_at FROM note WHERE rep_id = \(rep.id) ORDER BY id DESC",
                                         logger: logger).collect().map { row in
                    let (id, text, created) = try row.decode((Int64, String, String).self)
                    return OneOnOneNote(id: id, text: text, createdAt: created, actions: actions.filter { $0.noteID == id })
                }
            }
        }
    }

    public func openActions(repID: Int64?, asOf day: Day) async throws(PulseError) -> [ActionItem] {
        let end = "\(day + 1)T00:00:00Z"
        let logger = self.logger
        return try await run {
            try await client.withConnection { c in
                try await Self.actions(repID: repID, openOn: end, on: c, logger: logger)
            }
        }
    }

    public func completeAction(id: Int64, now: Date) async throws(PulseError) -> ActionItem? {
        let logger = self.logger
        return try await run {
            try await client.withTransaction(logger: logger) { c -> ActionItem? in
                _ = try await c.query("SELECT id FROM action_item WHERE id = \(id) FOR UPDATE", logger: logger).collect()
                guard let item = try await Self.actions(id: id, on: c, logger: logger).first else { return nil }
                if item.doneAt == nil {
                    try await c.query("UPDATE action_item SET done_at = \(Timestamp.string(now)) WHERE id = \(id)", logger: logger)
                }
                return item
            }
        }
    }

    /// Action items with their rep's email, oldest first: of one item, of one rep (or
    /// every rep), or those open at `openOn`.
    static func actions(id: Int64? = nil, repID: Int64? = nil, openOn end: String? = nil, on c: PostgresConnection,
                        logger: Logger) async throws -> [ActionItem] {
        try await c.query("""
            SELECT a.id, a.note_id, a.text, a.created_at, a.done_at, r.email FROM action_item a JOIN rep r ON r.id = a.rep_id
            WHERE (\(id)::BIGINT IS NULL OR a.id = \(id)) AND (\(repID)::BIGINT IS NULL OR a.rep_id = \(repID))
              AND (\(end)::TEXT IS NULL OR (a.created_at < \(end) AND (a.done_at IS NULL OR a.done_at >= \(end))))
            ORDER BY a.id
            """, logger: logger).collect().map { row in
            let (id, note, text, created, done, email) = try row.decode((Int64, Int64?, String, String, String?, String).self)
            return ActionItem(id: id, noteID: note, email: email, text: text, createdAt: created, doneAt: done)
        }
    }

    public func prepHistory(rep: Rep, asOf: Day, weeks: Int, teamReps: [Int64]) async throws(PulseError) -> PrepHistory {
        guard let repID = rep.id else { throw .runtime("the rep has no id") }
        let asOfWeek = Period.week(of: asOf)
        let firstDay = asOfWeek.start - 7 * (weeks - 1)
        let logger = self.logger
        var history = try await run {
            try await client.withConnection { c -> PrepHistory in
                var history = PrepHistory(rep: PrepRep(rep), asOf: asOf)
                history.deactivatedAt = try await c.query("SELECT deactivated_at FROM rep WHERE id = \(repID)", logger: logger)
                    .collect().first?.decode(String?.self)
                // Answers of the rep's identified responses (anonymous ones have no rep).
                var versions: [Int64: SurveyDefinition] = [:]
                var responses: [Int64: PrepResponse] = [:]
                var order: [Int64] = []
                let rows = try await c.query("""
                    SELECT r.period, r.survey_id, r.survey_version_id, s.id, s.morale, s.enps, a.question_id, a.number, a.text
                    FROM response s JOIN round r ON r.id = s.round_id LEFT JOIN answer a ON a.response_id = s.id
                    WHERE s.rep_id = \(repID) AND r.period_start <= \(asOf.description)
                    ORDER BY r.period_start, s.id, a.question_id COLLATE "C"
                    """, logger: logger).collect()
                for row in rows {
                    let (p, survey, versionID, id, morale, enps, question, number, text)
                        = try row.decode((String, String, Int64, Int64, Double?, Int?, String?, Int?, String?).self)
                    guard let period = Period(p) else { continue }
                    if responses[id] == nil {
                        if versions[versionID] == nil { versions[versionID] = try await Self.definition(versionID: versionID, on: c, logger: logger) }
                        responses[id] = PrepResponse(survey: survey, period: period, morale: morale, enps: enps, definition: versions[versionID]!)
                        order.append(id)
                    }
                    guard let question else { continue }
                    if let number { responses[id]!.numbers[question] = number }
                    if let text, !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { responses[id]!.texts[question] = text }
                }
                history.responses = order.map { responses[$0]! }
                history.firstAnswer = try await c.query("""
                    SELECT r.period FROM response s JOIN round r ON r.id = s.round_id WHERE s.rep_id = \(repID)
                    ORDER BY r.period_start LIMIT 1
                    """, logger: logger).collect().first.flatMap { Period(try $0.decode(String.self)) }
                // Rounds of identified surveys the rep was sent, newest first: for non-response.
                history.invitations = try await c.query("""
                    SELECT r.period, r.survey_id, i.answered FROM invitation i JOIN round r ON r.id = i.round_id
                    JOIN survey v ON v.id = r.survey_id
                    WHERE i.rep_id = \(repID) AND i.sent_at IS NOT NULL AND r.period_start <= \(asOf.description) AND v.anonymity = 'identified'
                    ORDER BY r.period_start DESC LIMIT 52
                    """, logger: logger).collect().compactMap { row in
                    let (p, survey, answered) = try row.decode((String, String, Bool).self)
                    return Period(p).map { PrepInvitation(period: $0, survey: survey, answered: answered) }
                }
                history.hasActivity = try await c.query("SELECT EXISTS (SELECT 1 FROM activity WHERE rep_id = \(repID))", logger: logger)
                    .collect().first?.decode(Bool.self) ?? false
                return history
            }
        }
        history.weeklyKPIs = try await weeklyKPIs(from: firstDay, to: asOfWeek.end, reps: [repID])
        history.teamWeeklyKPIs = try await weeklyKPIs(from: firstDay, to: asOfWeek.end, reps: teamReps)
        // The quota period holding the as-of day, and revenue won in it up to that day.
        if let quota = try await quotas(from: asOf, to: asOf).first(where: { $0.repID == repID }) {
            history.quota = quota
            history.revenueInQuotaPeriodCents = try await run {
                try await client.query("""
                    SELECT SUM(revenue_won_cents)::BIGINT FROM activity WHERE rep_id = \(repID)
                      AND day BETWEEN \(quota.period.start.description) AND \(asOf.description)
                    """, logger: logger).collect().first?.decode(Int?.self)
            }
        }
        return history
    }
}
