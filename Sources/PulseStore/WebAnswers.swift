import Foundation
import GRDB
import PulseCore


/// Compares two byte strings in time that depends on their length only.
public func constantTimeEquals(_ a: Data, _ b: Data) -> Bool {
    guard a.count == b.count else { return false }
    var difference: UInt8 = 0
    for (x, y) in zip(a, b) { difference |= x ^ y }
    return difference == 0
}

extension AppDatabase {
    /// The invitation a personal token belongs to, or `nil` for an unknown token.
    ///
    /// The database holds only SHA-256 hashes of tokens: the lookup goes by the hash, and
    /// the stored hash is then compared with the computed one in constant time.
    public func invitation(token: String) throws(PulseError) -> Invitation? {
        try read { db in try Self.invitation(token: token, db: db) }
    }

    /// The invitation of a token and the answers given through it so far, in one read
    /// (never any for an anonymous survey).
    public func invitationAndAnswers(token: String) throws(PulseError)
        -> (invitation: Invitation, answers: [String: AnswerValue]?)? {
        try read { db in
            guard let invitation = try Self.invitation(token: token, db: db) else { return nil }
            return (invitation, try Self.currentAnswers(invitation, db: db))
        }
    }

    static func invitation(token: String, db: Database) throws -> Invitation? {
        let hash = tokenHash(token)
        guard let row = try Row.fetchOne(db.cachedStatement(sql: """
            SELECT i.id, i.token_hash, i.answered, i.team, i.manager_email, i.region, i.rep_id, i.round_id, i.closes_at,
                   (SELECT l.expires_at FROM answer_hold_lease l WHERE l.id = i.held_by) AS held_until
            FROM invitation i WHERE i.token_hash = ?
            """), arguments: [hash]) else { return nil }
        let stored: Data = row["token_hash"]
        guard constantTimeEquals(stored, hash) else { return nil }
        guard let roundRow = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM round WHERE id = ?"),
                                              arguments: [row["round_id"] as Int64]),
              let repRow = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM rep WHERE id = ?"),
                                            arguments: [row["rep_id"] as Int64]) else { return nil }
        let round = try Round(row: roundRow)
        return Invitation(id: row["id"], round: round, definition: try Self.version(id: round.versionID, db: db).definition,
                          rep: Rep(row: repRow), answered: row["answered"],
                          keys: GroupKeys(team: row["team"], managerEmail: row["manager_email"], region: row["region"]),
                          ownClosesAt: row["closes_at"], heldUntil: row["held_until"])
    }

    /// The answers given through an invitation so far: for an identified survey, the
    /// rep's; for an anonymous one, none ever. Nothing stored with an anonymous answer
    /// is computable from the token, the key file, the rep or the invitation, so no link
    /// can find one again, nor show it to whoever holds the link.
    public func currentAnswers(_ invitation: Invitation) throws(PulseError) -> [String: AnswerValue]? {
        try read { db in try Self.currentAnswers(invitation, db: db) }
    }

    static func currentAnswers(_ invitation: Invitation, db: Database) throws -> [String: AnswerValue]? {
        guard invitation.definition.anonymity == .identified else { return nil }
        let id = try Int64.fetchOne(db.cachedStatement(sql: "SELECT id FROM response WHERE round_id = ? AND rep_id = ?"),
                                    arguments: [invitation.round.id, invitation.rep.id])
        return try id.map { try Self.answers(responseID: $0, definition: invitation.definition, db: db) }
    }

    /// Stores (or replaces) the answers given through an invitation of an identified
    /// survey, in one transaction that first checks the round is still open.
    ///
    /// Anonymous answers are never written one at a time: `serve` holds them
    /// (`holdAnonymousAnswer`) and writes them in batches (`writeHeldBatch`).
    public func submitAnswers(_ invitation: Invitation, answers: [String: AnswerValue],
                              now: Date) throws(PulseError) -> WebAnswerOutcome {
        let definition = invitation.definition
        let morale = definition.morale(of: answers)
        let enps = definition.enpsQuestion.flatMap { answers[$0.id]?.number }
        return try transaction(dryRun: false) { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT closed_at, closes_at FROM round WHERE id = ?",
                                             arguments: [invitation.round.id]) else { return .closed }
            var round = invitation.round
            round.closedAt = row["closed_at"]
            round.closesAt = row["closes_at"]
            var current = invitation
            current.round = round
            guard current.isOpen(at: now) else { return .closed }
            let keys = invitation.keys
            let existing: Int64?
            switch definition.anonymity {
            case .identified:
                existing = try Int64.fetchOne(db, sql: "SELECT id FROM response WHERE round_id = ? AND rep_id = ?",
                                              arguments: [round.id, invitation.rep.id])
                if let id = existing {
                    try db.execute(sql: """
                        UPDATE response SET submitted_at = ?, morale = ?, enps = ?, source = 'web' WHERE id = ?
                        """, arguments: [Timestamp.string(now), morale, enps, id])
                    try db.execute(sql: "DELETE FROM answer WHERE response_id = ?", arguments: [id])
                    try Self.insertAnswers(answers, responseID: id, db: db)
                } else {
                    try db.execute(sql: """
                        INSERT INTO response (round_id, rep_id, team, manager_email, region, submitted_at, morale, enps, source)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'web')
                        """, arguments: [round.id, invitation.rep.id, keys.team, keys.managerEmail, keys.region,
                                         Timestamp.string(now), morale, enps])
                    try Self.insertAnswers(answers, responseID: db.lastInsertedRowID, db: db)
                }
            case .anonymous:
                throw PulseError.runtime("an anonymous answer is held and written in a batch, never alone")
            }
            try db.execute(sql: "UPDATE invitation SET answered = 1 WHERE id = ?", arguments: [invitation.id])
            return .stored(firstTime: existing == nil)
        }
    }
}
