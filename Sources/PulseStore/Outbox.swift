import Crypto
import Foundation
import GRDB
import PulseCore

extension TokenKey {
    /// Loads the key file, creating it (32 random bytes, mode 0600) the first time.
    public static func load(path: String) throws(PulseError) -> TokenKey {
        let fm = FileManager.default
        if let data = fm.contents(atPath: path) {
            guard data.count >= 32 else { throw .runtime("the key file \(path) is damaged (shorter than 32 bytes)") }
            return TokenKey(bytes: data)
        }
        var bytes = [UInt8](repeating: 0, count: 32)
        var rng = SystemRandomNumberGenerator()
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255, using: &rng) }
        guard fm.createFile(atPath: path, contents: Data(bytes), attributes: [.posixPermissions: 0o600]) else {
            throw .runtime("cannot create the key file \(path)")
        }
        return TokenKey(bytes: Data(bytes))
    }
}

extension AppDatabase {
    static func registerMailMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v2-outbox") { db in
            try db.execute(sql: """
                -- Every message is written here before it is sent, and marked after, so that
                -- a crash at any moment is resumed by the next run. The body (which holds the
                -- personal link) is dropped once the server has accepted the message.
                CREATE TABLE outbox (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    kind TEXT NOT NULL CHECK (kind IN ('invitation', 'reminder')),
                    invitation_id INTEGER NOT NULL REFERENCES invitation(id),
                    message_id TEXT NOT NULL UNIQUE,
                    sender TEXT NOT NULL,
                    recipient TEXT NOT NULL,
                    subject TEXT NOT NULL,
                    body BLOB,
                    status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sending', 'sent', 'failed')),
                    attempts INTEGER NOT NULL DEFAULT 0,
                    next_attempt_at TEXT NOT NULL,
                    last_error TEXT,
                    server_reply TEXT,
                    -- The process sending it: a message left 'sending' by a process that is
                    -- gone is resent; one held by a live process is left to it.
                    claimed_by INTEGER,
                    created_at TEXT NOT NULL,
                    sent_at TEXT
                );
                CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
                """)
        }
    }

    /// Each invitation closes at least `close_after_days` after it was sent, whatever the
    /// rep's time zone and the weekday; the round closes when its last invitation does.
    static func registerInvitationCloseMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v4-invitation-closes") { db in
            try db.execute(sql: "ALTER TABLE invitation ADD COLUMN closes_at TEXT")
        }
    }

    // MARK: - Writes

    /// Opens the round of a survey for a period (or finds it) and queues one invitation
    /// per active rep not yet invited, all in one transaction.
    /// - Parameters:
    ///   - dryRun: render everything, then roll back: nothing is stored.
    ///   - render: turns a draft into a message; runs inside the transaction.
    ///   - closesAt: when a new round closes (the last moment any rep's window ends).
    ///   - openDays: how long each invitation stays open after `now`; the round's closing
    ///     time moves later when an invitation's window ends after it.
    ///   - only: invite only these reps (by id); with it, no round is opened for nobody.
    /// - Parameter minGroupSize: the threshold the mail promises; the round keeps the
    ///   largest it was promised.
    public func queueInvitations(survey: SurveyDefinition, period: Period, team: String?, closesAt: Date?,
                                 openDays: Int? = nil, minGroupSize: Int? = nil, key: TokenKey, now: Date, dryRun: Bool,
                                 only: Set<Int64>? = nil, limit: Int? = nil,
                                 render: (MessageDraft) throws -> RenderedMessage) throws(PulseError) -> QueueSummary {
        try transaction(dryRun: dryRun) { db in
            var summary = QueueSummary()
            let stamp = Timestamp.string(now)
            var round = try Row.fetchOne(db, sql: "SELECT * FROM round WHERE survey_id = ? AND period = ?",
                                         arguments: [survey.id, period.description]).map { try Round(row: $0) }
            if let r = round {
                if let refusal = r.refusesInvitations(now: now) { throw refusal }
            } else if let only, try !Int64.fetchAll(db, sql: "SELECT id FROM rep WHERE active AND (? IS NULL OR team = ?)",
                                                    arguments: [team, team]).contains(where: only.contains) {
                // Nobody is due yet: the round opens with its first invitation.
                return summary
            } else {
                let versionID = try Self.registerVersion(survey, db: db, now: now)
                try db.execute(sql: """
                    INSERT INTO round (survey_id, survey_version_id, period, period_start, period_end, source, opened_at, closes_at)
                    VALUES (?, ?, ?, ?, ?, 'sent', ?, ?)
                    """, arguments: [survey.id, versionID, period.description, period.start.description, period.end.description,
                                     stamp, closesAt.map(Timestamp.string)])
                round = try Round(row: try Row.fetchOne(db, sql: "SELECT * FROM round WHERE id = ?", arguments: [db.lastInsertedRowID])!)
                summary.roundCreated = true
            }
            let r = round!
            try Self.promise(minGroupSize, roundID: r.id, db: db)
            let definition = try Self.version(id: r.versionID, db: db).definition
            let roundCloses = r.closesAt.flatMap { ISO8601DateFormatter().date(from: $0) }
            // A rep invited now gets their whole window, from now.
            let closes = openDays.map { now.addingTimeInterval(Double($0) * 86_400) } ?? roundCloses
            let closesStamp = closes.map(Timestamp.string)
            // Each active rep with whether they are invited already; only those this call
            // invites are decoded, so a round sent in chunks reads each rep once.
            let statement = try db.makeStatement(sql: """
                SELECT p.*, i.rep_id IS NOT NULL AS already FROM rep p
                LEFT JOIN invitation i ON i.round_id = ? AND i.rep_id = p.id
                WHERE p.active AND (? IS NULL OR p.team = ?) ORDER BY p.email
                """)
            let rows = try Row.fetchCursor(statement, arguments: [r.id, team, team])
            let columns = statement.columnNames
            let idAt = columns.firstIndex(of: "id")!, alreadyAt = columns.count - 1
            var chosen: [Rep] = [], any = false
            while let row = try rows.next() {
                any = true
                if let only, !only.contains(row[idAt]) { continue }
                if row[alreadyAt] { summary.skipped += 1; continue }
                if let limit, chosen.count >= limit { summary.remaining += 1; continue }
                chosen.append(Rep(row: row))
            }
            if let team, !any {
                let teams = Set(try String.fetchAll(db, sql: "SELECT DISTINCT team FROM rep WHERE team IS NOT NULL AND active")).sorted()
                throw Closest.unknown("team with active reps", team, known: teams, listLabel: "the teams are")
            }
            let insert = try db.cachedStatement(sql: """
                INSERT INTO invitation (round_id, rep_id, team, manager_email, region, created_at, closes_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """)
            let setHash = try db.cachedStatement(sql: "UPDATE invitation SET token_hash = ? WHERE id = ?")
            for rep in chosen {
                try insert.execute(arguments: [r.id, rep.id, rep.team, rep.managerEmail, rep.region, stamp, closesStamp])
                let invitationID = db.lastInsertedRowID
                let token = key.token(invitationID: invitationID, roundID: r.id)
                try setHash.execute(arguments: [tokenHash(token), invitationID])
                let message = try render(MessageDraft(kind: .invitation, invitationID: invitationID, rep: rep, token: token,
                                                      survey: definition, period: r.period, closesAt: closes, reminderNumber: 0))
                try Self.enqueue(message, kind: .invitation, invitationID: invitationID, stamp: stamp, db: db)
                summary.queued.append((rep.email, message.subject))
            }
            if let closesStamp, !summary.queued.isEmpty, (r.closesAt ?? "") < closesStamp {
                try db.execute(sql: "UPDATE round SET closes_at = ? WHERE id = ?", arguments: [closesStamp, r.id])
            }
            return summary
        }
    }

    /// Queues reminders for the reps of an open round who have not answered: at most
    /// `max` per rep and at least `minDaysApart` days after the invitation or the last reminder.
    public func queueReminders(survey: String, period: Period, max: Int, minDaysApart: Int, minGroupSize: Int? = nil, key: TokenKey,
                               now: Date, dryRun: Bool,
                               render: (MessageDraft) throws -> RenderedMessage) throws(PulseError) -> QueueSummary {
        try transaction(dryRun: dryRun) { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM round WHERE survey_id = ? AND period = ?",
                                             arguments: [survey, period.description]) else {
                throw PulseError.usage("there is no round \(survey) \(period) (pulse rounds list shows them)")
            }
            let r = try Round(row: row)
            if let refusal = r.refusesReminders(now: now) { throw refusal }
            let stamp = Timestamp.string(now)
            try Self.promise(minGroupSize, roundID: r.id, db: db)
            let definition = try Self.version(id: r.versionID, db: db).definition
            let cutoff = Timestamp.string(now.addingTimeInterval(-Double(minDaysApart) * 86_400))
            var summary = QueueSummary()
            // Never for an invitation whose window has passed (or is about to), even before a
            // tick closes the round.
            let candidates = try Row.fetchAll(db, sql: """
                SELECT i.id, i.rep_id, i.reminders, COALESCE(i.closes_at, r.closes_at) AS closes
                FROM invitation i JOIN rep ON rep.id = i.rep_id JOIN round r ON r.id = i.round_id
                WHERE i.round_id = ? AND NOT i.answered AND NOT \(Self.heldSQL) AND i.sent_at IS NOT NULL AND rep.active
                  AND i.reminders < ? AND COALESCE(i.last_reminded_at, i.sent_at) <= ?
                  AND (COALESCE(i.closes_at, r.closes_at) IS NULL OR COALESCE(i.closes_at, r.closes_at) > ?)
                ORDER BY rep.email
                """, arguments: [r.id, stamp, max, cutoff, Timestamp.string(now.addingTimeInterval(ReminderPlan.lastReminderBeforeClose))])
            for c in candidates {
                let closes = (c["closes"] as String?).flatMap(Self.parseTimestamp)
                let invitationID: Int64 = c["id"]
                let rep = Rep(row: try Row.fetchOne(db, sql: "SELECT * FROM rep WHERE id = ?", arguments: [c["rep_id"] as Int64])!)
                let number: Int = c["reminders"] + 1
                let token = key.token(invitationID: invitationID, roundID: r.id)
                let message = try render(MessageDraft(kind: .reminder, invitationID: invitationID, rep: rep, token: token,
                                                      survey: definition, period: r.period, closesAt: closes, reminderNumber: number))
                try db.execute(sql: "UPDATE invitation SET reminders = reminders + 1, last_reminded_at = ? WHERE id = ?",
                               arguments: [stamp, invitationID])
                try Self.enqueue(message, kind: .reminder, invitationID: invitationID, stamp: stamp, db: db)
                summary.queued.append((rep.email, message.subject))
            }
            return summary
        }
    }


    /// When each unanswered rep of a round gets their next reminder, for `remind --dry-run`.
    public func reminderPlan(survey: String, period: Period, max: Int, minDaysApart: Int,
                             now: Date) throws(PulseError) -> [ReminderPlan] {
        try read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM round WHERE survey_id = ? AND period = ?",
                                             arguments: [survey, period.description]) else {
                throw PulseError.usage("there is no round \(survey) \(period) (pulse rounds list shows them)")
            }
            let r = try Round(row: row)
            let rows = try Row.fetchAll(db, sql: """
                SELECT rep.email, rep.active, i.sent_at, i.reminders, i.last_reminded_at, COALESCE(i.closes_at, r.closes_at) AS closes
                FROM invitation i JOIN rep ON rep.id = i.rep_id JOIN round r ON r.id = i.round_id
                WHERE i.round_id = ? AND NOT i.answered AND NOT \(Self.heldSQL) ORDER BY rep.email
                """, arguments: [r.id, Timestamp.string(now)])
            return rows.map { c in
                ReminderPlan.decide(email: c["email"], sent: c["reminders"],
                                    lastContact: ((c["last_reminded_at"] as String?) ?? (c["sent_at"] as String?)).flatMap(Self.parseTimestamp),
                                    closes: (c["closes"] as String?).flatMap(Self.parseTimestamp), roundClosed: r.closedAt != nil,
                                    active: c["active"], max: max, minDaysApart: minDaysApart, now: now)
            }
        }
    }

    static func enqueue(_ m: RenderedMessage, kind: MessageDraft.Kind, invitationID: Int64, stamp: String, db: Database) throws {
        try db.cachedStatement(sql: """
            INSERT INTO outbox (kind, invitation_id, message_id, sender, recipient, subject, body, next_attempt_at, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [kind.rawValue, invitationID, m.messageID, m.sender, m.recipient, m.subject, m.data, stamp, stamp])
    }

    /// Closes the rounds whose closing time has passed.
    /// - Returns: the rounds closed, as "survey period".
    public func closeDueRounds(now: Date, dryRun: Bool = false) throws(PulseError) -> [String] {
        try transaction(dryRun: dryRun) { db in
            let stamp = Timestamp.string(now)
            let due = try Row.fetchAll(db, sql: "SELECT id, survey_id, period FROM round WHERE closed_at IS NULL AND closes_at <= ?", arguments: [stamp])
            for row in due {
                try db.execute(sql: "UPDATE round SET closed_at = ? WHERE id = ?", arguments: [stamp, row["id"] as Int64])
            }
            return due.map { "\($0["survey_id"] as String) \($0["period"] as String)" }
        }
    }

    /// Open rounds that went out through Pulse: (survey, period).
    public func openSentRounds(now: Date) throws(PulseError) -> [(survey: String, period: Period)] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT survey_id, period FROM round WHERE closed_at IS NULL AND source = 'sent'
                  AND (closes_at IS NULL OR closes_at > ?) ORDER BY period_start
                """, arguments: [Timestamp.string(now)]).compactMap { row in
                Period(row["period"] as String).map { (row["survey_id"] as String, $0) }
            }
        }
    }

    /// Closes a round: no more sends or reminders; answers are no longer taken.
    public func closeRound(survey: String, period: Period, now: Date) throws(PulseError) -> Bool {
        try write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT id, closed_at FROM round WHERE survey_id = ? AND period = ?",
                                             arguments: [survey, period.description]) else {
                throw PulseError.usage("there is no round \(survey) \(period) (pulse rounds list shows them)")
            }
            guard (row["closed_at"] as String?) == nil else { return false }
            try db.execute(sql: "UPDATE round SET closed_at = ? WHERE id = ?", arguments: [Timestamp.string(now), row["id"] as Int64])
            return true
        }
    }

    /// Takes up to `limit` messages that are due and marks them as being sent. Messages
    /// left 'sending' by a run that died are due again: they are resent with the same
    /// Message-ID, so a copy the server had already accepted is recognisable.
    public func claimDueMessages(limit: Int, now: Date, lease: TimeInterval = 300) throws(PulseError) -> [QueuedMessage] {
        let me = Int64(getpid())
        return try write { db in
            // 'sending' rows of this process are in hand; of a process that is gone, or
            // whose lease ran out, they are due again.
            var orphans: [Int64] = []
            for row in try Row.fetchAll(db, sql: "SELECT id, claimed_by, next_attempt_at FROM outbox WHERE status = 'sending'") {
                let pid: Int64? = row["claimed_by"]
                let expired = (row["next_attempt_at"] as String) <= Timestamp.string(now)
                if let pid, pid != me, !expired, kill(pid_t(pid), 0) == 0 || errno == EPERM { continue }
                if pid == me && !expired { continue }
                orphans.append(row["id"])
            }
            let rows = try Row.fetchAll(db, sql: """
                SELECT id, message_id, sender, recipient, body, attempts FROM outbox
                WHERE (status = 'queued' AND next_attempt_at <= ?) OR id IN (SELECT value FROM json_each(?))
                ORDER BY id LIMIT ?
                """, arguments: [Timestamp.string(now), "[\(orphans.map(String.init).joined(separator: ","))]", limit])
            let ids = rows.map { $0["id"] as Int64 }
            if !ids.isEmpty {
                try db.execute(sql: """
                    UPDATE outbox SET status = 'sending', attempts = attempts + 1, claimed_by = ?, next_attempt_at = ?
                    WHERE id IN (SELECT value FROM json_each(?))
                    """, arguments: [me, Timestamp.string(now.addingTimeInterval(lease)), "[\(ids.map(String.init).joined(separator: ","))]"])
            }
            return rows.map { QueuedMessage(id: $0["id"], messageID: $0["message_id"], sender: $0["sender"],
                                            recipient: $0["recipient"], data: $0["body"] ?? Data(), attempts: ($0["attempts"] as Int) + 1) }
        }
    }

    /// Records what became of claimed messages in one transaction (a group commit): a
    /// sent message loses its body and marks its invitation sent; a retry goes back to the
    /// queue; a failure is given up on. The text kept loses any URL's user info: libcurl's
    /// and a server's words can quote the URL, password and all.
    public func recordOutcomes(_ outcomes: [MessageOutcome]) throws(PulseError) {
        guard !outcomes.isEmpty else { return }
        try write { db in
            let sent = try db.cachedStatement(sql: """
                UPDATE outbox SET status = 'sent', body = NULL, server_reply = ?, sent_at = ?, last_error = NULL, claimed_by = NULL
                WHERE id = ?
                """)
            let invited = try db.cachedStatement(sql: """
                UPDATE invitation SET sent_at = COALESCE(sent_at, ?)
                WHERE id = (SELECT invitation_id FROM outbox WHERE id = ? AND kind = 'invitation')
                """)
            let retry = try db.cachedStatement(sql: """
                UPDATE outbox SET status = 'queued', last_error = ?, next_attempt_at = ?, claimed_by = NULL,
                       attempts = attempts - ? WHERE id = ?
                """)
            let failed = try db.cachedStatement(sql: "UPDATE outbox SET status = 'failed', last_error = ?, claimed_by = NULL WHERE id = ?")
            for outcome in outcomes {
                switch outcome {
                case let .sent(id, reply, at):
                    let stamp = Timestamp.string(at)
                    try sent.execute(arguments: [URLUserInfo.redacted(reply), stamp, id])
                    try invited.execute(arguments: [stamp, id])
                case let .retry(id, error, at, countAttempt):
                    try retry.execute(arguments: [URLUserInfo.redacted(error), Timestamp.string(at), countAttempt ? 0 : 1, id])
                case let .failed(id, error):
                    try failed.execute(arguments: [URLUserInfo.redacted(error), id])
                }
            }
        }
    }

    // MARK: - Reads

    public typealias OutboxEntry = PulseCore.OutboxEntry

    public func outbox(status: String? = nil, limit: Int = 1000) throws(PulseError) -> [OutboxEntry] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM outbox WHERE ?1 IS NULL OR status = ?1 ORDER BY id DESC LIMIT ?2
                """, arguments: [status, limit]).map {
                OutboxEntry(id: $0["id"], kind: $0["kind"], recipient: $0["recipient"], subject: $0["subject"],
                            status: $0["status"], attempts: $0["attempts"], nextAttemptAt: $0["next_attempt_at"],
                            lastError: $0["last_error"], serverReply: $0["server_reply"], sentAt: $0["sent_at"],
                            messageID: $0["message_id"])
            }
        }
    }

    public func outboxCounts() throws(PulseError) -> [String: Int] {
        try read { db in
            var out: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT status, COUNT(*) AS n FROM outbox GROUP BY status") {
                out[row["status"]] = row["n"]
            }
            return out
        }
    }

    /// The earliest time a queued message is due, if any.
    public func nextDueTime() throws(PulseError) -> Date? {
        try read { db in
            try String.fetchOne(db, sql: "SELECT MIN(next_attempt_at) FROM outbox WHERE status IN ('queued', 'sending')")
                .flatMap { ISO8601DateFormatter().date(from: $0) }
        }
    }

    /// Runs `body` in one transaction, committed, or rolled back for a dry run.
    func transaction<T>(dryRun: Bool, _ body: (Database) throws -> T) throws(PulseError) -> T {
        do {
            return try dbWriter.writeWithoutTransaction { db in
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try body(db)
                    return dryRun ? .rollback : .commit
                }
                return result!
            }
        } catch {
            throw mapped(error)
        }
    }
}
