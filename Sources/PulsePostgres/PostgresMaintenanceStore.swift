import Foundation
import PostgresNIO
import PulseCore

/// The PostgreSQL engine of `MaintenanceStore`: the same reads and removals as the SQLite
/// engine, each removal one transaction (rolled back when it only counts).
extension PostgresAnswerStore: MaintenanceStore {
    /// A round by survey and period, or the same usage error as on SQLite.
    static func round(survey: String, period: Period, on c: PostgresConnection, logger: Logger) async throws -> Round {
        if let round = try await c.query(PostgresQuery(unsafeSQL: "SELECT \(roundColumns) FROM round WHERE survey_id = $1 AND period = $2",
                                                       binds: binds(survey, period.description)), logger: logger).collect().first.map(Self.round) {
            return round
        }
        let periods = try await c.query("SELECT period FROM round WHERE survey_id = \(survey) ORDER BY period_start", logger: logger)
            .collect().map { try $0.decode(String.self) }
        if periods.isEmpty {
            let surveys = try await c.query("SELECT DISTINCT survey_id COLLATE \"C\" AS id FROM round ORDER BY id", logger: logger)
                .collect().map { try $0.decode(String.self) }
            throw Closest.unknown("survey with rounds", survey, known: surveys, listLabel: "the surveys with rounds are")
        }
        throw PulseError.usage("there is no round \(survey) \(period) (its rounds are: \(periods.suffix(12).joined(separator: ", ")))")
    }

    public func roundDetail(survey: String, period: Period) async throws(PulseError) -> RoundDetail {
        let logger = self.logger
        return try await run {
            try await client.withConnection { c in
                let round = try await Self.round(survey: survey, period: period, on: c, logger: logger)
                let definition = try await Self.definition(versionID: round.versionID, on: c, logger: logger)
                let anonymous = definition.anonymity == .anonymous
                let reps = try await c.query("""
                    SELECT rep.email, rep.name, i.team, i.sent_at, i.reminders, i.last_reminded_at, i.answered,
                           (SELECT s.submitted_at FROM response s WHERE s.round_id = i.round_id AND s.rep_id = i.rep_id)
                    FROM invitation i JOIN rep ON rep.id = i.rep_id WHERE i.round_id = \(round.id) ORDER BY rep.email COLLATE "C"
                    """, logger: logger).collect().map { row in
                    let (email, name, team, sent, reminders, reminded, answered, submitted)
                        = try row.decode((String, String?, String?, String?, Int, String?, Bool, String?).self)
                    return RoundRep(email: email, name: name, team: team, sentAt: sent, reminders: reminders, lastRemindedAt: reminded,
                                    answered: answered, answeredAt: anonymous ? nil : submitted)
                }
                return RoundDetail(round: round, anonymity: definition.anonymity, reps: reps)
            }
        }
    }

    public func exportResponses(survey: String, range: PeriodRange?) async throws(PulseError) -> ExportedResponses {
        let logger = self.logger
        return try await run {
            try await client.withConnection { c in
                let current = try await c.query("SELECT current_version_id, anonymity FROM survey WHERE id = \(survey)", logger: logger)
                    .collect().first.map { try $0.decode((Int64?, String).self) }
                var versionID = current?.0
                if versionID == nil {
                    versionID = try await c.query("SELECT MAX(id) FROM survey_version WHERE survey_id = \(survey)", logger: logger)
                        .collect().first?.decode(Int64?.self)
                }
                guard let versionID else { throw PulseError.usage("there are no answers to \(survey) (pulse rounds list shows the rounds)") }
                let definition = try await Self.definition(versionID: versionID, on: c, logger: logger)
                if definition.anonymity == .anonymous || current?.1 == "anonymous" {
                    throw PulseError.usage("\(survey) is anonymous: its answers are not linked to reps and are never shown one by one; "
                        + "pulse enps and pulse trends give its figures for groups of at least min_group_size")
                }
                let rows = try await c.query("""
                    SELECT s.id, rep.email, rep.name, s.team, r.period, s.submitted_at, r.survey_version_id
                    FROM response s JOIN round r ON r.id = s.round_id JOIN rep ON rep.id = s.rep_id
                    WHERE r.survey_id = \(survey) AND (\(range == nil) OR (r.period_start >= \(range?.start.description ?? "")
                      AND r.period_end <= \(range?.end.description ?? "")))
                    ORDER BY r.period_start, rep.email COLLATE "C"
                    """, logger: logger).collect()
                var definitions: [Int64: SurveyDefinition] = [:]
                var out: [ExportedResponse] = []
                for row in rows {
                    let (id, email, name, team, p, submitted, vid) = try row.decode((Int64, String, String?, String?, String, String?, Int64).self)
                    if definitions[vid] == nil { definitions[vid] = try await Self.definition(versionID: vid, on: c, logger: logger) }
                    guard let period = Period(p) else { continue }
                    out.append(ExportedResponse(email: email, name: name, team: team, period: period, submittedAt: submitted,
                                                answers: try await Self.answers(responseID: id, definition: definitions[vid]!, on: c, logger: logger)))
                }
                return ExportedResponses(definition: definition, responses: out)
            }
        }
    }

    /// Runs a deletion and counts the rows it took out (the statement ends `RETURNING 1`).
    static func removed(_ sql: PostgresQuery, on c: PostgresConnection, logger: Logger) async throws -> Int {
        var n = 0
        for try await _ in try await c.query(sql, logger: logger) { n += 1 }
        return n
    }

    /// Runs deletions in order, each counted under its name; a step without a name (the
    /// answers of responses counted next) is run and not counted.
    static func removal(_ steps: [(name: String?, sql: PostgresQuery)], applied: Bool,
                        on c: PostgresConnection, logger: Logger) async throws -> RemovalSummary {
        var summary = RemovalSummary(applied: applied)
        for step in steps {
            if let name = step.name {
                summary.parts.append((name, try await removed(step.sql, on: c, logger: logger)))
            } else {
                try await c.query(step.sql, logger: logger)
            }
        }
        return summary
    }

    public func deleteRound(survey: String, period: Period, apply: Bool) async throws(PulseError) -> RemovalSummary {
        let logger = self.logger
        return try await transaction(dryRun: !apply) { c in
            let round = try await Self.round(survey: survey, period: period, on: c, logger: logger)
            return try await Self.removal([
                ("queued or sent message", "DELETE FROM outbox WHERE invitation_id IN (SELECT id FROM invitation WHERE round_id = \(round.id)) RETURNING 1"),
                ("invitation", "DELETE FROM invitation WHERE round_id = \(round.id) RETURNING 1"),
                (nil, "DELETE FROM answer WHERE response_id IN (SELECT id FROM response WHERE round_id = \(round.id))"),
                ("response", "DELETE FROM response WHERE round_id = \(round.id) RETURNING 1"),
                ("round", "DELETE FROM round WHERE id = \(round.id) RETURNING 1"),
            ], applied: apply, on: c, logger: logger)
        }
    }

    public func deleteActivity(from: Day, to: Day, repEmail: String?, apply: Bool) async throws(PulseError) -> RemovalSummary {
        let logger = self.logger
        return try await transaction(dryRun: !apply) { c in
            var repID: Int64?
            if let repEmail {
                guard let id = try await c.query("SELECT id FROM rep WHERE email = \(repEmail)", logger: logger).collect().first?.decode(Int64.self) else {
                    throw PulseError.input(InputIssue(file: repEmail, "not in the roster"))
                }
                repID = id
            }
            let n = try await Self.removed("""
                DELETE FROM activity WHERE day >= \(from.description) AND day <= \(to.description)
                  AND (\(repID)::BIGINT IS NULL OR rep_id = \(repID)) RETURNING 1
                """, on: c, logger: logger)
            // The weeks holding the range, summed again from the days left in them.
            try await Self.refreshActivityWeeks(from: Period.week(of: from).start, to: Period.week(of: to).end,
                                                reps: repID.map { [$0] }, on: c, logger: logger)
            return RemovalSummary(parts: [("activity row", n)], applied: apply)
        }
    }

    public func eraseRep(email: String, apply: Bool) async throws(PulseError) -> RemovalSummary {
        let logger = self.logger
        return try await transaction(dryRun: !apply) { c in
            guard let id = try await c.query("SELECT id FROM rep WHERE email = \(email) FOR UPDATE", logger: logger).collect().first?.decode(Int64.self) else {
                throw PulseError.input(InputIssue(file: email, "not in the roster"))
            }
            return try await Self.removal([
                ("message", "DELETE FROM outbox WHERE invitation_id IN (SELECT id FROM invitation WHERE rep_id = \(id)) RETURNING 1"),
                ("invitation", "DELETE FROM invitation WHERE rep_id = \(id) RETURNING 1"),
                (nil, "DELETE FROM answer WHERE response_id IN (SELECT id FROM response WHERE rep_id = \(id))"),
                ("identified response", "DELETE FROM response WHERE rep_id = \(id) RETURNING 1"),
                ("action", "DELETE FROM action_item WHERE rep_id = \(id) RETURNING 1"),
                ("note", "DELETE FROM note WHERE rep_id = \(id) RETURNING 1"),
                ("activity row", "DELETE FROM activity WHERE rep_id = \(id) RETURNING 1"),
                (nil, "DELETE FROM activity_week WHERE rep_id = \(id)"),
                ("quota", "DELETE FROM quota WHERE rep_id = \(id) RETURNING 1"),
                ("opportunity", "DELETE FROM opportunity WHERE rep_id = \(id) RETURNING 1"),
                ("lead", "DELETE FROM lead WHERE rep_id = \(id) RETURNING 1"),
                ("rep", "DELETE FROM rep WHERE id = \(id) RETURNING 1"),
            ], applied: apply, on: c, logger: logger)
        }
    }
}
