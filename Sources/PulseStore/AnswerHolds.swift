import Foundation
import GRDB
import PulseCore


/// Held answers, in the database: only *that* an invitation's answer is held, and by
/// which lease, never the answer. A lease is one running `serve`; it renews its expiry
/// while it runs. When it stops without writing what it held (a crash), the lease
/// expires and those invitations count as not answered again: their links open the form,
/// and reminders reach them.
extension AppDatabase {
    static func registerAnswerHoldMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v6-answer-holds") { db in
            try db.execute(sql: """
                CREATE TABLE answer_hold_lease (
                    id TEXT PRIMARY KEY,
                    expires_at TEXT NOT NULL
                ) WITHOUT ROWID;
                ALTER TABLE invitation ADD COLUMN held_by TEXT;
                -- Answers given to a round that ended with fewer than the threshold: not kept.
                ALTER TABLE round ADD COLUMN answers_not_kept INTEGER NOT NULL DEFAULT 0;
                -- The largest min_group_size the round's mail or pages promised: its answers
                -- are kept and shown under no smaller one, whatever pulse.yaml says later.
                ALTER TABLE round ADD COLUMN min_group_size INTEGER;
                """)
        }
    }

    /// The SQL condition "invitation `i` is held by a live lease at ?".
    static let heldSQL = "(i.held_by IS NOT NULL AND EXISTS (SELECT 1 FROM answer_hold_lease l WHERE l.id = i.held_by AND l.expires_at > ?))"

    /// Starts (or renews) a lease until `expires`, and lets go of the holds of leases that
    /// expired: those answers were lost with their server.
    /// - Parameter renewing: whether the caller holds the lease already.
    /// - Returns: `false` when the caller's lease was found gone (expired and let go by
    ///   another process): its holds were released, and the answers it held must be
    ///   dropped, as if it had crashed, since their reps may answer again.
    @discardableResult
    public func renewLease(_ id: String, expires: Date, now: Date, renewing: Bool = false) throws(PulseError) -> Bool {
        try write { db in
            let alive = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM answer_hold_lease WHERE id = ?)", arguments: [id]) ?? false
            try db.execute(sql: """
                INSERT INTO answer_hold_lease (id, expires_at) VALUES (?, ?)
                ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at
                """, arguments: [id, Timestamp.string(expires)])
            try Self.releaseExpiredHolds(now: now, db: db)
            return alive || !renewing
        }
    }

    static func releaseExpiredHolds(now: Date, db: Database) throws {
        let stamp = Timestamp.string(now)
        try db.execute(sql: """
            UPDATE invitation SET held_by = NULL WHERE held_by IS NOT NULL
              AND held_by NOT IN (SELECT id FROM answer_hold_lease WHERE expires_at > ?)
            """, arguments: [stamp])
        try db.execute(sql: "DELETE FROM answer_hold_lease WHERE expires_at <= ?", arguments: [stamp])
    }

    /// Ends a lease whose holds are all written or let go.
    public func endLease(_ id: String) throws(PulseError) {
        try write { db in
            try db.execute(sql: "UPDATE invitation SET held_by = NULL WHERE held_by = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM answer_hold_lease WHERE id = ?", arguments: [id])
        }
    }

    /// Marks an anonymous invitation's answer as held by a lease, in one transaction that
    /// renews the lease until `expires`, checks that the round is open and that the
    /// invitation is neither answered nor held, and raises the round's threshold to
    /// `promised` (what the page said). Nothing of the answer is written.
    /// - Parameter renewing: whether the caller holds the lease already.
    /// - Returns: the outcome, and `false` as `leaseAlive` when the caller's lease was
    ///   found gone: the answers it held were let go, and must be dropped.
    public func holdAnonymousAnswer(_ invitation: Invitation, lease: String, expires: Date, promised: Int, renewing: Bool,
                                    now: Date) throws(PulseError) -> (outcome: WebAnswerOutcome, leaseAlive: Bool) {
        try transaction(dryRun: false) { db in
            let alive = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM answer_hold_lease WHERE id = ?)", arguments: [lease]) ?? false
            try db.execute(sql: """
                INSERT INTO answer_hold_lease (id, expires_at) VALUES (?, ?)
                ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at
                """, arguments: [lease, Timestamp.string(expires)])
            try Self.releaseExpiredHolds(now: now, db: db)
            let leaseAlive = alive || !renewing
            guard let row = try Row.fetchOne(db, sql: "SELECT closed_at, closes_at FROM round WHERE id = ?",
                                             arguments: [invitation.round.id]) else { return (.closed, leaseAlive) }
            var current = invitation
            current.round.closedAt = row["closed_at"]
            current.round.closesAt = row["closes_at"]
            guard current.isOpen(at: now) else { return (.closed, leaseAlive) }
            let taken = try Bool.fetchOne(db, sql: "SELECT i.answered OR \(Self.heldSQL) FROM invitation i WHERE i.id = ?",
                                          arguments: [Timestamp.string(now), invitation.id]) ?? true
            if taken { return (.alreadyRecorded, leaseAlive) }
            try db.execute(sql: "UPDATE invitation SET held_by = ? WHERE id = ?", arguments: [lease, invitation.id])
            try Self.promise(promised, roundID: invitation.round.id, db: db)
            return (.stored(firstTime: true), leaseAlive)
        }
    }

    /// Writes held answers of one round as one batch, with their invitations' answered
    /// flags, in one transaction: in a random order, with random ids, no time, and the
    /// group tags `AnonymousCells` gives the batch. Only answers whose invitations this
    /// lease still holds are written (an expired lease lost its holds), and none when they
    /// are fewer than the threshold.
    /// - Returns: how many were written.
    @discardableResult
    public func writeHeldBatch(_ all: [HeldAnswer], lease: String, threshold: Int) throws(PulseError) -> Int {
        try transaction(dryRun: false) { db in
            var batch: [HeldAnswer] = []
            var seen: Set<Int64> = []
            guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM answer_hold_lease WHERE id = ?)", arguments: [lease]) == true
            else { return 0 }
            // One answer per invitation, and only while this lease holds it.
            for a in all.reversed() where seen.insert(a.invitationID).inserted {
                if try Bool.fetchOne(db, sql: "SELECT held_by = ? AND NOT answered FROM invitation WHERE id = ?",
                                     arguments: [lease, a.invitationID]) == true { batch.append(a) }
            }
            guard let tags = AnonymousCells.tags(batch.map(\.keys), threshold: threshold) else { return 0 }
            for i in Array(batch.indices).shuffled() {
                let a = batch[i], keys = tags[i]
                let id = Int64.random(in: 1...Int64.max)
                try db.execute(sql: """
                    INSERT INTO response (id, round_id, rep_id, team, manager_email, region, submitted_at, morale, enps, source)
                    VALUES (?, ?, NULL, ?, ?, ?, NULL, ?, ?, 'web')
                    """, arguments: [id, a.roundID, keys.team, keys.managerEmail, keys.region, a.morale, a.enps])
                try Self.insertAnswers(a.answers, responseID: id, db: db)
            }
            for a in batch.shuffled() {
                try db.execute(sql: "UPDATE invitation SET answered = 1, held_by = NULL WHERE id = ?", arguments: [a.invitationID])
            }
            return batch.count
        }
    }

    /// The held answers of a round that ended with fewer than the threshold: their reps
    /// answered, and nothing of what they said is kept (the round counts how many).
    public func discardHeldAnswers(_ held: [HeldAnswer], roundID: Int64) throws(PulseError) {
        try transaction(dryRun: false) { db in
            for a in held {
                try db.execute(sql: "UPDATE invitation SET answered = 1, held_by = NULL WHERE id = ?", arguments: [a.invitationID])
            }
            try db.execute(sql: "UPDATE round SET answers_not_kept = answers_not_kept + ? WHERE id = ?",
                           arguments: [held.count, roundID])
        }
    }

    /// Lets go of holds without writing their answers (a stop under the threshold): those
    /// reps count as not having answered; their links open the form again.
    public func releaseHolds(_ invitationIDs: [Int64], lease: String) throws(PulseError) {
        try write { db in
            for id in invitationIDs {
                try db.execute(sql: "UPDATE invitation SET held_by = NULL WHERE id = ? AND held_by = ?", arguments: [id, lease])
            }
        }
    }

    /// Whether each round is still open for the answers held for it.
    public func heldRoundStates(_ roundIDs: some Collection<Int64>, now: Date) throws(PulseError) -> [Int64: HeldRoundState] {
        try read { db in
            var out: [Int64: HeldRoundState] = [:]
            for id in roundIDs { out[id] = .gone }
            guard !roundIDs.isEmpty else { return out }
            for row in try Row.fetchAll(db, sql: """
                SELECT id, closed_at IS NOT NULL OR (closes_at IS NOT NULL AND closes_at <= ?) FROM round
                WHERE id IN (\(roundIDs.map(String.init).joined(separator: ",")))
                """, arguments: [Timestamp.string(now)]) {
                out[row[0]] = (row[1] as Bool) ? .ended : .open
            }
            return out
        }
    }

    /// Invitations of a round whose answers a live `serve` holds.
    public func heldAnswerCount(roundID: Int64, now: Date) throws(PulseError) -> Int {
        try read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM invitation i WHERE i.round_id = ? AND \(Self.heldSQL)",
                             arguments: [roundID, Timestamp.string(now)]) ?? 0
        }
    }

    /// The threshold a round's answers are kept and shown under: `configured`, or the
    /// larger one its mail or pages promised.
    public func roundThreshold(roundID: Int64, configured: Int) throws(PulseError) -> Int {
        try read { db in
            max(configured, try Int.fetchOne(db, sql: "SELECT min_group_size FROM round WHERE id = ?", arguments: [roundID]) ?? 0)
        }
    }

    /// Raises the threshold a round promised to `k` (never lowers it).
    static func promise(_ k: Int?, roundID: Int64, db: Database) throws {
        guard let k else { return }
        try db.execute(sql: "UPDATE round SET min_group_size = MAX(COALESCE(min_group_size, 0), ?) WHERE id = ?", arguments: [k, roundID])
    }

    /// A round's answers given but not kept (the round ended with fewer than the threshold).
    public func answersNotKept(roundID: Int64) throws(PulseError) -> Int {
        try read { db in try Int.fetchOne(db, sql: "SELECT answers_not_kept FROM round WHERE id = ?", arguments: [roundID]) ?? 0 }
    }
}
