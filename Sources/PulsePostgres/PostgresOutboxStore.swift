import Foundation
import PostgresNIO
import PulseCore

/// The PostgreSQL engine of `OutboxStore` and `RoundStore`, for any number of workers at
/// once: the round's row is locked for the transaction that invites its reps (and each
/// invitation relies on the unique `(round_id, rep_id)`, `ON CONFLICT DO NOTHING`), and a
/// worker claims messages with `FOR UPDATE SKIP LOCKED` under a lease that expires.
extension PostgresAnswerStore: OutboxStore, RoundStore {
    /// Runs a body in one transaction on one connection: committed, or rolled back for a
    /// dry run and on any error.
    func transaction<T: Sendable>(dryRun: Bool, _ body: @Sendable (PostgresConnection) async throws -> T) async throws(PulseError) -> T {
        let logger = self.logger
        return try await run {
            try await client.withConnection { c in try await c.inTransaction(keep: !dryRun, logger: logger, body) }
        }
    }

    static let roundColumns = "id, survey_id, survey_version_id, period, source, opened_at, closes_at, closed_at, min_group_size"

    static func round(_ row: PostgresRow) throws -> Round {
        let r = row.makeRandomAccess()
        let p = try r["period"].decode(String.self)
        guard let period = Period(p) else { throw PulseError.runtime("the database holds a round with a bad period \"\(p)\"") }
        return Round(id: try r["id"].decode(Int64.self), surveyID: try r["survey_id"].decode(String.self),
                     versionID: try r["survey_version_id"].decode(Int64.self), period: period, source: try r["source"].decode(String.self),
                     openedAt: try r["opened_at"].decode(String.self), closesAt: try r["closes_at"].decode(String?.self),
                     closedAt: try r["closed_at"].decode(String?.self), minGroupSize: try r["min_group_size"].decode(Int?.self))
    }

    static func lockedRound(survey: String, period: Period, on c: PostgresConnection, logger: Logger) async throws -> Round? {
        try await c.query(PostgresQuery(unsafeSQL: "SELECT \(roundColumns) FROM round WHERE survey_id = $1 AND period = $2 FOR UPDATE",
                                        binds: binds(survey, period.description)), logger: logger).collect().first.map(Self.round)
    }

    static func binds(_ values: (any PostgresDynamicTypeEncodable)?...) -> PostgresBindings {
        var b = PostgresBindings()
        for v in values {
            if let v { b.append(v) } else { b.appendNull() }
        }
        return b
    }

    /// The survey's version for this definition, registered if new. The survey's row is
    /// written first, so that two registrations of one survey wait for each other.
    static func registerVersion(_ definition: SurveyDefinition, now: Date, on c: PostgresConnection, logger: Logger) async throws -> Int64 {
        let json = definition.canonicalJSON(), title = definition.title.text(for: "en")
        try await c.query("""
            INSERT INTO survey (id, title, anonymity) VALUES (\(definition.id), \(title), \(definition.anonymity.rawValue))
            ON CONFLICT (id) DO UPDATE SET title = excluded.title, anonymity = excluded.anonymity
            """, logger: logger)
        let versionID: Int64
        if let existing = try await c.query("SELECT id FROM survey_version WHERE survey_id = \(definition.id) AND definition = \(json)",
                                            logger: logger).collect().first?.decode(Int64.self) {
            versionID = existing
        } else {
            versionID = try await c.query("""
                INSERT INTO survey_version (survey_id, number, definition, registered_at)
                SELECT \(definition.id), COALESCE(MAX(number), 0) + 1, \(json), \(Timestamp.string(now)) FROM survey_version
                WHERE survey_id = \(definition.id) RETURNING id
                """, logger: logger).collect().first!.decode(Int64.self)
        }
        try await c.query("UPDATE survey SET current_version_id = \(versionID) WHERE id = \(definition.id)", logger: logger)
        return versionID
    }

    static func promise(_ k: Int?, roundID: Int64, on c: PostgresConnection, logger: Logger) async throws {
        guard let k else { return }
        try await c.query("UPDATE round SET min_group_size = GREATEST(COALESCE(min_group_size, 0), \(k)) WHERE id = \(roundID)", logger: logger)
    }

    static func enqueue(_ m: RenderedMessage, kind: MessageDraft.Kind, invitationID: Int64, stamp: String,
                        on c: PostgresConnection, logger: Logger) async throws {
        try await c.query("""
            INSERT INTO outbox (kind, invitation_id, message_id, sender, recipient, subject, body, next_attempt_at, created_at)
            VALUES (\(kind.rawValue), \(invitationID), \(m.messageID), \(m.sender), \(m.recipient), \(m.subject), \(m.data), \(stamp), \(stamp))
            """, logger: logger)
    }

    // MARK: - Invitations and reminders

    public func queueInvitations(_ request: InvitationRequest, key: TokenKey, now: Date, dryRun: Bool,
                                 render: @escaping MessageRenderer) async throws(PulseError) -> QueueSummary {
        let logger = self.logger
        return try await transaction(dryRun: dryRun) { c in
            var summary = QueueSummary()
            let survey = request.survey, period = request.period, stamp = Timestamp.string(now)
            var round = try await Self.lockedRound(survey: survey.id, period: period, on: c, logger: logger)
            if let r = round {
                if let refusal = r.refusesInvitations(now: now) { throw refusal }
            } else {
                if let only = request.only {
                    let active = try await c.query("SELECT id FROM rep WHERE active AND (\(request.team)::TEXT IS NULL OR team = \(request.team))",
                                                   logger: logger).collect().map { try $0.decode(Int64.self) }
                    // Nobody is due yet: the round opens with its first invitation.
                    if !active.contains(where: only.contains) { return summary }
                }
                let versionID = try await Self.registerVersion(survey, now: now, on: c, logger: logger)
                // Another worker may be opening the same round: the unique (survey, period)
                // makes this wait for it, and then the round is its.
                let created = try await c.query("""
                    INSERT INTO round (survey_id, survey_version_id, period, period_start, period_end, source, opened_at, closes_at)
                    VALUES (\(survey.id), \(versionID), \(period.description), \(period.start.description), \(period.end.description),
                            'sent', \(stamp), \(request.closesAt.map(Timestamp.string)))
                    ON CONFLICT (survey_id, period) DO NOTHING RETURNING id
                    """, logger: logger).collect()
                round = try await Self.lockedRound(survey: survey.id, period: period, on: c, logger: logger)
                summary.roundCreated = !created.isEmpty
                if created.isEmpty, let r = round, r.closedAt != nil || r.source == "imported" {
                    throw PulseError.usage("the round \(survey.id) \(period) was opened elsewhere and takes no invitations")
                }
            }
            guard let r = round else { throw PulseError.runtime("the round \(survey.id) \(period) could not be opened") }
            try await Self.promise(request.minGroupSize, roundID: r.id, on: c, logger: logger)
            let definition = try await Self.definition(versionID: r.versionID, on: c, logger: logger)
            let roundCloses = r.closesAt.flatMap(Timestamp.parse)
            let closes = request.openDays.map { now.addingTimeInterval(Double($0) * 86_400) } ?? roundCloses
            let closesStamp = closes.map(Timestamp.string)
            // Each active rep with whether they are invited already (the round's row is
            // locked: no other worker invites into it meanwhile); only those this call
            // invites are decoded, so a round sent in chunks reads each rep once.
            let names = Self.repColumns.split(separator: ", ")
            let columns = names.map { "p.\($0)" }.joined(separator: ", ")
            let rows = try await c.query(PostgresQuery(unsafeSQL: """
                SELECT \(columns), i.rep_id IS NOT NULL AS already FROM rep p
                LEFT JOIN invitation i ON i.round_id = $1 AND i.rep_id = p.id
                WHERE p.active AND ($2::TEXT IS NULL OR p.team = $2) ORDER BY p.email COLLATE "C"
                """, binds: Self.binds(r.id, request.team)), logger: logger).collect()
            if let team = request.team, rows.isEmpty {
                let teams = try await c.query("SELECT DISTINCT team FROM rep WHERE team IS NOT NULL AND active", logger: logger)
                    .collect().map { try $0.decode(String.self) }
                throw Closest.unknown("team with active reps", team, known: Set(teams).sorted(), listLabel: "the teams are")
            }
            var reps: [Rep] = []
            for row in rows {
                let cells = row.makeRandomAccess()
                let id = try cells[0].decode(Int64.self), already = try cells[names.count].decode(Bool.self)
                if let only = request.only, !only.contains(id) { continue }
                if already { summary.skipped += 1; continue }
                if let limit = request.limit, reps.count >= limit { summary.remaining += 1; continue }
                reps.append(try Self.rep(row))
            }
            for rep in reps {
                guard let repID = rep.id else { continue }
                guard let invitationID = try await c.query("""
                    INSERT INTO invitation (round_id, rep_id, team, manager_email, region, created_at, closes_at)
                    VALUES (\(r.id), \(repID), \(rep.team), \(rep.managerEmail), \(rep.region), \(stamp), \(closesStamp))
                    ON CONFLICT (round_id, rep_id) DO NOTHING RETURNING id
                    """, logger: logger).collect().first?.decode(Int64.self) else {
                    summary.skipped += 1
                    continue
                }
                let token = key.token(invitationID: invitationID, roundID: r.id)
                try await c.query("UPDATE invitation SET token_hash = \(TokenKey.hash(token)) WHERE id = \(invitationID)", logger: logger)
                let message = try render(MessageDraft(kind: .invitation, invitationID: invitationID, rep: rep, token: token,
                                                      survey: definition, period: r.period, closesAt: closes, reminderNumber: 0))
                try await Self.enqueue(message, kind: .invitation, invitationID: invitationID, stamp: stamp, on: c, logger: logger)
                summary.queued.append((rep.email, message.subject))
            }
            if let closesStamp, !summary.queued.isEmpty, (r.closesAt ?? "") < closesStamp {
                try await c.query("UPDATE round SET closes_at = \(closesStamp) WHERE id = \(r.id)", logger: logger)
            }
            return summary
        }
    }

    /// The SQL of "an anonymous answer is held for this invitation by a live lease".
    static func held(now stamp: String) -> String {
        "(i.held_by IS NOT NULL AND EXISTS (SELECT 1 FROM answer_hold_lease l WHERE l.id = i.held_by AND l.expires_at > '\(stamp)'))"
    }

    public func queueReminders(_ request: ReminderRequest, key: TokenKey, now: Date, dryRun: Bool,
                               render: @escaping MessageRenderer) async throws(PulseError) -> QueueSummary {
        let logger = self.logger
        return try await transaction(dryRun: dryRun) { c in
            let survey = request.survey, period = request.period
            guard let r = try await Self.lockedRound(survey: survey, period: period, on: c, logger: logger) else {
                throw PulseError.usage("there is no round \(survey) \(period) (pulse rounds list shows them)")
            }
            if let refusal = r.refusesReminders(now: now) { throw refusal }
            let stamp = Timestamp.string(now)
            try await Self.promise(request.minGroupSize, roundID: r.id, on: c, logger: logger)
            let definition = try await Self.definition(versionID: r.versionID, on: c, logger: logger)
            let cutoff = Timestamp.string(now.addingTimeInterval(-Double(request.minDaysApart) * 86_400))
            let lastMoment = Timestamp.string(now.addingTimeInterval(ReminderPlan.lastReminderBeforeClose))
            var summary = QueueSummary()
            let candidates = try await c.query(PostgresQuery(unsafeSQL: """
                SELECT i.id, i.reminders, COALESCE(i.closes_at, r.closes_at) AS closes, \(Self.repColumns.split(separator: ",")
                    .map { "rep." + $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", "))
                FROM invitation i JOIN rep ON rep.id = i.rep_id JOIN round r ON r.id = i.round_id
                WHERE i.round_id = $1 AND NOT i.answered AND NOT \(Self.held(now: stamp)) AND i.sent_at IS NOT NULL AND rep.active
                  AND i.reminders < $2 AND COALESCE(i.last_reminded_at, i.sent_at) <= $3
                  AND (COALESCE(i.closes_at, r.closes_at) IS NULL OR COALESCE(i.closes_at, r.closes_at) > $4)
                ORDER BY rep.email COLLATE "C" FOR UPDATE OF i
                """, binds: Self.binds(r.id, request.max, cutoff, lastMoment)), logger: logger).collect()
            for row in candidates {
                let a = row.makeRandomAccess()
                let invitationID = try a["id"].decode(Int64.self), number = try a["reminders"].decode(Int.self) + 1
                let closes = try a["closes"].decode(String?.self).flatMap(Timestamp.parse)
                let rep = try Self.rep(row)
                let token = key.token(invitationID: invitationID, roundID: r.id)
                let message = try render(MessageDraft(kind: .reminder, invitationID: invitationID, rep: rep, token: token,
                                                      survey: definition, period: r.period, closesAt: closes, reminderNumber: number))
                try await c.query("UPDATE invitation SET reminders = reminders + 1, last_reminded_at = \(stamp) WHERE id = \(invitationID)",
                                  logger: logger)
                try await Self.enqueue(message, kind: .reminder, invitationID: invitationID, stamp: stamp, on: c, logger: logger)
                summary.queued.append((rep.email, message.subject))
            }
            return summary
        }
    }

    public func reminderPlan(_ request: ReminderRequest, now: Date) async throws(PulseError) -> [ReminderPlan] {
        let logger = self.logger
        return try await run {
            try await client.withConnection { c in
                guard let r = try await c.query(PostgresQuery(unsafeSQL: "SELECT \(Self.roundColumns) FROM round WHERE survey_id = $1 AND period = $2",
                                                              binds: Self.binds(request.survey, request.period.description)),
                                                logger: logger).collect().first.map(Self.round) else {
                    throw PulseError.usage("there is no round \(request.survey) \(request.period) (pulse rounds list shows them)")
                }
                let rows = try await c.query(PostgresQuery(unsafeSQL: """
                    SELECT rep.email, rep.active, i.sent_at, i.reminders, i.last_reminded_at, COALESCE(i.closes_at, r.closes_at) AS closes
                    FROM invitation i JOIN rep ON rep.id = i.rep_id JOIN round r ON r.id = i.round_id
                    WHERE i.round_id = $1 AND NOT i.answered AND NOT \(Self.held(now: Timestamp.string(now))) ORDER BY rep.email COLLATE "C"
                    """, binds: Self.binds(r.id)), logger: logger).collect()
                return try rows.map { row in
                    let a = row.makeRandomAccess()
                    return ReminderPlan.decide(
                        email: try a["email"].decode(String.self), sent: try a["reminders"].decode(Int.self),
                        lastContact: (try a["last_reminded_at"].decode(String?.self) ?? a["sent_at"].decode(String?.self)).flatMap(Timestamp.parse),
                        closes: try a["closes"].decode(String?.self).flatMap(Timestamp.parse), roundClosed: r.closedAt != nil,
                        active: try a["active"].decode(Bool.self), max: request.max, minDaysApart: request.minDaysApart, now: now)
                }
            }
        }
    }

    // MARK: - The outbox

    /// Claims due messages, and those whose claim's lease ran out, skipping the rows
    /// another worker holds locked: two workers never take the same message. The lease is
    /// a time, not a process: a worker that dies leaves its messages due again when it ends.
    public func claimDueMessages(limit: Int, now: Date, lease: TimeInterval) async throws(PulseError) -> [QueuedMessage] {
        let stamp = Timestamp.string(now), until = Timestamp.string(now.addingTimeInterval(lease))
        let worker = database.workerID
        let logger = self.logger
        return try await transaction(dryRun: false) { c in
            let rows = try await c.query("""
                WITH due AS (
                    SELECT id FROM outbox WHERE status IN ('queued', 'sending') AND next_attempt_at <= \(stamp)
                    ORDER BY id LIMIT \(limit) FOR UPDATE SKIP LOCKED)
                UPDATE outbox o SET status = 'sending', attempts = o.attempts + 1, claimed_by = \(worker), next_attempt_at = \(until)
                FROM due WHERE o.id = due.id
                RETURNING o.id, o.message_id, o.sender, o.recipient, o.body, o.attempts
                """, logger: logger).collect()
            return try rows.map { row in
                let a = row.makeRandomAccess()
                return QueuedMessage(id: try a["id"].decode(Int64.self), messageID: try a["message_id"].decode(String.self),
                                     sender: try a["sender"].decode(String.self), recipient: try a["recipient"].decode(String.self),
                                     data: try a["body"].decode(Data?.self) ?? Data(), attempts: try a["attempts"].decode(Int.self))
            }.sorted { $0.id < $1.id }
        }
    }

    /// Records what became of claimed messages in one transaction (a group commit).
    public func recordOutcomes(_ outcomes: [MessageOutcome]) async throws(PulseError) {
        guard !outcomes.isEmpty else { return }
        let logger = self.logger
        // The sent ones (nearly all of them) in one statement; the rest one by one.
        var sentIDs: [Int64] = [], replies: [String] = [], stamps: [String] = []
        for case let .sent(id, reply, at) in outcomes {
            sentIDs.append(id); replies.append(URLUserInfo.redacted(reply)); stamps.append(Timestamp.string(at))
        }
        _ = try await transaction(dryRun: false) { [sentIDs, replies, stamps] c in
            if !sentIDs.isEmpty {
                try await c.query("""
                    WITH s AS (SELECT * FROM unnest(\(sentIDs)::BIGINT[], \(replies)::TEXT[], \(stamps)::TEXT[]) AS t(id, reply, at)),
                         o AS (UPDATE outbox SET status = 'sent', body = NULL, server_reply = s.reply, sent_at = s.at, last_error = NULL,
                                      claimed_by = NULL
                               FROM s WHERE outbox.id = s.id RETURNING outbox.invitation_id, outbox.kind, s.at)
                    UPDATE invitation SET sent_at = COALESCE(invitation.sent_at, o.at)
                    FROM o WHERE invitation.id = o.invitation_id AND o.kind = 'invitation'
                    """, logger: logger)
            }
            for outcome in outcomes {
                switch outcome {
                case .sent:
                    continue
                case let .retry(id, error, at, countAttempt):
                    let text = URLUserInfo.redacted(error), stamp = Timestamp.string(at), back = countAttempt ? 0 : 1
                    try await c.query("""
                        UPDATE outbox SET status = 'queued', last_error = \(text), next_attempt_at = \(stamp), claimed_by = NULL,
                               attempts = attempts - \(back) WHERE id = \(id)
                        """, logger: logger)
                case let .failed(id, error):
                    let text = URLUserInfo.redacted(error)
                    try await c.query("UPDATE outbox SET status = 'failed', last_error = \(text), claimed_by = NULL WHERE id = \(id)",
                                      logger: logger)
                }
            }
            return true
        }
    }

    public func outbox(status: String?, limit: Int) async throws(PulseError) -> [OutboxEntry] {
        let logger = self.logger
        return try await run {
            try await client.query(PostgresQuery(unsafeSQL: """
                SELECT id, kind, recipient, subject, status, attempts, next_attempt_at, last_error, server_reply, sent_at, message_id
                FROM outbox WHERE $1::TEXT IS NULL OR status = $1 ORDER BY id DESC LIMIT $2
                """, binds: Self.binds(status, limit)), logger: logger).collect().map { row in
                let a = row.makeRandomAccess()
                return OutboxEntry(id: try a["id"].decode(Int64.self), kind: try a["kind"].decode(String.self),
                                   recipient: try a["recipient"].decode(String.self), subject: try a["subject"].decode(String.self),
                                   status: try a["status"].decode(String.self), attempts: try a["attempts"].decode(Int.self),
                                   nextAttemptAt: try a["next_attempt_at"].decode(String.self), lastError: try a["last_error"].decode(String?.self),
                                   serverReply: try a["server_reply"].decode(String?.self), sentAt: try a["sent_at"].decode(String?.self),
                                   messageID: try a["message_id"].decode(String.self))
            }
        }
    }

    public func outboxCounts() async throws(PulseError) -> [String: Int] {
        let logger = self.logger
        return try await run {
            var out: [String: Int] = [:]
            for try await (status, n) in try await client.query("SELECT status, COUNT(*)::BIGINT FROM outbox GROUP BY status", logger: logger)
                .decode((String, Int).self) {
                out[status] = n
            }
            return out
        }
    }

    public func nextDueTime() async throws(PulseError) -> Date? {
        let logger = self.logger
        return try await run {
            try await client.query("SELECT MIN(next_attempt_at) FROM outbox WHERE status IN ('queued', 'sending')", logger: logger)
                .collect().first?.decode(String?.self).flatMap(Timestamp.parse)
        }
    }

    // MARK: - Rounds

    public func rounds(survey: String?) async throws(PulseError) -> [Round] {
        let logger = self.logger
        return try await run {
            let sql = survey == nil
                ? "SELECT \(Self.roundColumns) FROM round ORDER BY period_start, survey_id COLLATE \"C\""
                : "SELECT \(Self.roundColumns) FROM round WHERE survey_id = $1 ORDER BY period_start, id"
            return try await client.query(PostgresQuery(unsafeSQL: sql, binds: survey.map { Self.binds($0) } ?? PostgresBindings()),
                                          logger: logger).collect().map(Self.round)
        }
    }

    public func roundSummaries(survey: String?) async throws(PulseError) -> [RoundSummary] {
        let logger = self.logger
        return try await run {
            try await client.query(PostgresQuery(unsafeSQL: """
                SELECT \(Self.roundColumns.split(separator: ",").map { "r." + $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", ")),
                       v.number AS version_number,
                       (SELECT COUNT(*) FROM invitation i WHERE i.round_id = r.id AND i.sent_at IS NOT NULL)::BIGINT AS invited,
                       (SELECT COUNT(*) FROM invitation i WHERE i.round_id = r.id AND i.answered)::BIGINT AS answered,
                       (SELECT COUNT(*) FROM response s WHERE s.round_id = r.id)::BIGINT AS responses
                FROM round r JOIN survey_version v ON v.id = r.survey_version_id
                WHERE $1::TEXT IS NULL OR r.survey_id = $1
                ORDER BY r.period_start, r.survey_id COLLATE "C"
                """, binds: Self.binds(survey)), logger: logger).collect().map { row in
                let a = row.makeRandomAccess()
                return RoundSummary(round: try Self.round(row), version: try a["version_number"].decode(Int.self),
                                    invited: try a["invited"].decode(Int.self), answered: try a["answered"].decode(Int.self),
                                    responses: try a["responses"].decode(Int.self))
            }
        }
    }

    public func closeRound(survey: String, period: Period, now: Date) async throws(PulseError) -> Bool {
        let logger = self.logger, stamp = Timestamp.string(now)
        return try await transaction(dryRun: false) { c in
            guard let r = try await Self.lockedRound(survey: survey, period: period, on: c, logger: logger) else {
                throw PulseError.usage("there is no round \(survey) \(period) (pulse rounds list shows them)")
            }
            guard r.closedAt == nil else { return false }
            try await c.query("UPDATE round SET closed_at = \(stamp) WHERE id = \(r.id)", logger: logger)
            return true
        }
    }

    public func closeDueRounds(now: Date, dryRun: Bool) async throws(PulseError) -> [String] {
        let logger = self.logger, stamp = Timestamp.string(now)
        return try await transaction(dryRun: dryRun) { c in
            try await c.query("""
                UPDATE round SET closed_at = \(stamp) WHERE closed_at IS NULL AND closes_at <= \(stamp)
                RETURNING id, survey_id, period
                """, logger: logger).collect().map { row in
                let a = row.makeRandomAccess()
                return (try a["id"].decode(Int64.self), "\(try a["survey_id"].decode(String.self)) \(try a["period"].decode(String.self))")
            }.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    public func openSentRounds(now: Date) async throws(PulseError) -> [SentRound] {
        let logger = self.logger, stamp = Timestamp.string(now)
        return try await run {
            try await client.query("""
                SELECT survey_id, period FROM round WHERE closed_at IS NULL AND source = 'sent'
                  AND (closes_at IS NULL OR closes_at > \(stamp)) ORDER BY period_start, id
                """, logger: logger).collect().compactMap { row in
                let (survey, period) = try row.decode((String, String).self)
                return Period(period).map { SentRound(survey: survey, period: $0) }
            }
        }
    }

    public func heldAnswerCount(roundID: Int64, now: Date) async throws(PulseError) -> Int {
        let logger = self.logger, stamp = Timestamp.string(now)
        return try await run {
            try await client.query(PostgresQuery(unsafeSQL: "SELECT COUNT(*)::BIGINT FROM invitation i WHERE i.round_id = $1 AND \(Self.held(now: stamp))",
                                                 binds: Self.binds(roundID)), logger: logger).collect().first?.decode(Int.self) ?? 0
        }
    }

    public func answersNotKept(roundID: Int64) async throws(PulseError) -> Int {
        let logger = self.logger
        return try await run {
            try await client.query("SELECT answers_not_kept FROM round WHERE id = \(roundID)", logger: logger).collect().first?.decode(Int.self) ?? 0
        }
    }

    public func surveyHistory() async throws(PulseError) -> [String: SurveyHistory] {
        let logger = self.logger
        return try await run {
            var out: [String: SurveyHistory] = [:]
            for row in try await client.query("""
                SELECT s.id, (SELECT COUNT(*) FROM survey_version v WHERE v.survey_id = s.id)::BIGINT,
                       (SELECT COUNT(*) FROM round r WHERE r.survey_id = s.id)::BIGINT
                FROM survey s
                """, logger: logger).collect() {
                let (id, versions, rounds) = try row.decode((String, Int, Int).self)
                out[id] = SurveyHistory(versions: versions, rounds: rounds)
            }
            return out
        }
    }
}
