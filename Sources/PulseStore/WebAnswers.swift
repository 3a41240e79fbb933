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
        try read { db in try lookUp(token: token, withAnswers: false, db: db)?.invitation }
    }

    /// The invitation of a token and the answers given through it so far, in one query
    /// (never any answers for an anonymous survey).
    public func invitationAndAnswers(token: String) throws(PulseError)
        -> (invitation: Invitation, answers: [String: AnswerValue]?)? {
        try read { db in try lookUp(token: token, withAnswers: true, db: db) }
    }

    /// One statement: the invitation with its round and rep and, asked for, the rep's own
    /// response with its answers (one row per answer). An anonymous answer has no rep, so
    /// the join never finds one; the definition is taken from `versionDefinitions` by version id
    /// (versions are never changed nor their ids reused), read from the database once.
    func lookUp(token: String, withAnswers: Bool, db: Database) throws -> (invitation: Invitation, answers: [String: AnswerValue]?)? {
        let hash = tokenHash(token)
        let rows = try Row.fetchAll(db.cachedStatement(sql: """
            SELECT i.id, i.token_hash, i.answered, i.team, i.manager_email, i.region, i.closes_at,
                   (SELECT l.expires_at FROM answer_hold_lease l WHERE l.id = i.held_by) AS held_until,
                   r.id AS round_id, r.survey_id, r.survey_version_id, r.period, r.source, r.opened_at,
                   r.closes_at AS round_closes_at, r.closed_at, r.min_group_size,
                   p.id AS rep_id, p.email, p.name, p.preferred_name, p.team AS rep_team, p.manager_email AS rep_manager,
                   p.region AS rep_region, p.locale, p.timezone, p.start_date, p.active,
                   s.id AS response_id, a.question_id, a.number, a.text
            FROM invitation i JOIN round r ON r.id = i.round_id JOIN rep p ON p.id = i.rep_id
            LEFT JOIN response s ON ? AND s.round_id = i.round_id AND s.rep_id = i.rep_id
            LEFT JOIN answer a ON a.response_id = s.id
            WHERE i.token_hash = ?
            """), arguments: [withAnswers, hash])
        // By position (the order of the columns above): a lookup by name lowercases it.
        guard let row = rows.first else { return nil }
        let stored: Data = row[1]
        guard constantTimeEquals(stored, hash) else { return nil }
        let p: String = row[11]
        guard let period = Period(p) else { throw PulseError.runtime("the database holds a round with a bad period \"\(p)\"") }
        let round = Round(id: row[8], surveyID: row[9], versionID: row[10], period: period, source: row[12], openedAt: row[13],
                          closesAt: row[14], closedAt: row[15], minGroupSize: row[16])
        let definition: SurveyDefinition
        if let known = versionDefinitions[round.versionID] {
            definition = known
        } else {
            definition = try Self.version(id: round.versionID, db: db).definition
            versionDefinitions[round.versionID] = definition
        }
        let rep = Rep(id: row[17], email: row[18], name: row[19], preferredName: row[20], team: row[21], managerEmail: row[22],
                      region: row[23], locale: row[24], timezone: row[25], startDate: row[26], active: row[27])
        let invitation = Invitation(id: row[0], round: round, definition: definition, rep: rep, answered: row[2],
                                    keys: GroupKeys(team: row[3], managerEmail: row[4], region: row[5]),
                                    ownClosesAt: row[6], heldUntil: row[7])
        guard withAnswers, definition.anonymity == .identified, (row[28] as Int64?) != nil else { return (invitation, nil) }
        var answers: [String: AnswerValue] = [:]
        for a in rows {
            guard let id: String = a[29] else { continue }
            let n: Int? = a[30]
            let t: String = a[31] ?? ""
            answers[id] = n.map(AnswerValue.number) ?? (definition.question(id)?.type == .choice ? .choice(t) : .text(t))
        }
        return (invitation, answers)
    }

    /// Stores (or replaces) the answers given through invitations of identified surveys,
    /// in one transaction (a group commit) that checks each one's round is still open.
    ///
    /// Anonymous answers are never written one at a time: `serve` holds them
    /// (`holdAnonymousAnswer`) and writes them in batches (`writeHeldBatch`).
    public func submitAnswers(_ batch: [AnswerSubmission]) throws(PulseError) -> [WebAnswerOutcome] {
        guard !batch.isEmpty else { return [] }
        return try transaction(dryRun: false) { db in
            try batch.map { try Self.submit($0, db: db) }
        }
    }

    static func submit(_ submission: AnswerSubmission, db: Database) throws -> WebAnswerOutcome {
        let invitation = submission.invitation, answers = submission.answers, now = submission.now
        let definition = invitation.definition
        guard definition.anonymity == .identified else {
            throw PulseError.runtime("an anonymous answer is held and written in a batch, never alone")
        }
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT closed_at, closes_at FROM round WHERE id = ?"),
                                         arguments: [invitation.round.id]) else { return .closed }
        var current = invitation
        current.round.closedAt = row["closed_at"]
        current.round.closesAt = row["closes_at"]
        guard current.isOpen(at: now) else { return .closed }
        let morale = definition.morale(of: answers)
        let enps = definition.enpsQuestion.flatMap { answers[$0.id]?.number }
        let keys = invitation.keys, stamp = Timestamp.string(now)
        let existing = try Int64.fetchOne(db.cachedStatement(sql: "SELECT id FROM response WHERE round_id = ? AND rep_id = ?"),
                                          arguments: [invitation.round.id, invitation.rep.id])
        if let id = existing {
            try db.cachedStatement(sql: "UPDATE response SET submitted_at = ?, morale = ?, enps = ?, source = 'web' WHERE id = ?")
                .execute(arguments: [stamp, morale, enps, id])
            try db.cachedStatement(sql: "DELETE FROM answer WHERE response_id = ?").execute(arguments: [id])
            try insertAnswers(answers, responseID: id, db: db)
        } else {
            try db.cachedStatement(sql: """
                INSERT INTO response (round_id, rep_id, team, manager_email, region, submitted_at, morale, enps, source)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'web')
                """).execute(arguments: [invitation.round.id, invitation.rep.id, keys.team, keys.managerEmail, keys.region,
                                        stamp, morale, enps])
            try insertAnswers(answers, responseID: db.lastInsertedRowID, db: db)
        }
        try db.cachedStatement(sql: "UPDATE invitation SET answered = 1 WHERE id = ?").execute(arguments: [invitation.id])
        return .stored(firstTime: existing == nil)
    }
}
