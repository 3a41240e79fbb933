import Crypto
import Foundation
import PostgresNIO
import PulseCore

/// The PostgreSQL engine of `AnswerStore`: the same rules as the SQLite engine, in SQL
/// that several servers can run at once (the rows a decision reads are locked with
/// `FOR UPDATE` in the transaction that acts on it).
public struct PostgresAnswerStore: AnswerStore {
    public let database: PostgresDatabase

    public init(_ database: PostgresDatabase) { self.database = database }

    var client: PostgresClient { database.client }
    var logger: Logger { database.logger }

    /// Runs a body, turning any error into a sentence.
    func run<T>(_ body: () async throws -> T) async throws(PulseError) -> T {
        do { return try await body() } catch let e as PulseError { throw e } catch {
            // What a transaction's body threw (bad input, a usage error) is said as it was.
            if let t = error as? PostgresTransactionError, let inner = t.closureError as? PulseError, t.rollbackError == nil { throw inner }
            throw .runtime("PostgreSQL: \(String(reflecting: error).prefix(300))")
        }
    }

    static func tokenHash(_ token: String) -> Data { Data(SHA256.hash(data: Data(token.utf8))) }

    public func invitation(token: String) async throws(PulseError) -> Invitation? {
        let database = self.database
        return try await run {
            try await client.withConnection { c in
                try await Self.lookUp(token: token, withAnswers: false, database: database, on: c)?.invitation
            }
        }
    }

    /// One round trip: the invitation with its round and rep and, asked for, the rep's own
    /// response with its answers (one row per answer). An anonymous answer has no rep, so
    /// the join never finds one; the definition comes from the database's cache by version
    /// id, read from the database once.
    static func lookUp(token: String, withAnswers: Bool, database: PostgresDatabase, on c: PostgresConnection) async throws
        -> (invitation: Invitation, answers: [String: AnswerValue]?)? {
        let hash = tokenHash(token), logger = database.logger
        var bindings = PostgresBindings()
        try bindings.append(hash)
        let rows = withAnswers ? try await c.run(LookUpWithAnswers.self, bindings, logger: logger)
            : try await c.run(LookUp.self, bindings, logger: logger)
        guard let row = rows.first?.makeRandomAccess() else { return nil }
        let stored = try row["token_hash"].decode(Data.self)
        let difference: UInt8 = zip(stored, hash).reduce(0) { $0 | ($1.0 ^ $1.1) }
        guard stored.count == hash.count, difference == 0 else { return nil }
        let p = try row["period"].decode(String.self)
        guard let period = Period(p) else { throw PulseError.runtime("the database holds a round with a bad period \"\(p)\"") }
        let round = Round(id: try row["round_id"].decode(Int64.self), surveyID: try row["survey_id"].decode(String.self),
                          versionID: try row["survey_version_id"].decode(Int64.self), period: period, source: try row["source"].decode(String.self),
                          openedAt: try row["opened_at"].decode(String.self), closesAt: try row["round_closes_at"].decode(String?.self),
                          closedAt: try row["closed_at"].decode(String?.self), minGroupSize: try row["min_group_size"].decode(Int?.self))
        let rep = Rep(id: try row["rep_id"].decode(Int64.self), email: try row["email"].decode(String.self), name: try row["name"].decode(String?.self),
                      preferredName: try row["preferred_name"].decode(String?.self), team: try row["rep_team"].decode(String?.self),
                      managerEmail: try row["rep_manager"].decode(String?.self), region: try row["rep_region"].decode(String?.self),
                      locale: try row["locale"].decode(String?.self), timezone: try row["timezone"].decode(String?.self),
                      startDate: try row["start_date"].decode(String?.self), active: try row["active"].decode(Bool.self))
        let definition: SurveyDefinition
        if let known = database.versionDefinitions[round.versionID] {
            definition = known
        } else {
            definition = try await Self.definition(versionID: round.versionID, on: c, logger: logger)
            database.versionDefinitions[round.versionID] = definition
        }
        let invitation = Invitation(id: try row["id"].decode(Int64.self), round: round, definition: definition, rep: rep,
                                    answered: try row["answered"].decode(Bool.self),
                                    keys: GroupKeys(team: try row["team"].decode(String?.self),
                                                    managerEmail: try row["manager_email"].decode(String?.self),
                                                    region: try row["region"].decode(String?.self)),
                                    ownClosesAt: try row["closes_at"].decode(String?.self),
                                    heldUntil: try row["held_until"].decode(String?.self))
        guard withAnswers, definition.anonymity == .identified, try row["response_id"].decode(Int64?.self) != nil else {
            return (invitation, nil)
        }
        var answers: [String: AnswerValue] = [:]
        for r in rows {
            let a = r.makeRandomAccess()
            guard let id = try a["question_id"].decode(String?.self) else { continue }
            let t = try a["text"].decode(String?.self) ?? ""
            answers[id] = try a["number"].decode(Int?.self).map(AnswerValue.number)
                ?? (definition.question(id)?.type == .choice ? .choice(t) : .text(t))
        }
        return (invitation, answers)
    }

    /// The page's one query, prepared once per connection: planned each time, it cost the
    /// server more than running it (1,946 lookups/s from 32 clients against 22,485
    /// prepared, pgbench on the benchmark's database).
    static func lookUpSQL(withAnswers: Bool) -> String {
        """
        SELECT i.id, i.token_hash, i.answered, i.team, i.manager_email, i.region, i.closes_at,
               (SELECT l.expires_at FROM answer_hold_lease l WHERE l.id = i.held_by) AS held_until,
               r.id AS round_id, r.survey_id, r.survey_version_id, r.period, r.source, r.opened_at, r.closes_at AS round_closes_at,
               r.closed_at, r.min_group_size,
               p.id AS rep_id, p.email, p.name, p.preferred_name, p.team AS rep_team, p.manager_email AS rep_manager,
               p.region AS rep_region, p.locale, p.timezone, p.start_date, p.active,
        """ + (withAnswers ? """
               s.id AS response_id, a.question_id, a.number, a.text
        FROM invitation i JOIN round r ON r.id = i.round_id JOIN rep p ON p.id = i.rep_id
        LEFT JOIN response s ON s.round_id = i.round_id AND s.rep_id = i.rep_id
        LEFT JOIN answer a ON a.response_id = s.id
        """ : """
               NULL::BIGINT AS response_id, NULL::TEXT AS question_id, NULL::INTEGER AS number, NULL::TEXT AS text
        FROM invitation i JOIN round r ON r.id = i.round_id JOIN rep p ON p.id = i.rep_id
        """) + "\nWHERE i.token_hash = $1"
    }

    enum LookUp: PreparedText { static let sql = lookUpSQL(withAnswers: false) }
    enum LookUpWithAnswers: PreparedText { static let sql = lookUpSQL(withAnswers: true) }

    static func round(id: Int64, on c: PostgresConnection, logger: Logger) async throws -> Round? {
        try await c.query(PostgresQuery(unsafeSQL: "SELECT \(roundColumns) FROM round WHERE id = $1", binds: binds(id)), logger: logger)
            .collect().first.map(Self.round)
    }

    static func rep(id: Int64, on c: PostgresConnection, logger: Logger) async throws -> Rep? {
        guard let r = try await c.query("""
            SELECT id, email, name, preferred_name, team, manager_email, region, locale, timezone, start_date, active FROM rep WHERE id = \(id)
            """, logger: logger).collect().first?.makeRandomAccess() else { return nil }
        return Rep(id: try r["id"].decode(Int64.self), email: try r["email"].decode(String.self), name: try r["name"].decode(String?.self),
                   preferredName: try r["preferred_name"].decode(String?.self), team: try r["team"].decode(String?.self),
                   managerEmail: try r["manager_email"].decode(String?.self), region: try r["region"].decode(String?.self),
                   locale: try r["locale"].decode(String?.self), timezone: try r["timezone"].decode(String?.self),
                   startDate: try r["start_date"].decode(String?.self), active: try r["active"].decode(Bool.self))
    }

    /// Definitions decoded from their stored JSON, by that JSON: the answer pages read one
    /// per request, and the same text always decodes to the same definition.
    static let definitions = BoundedCache<String, SurveyDefinition>(limit: 256)

    static func decoded(_ json: String) throws -> SurveyDefinition {
        if let known = definitions[json] { return known }
        let definition = try SurveyDefinition.fromCanonicalJSON(json)
        definitions[json] = definition
        return definition
    }

    static func definition(versionID: Int64, on c: PostgresConnection, logger: Logger) async throws -> SurveyDefinition {
        guard let json = try await c.query("SELECT definition FROM survey_version WHERE id = \(versionID)", logger: logger)
            .collect().first?.decode(String.self) else {
            throw PulseError.runtime("the database has no survey version \(versionID)")
        }
        return try decoded(json)
    }

    public func invitationAndAnswers(token: String) async throws(PulseError) -> (invitation: Invitation, answers: [String: AnswerValue]?)? {
        let database = self.database
        return try await run {
            try await client.withConnection { c in try await Self.lookUp(token: token, withAnswers: true, database: database, on: c) }
        }
    }

    static func answers(responseID: Int64, definition: SurveyDefinition, on c: PostgresConnection, logger: Logger) async throws -> [String: AnswerValue] {
        var out: [String: AnswerValue] = [:]
        for try await (id, n, t) in try await c.query("SELECT question_id, number, text FROM answer WHERE response_id = \(responseID)",
                                                      logger: logger).decode((String, Int?, String?).self) {
            out[id] = n.map(AnswerValue.number) ?? (definition.question(id)?.type == .choice ? .choice(t ?? "") : .text(t ?? ""))
        }
        return out
    }

    /// Whether the round is open at `now`, read in the transaction (locked).
    static func isOpen(_ invitation: Invitation, on c: PostgresConnection, now: Date, logger: Logger) async throws -> Bool {
        guard let r = try await c.query("SELECT closed_at, closes_at FROM round WHERE id = \(invitation.round.id) FOR SHARE", logger: logger)
            .collect().first else { return false }
        let (closedAt, closesAt) = try r.decode((String?, String?).self)
        var current = invitation
        current.round.closedAt = closedAt
        current.round.closesAt = closesAt
        return current.isOpen(at: now)
    }

    public func submitAnswers(_ batch: [AnswerSubmission]) async throws(PulseError) -> [WebAnswerOutcome] {
        guard !batch.isEmpty else { return [] }
        if batch.contains(where: { $0.invitation.definition.anonymity != .identified }) {
            throw .runtime("an anonymous answer is held and written in a batch, never alone")
        }
        let logger = self.logger
        return try await run {
            try await client.withTransaction(logger: logger) { c -> [WebAnswerOutcome] in
                try await Self.submit(batch, on: c, logger: logger)
            }
        }
    }

    /// A batch of identified answers in a few statements, whatever its size: each
    /// statement takes every answer of the batch at once (arrays, unnested), so the batch
    /// costs the round trips and the rollup triggers of one answer, not of each. The
    /// outcome of each answer is the one it would have had alone, in the batch's order:
    /// two answers through one link in one batch are stored as the first and replaced by
    /// the second.
    static func submit(_ batch: [AnswerSubmission], on c: PostgresConnection, logger: Logger) async throws -> [WebAnswerOutcome] {
        guard batch.allSatisfy({ $0.invitation.rep.id != nil }) else { throw PulseError.runtime("an identified answer's invitation has no rep") }
        // Two answers through one link at once (two tabs, two servers) wait for each
        // other here: the second replaces the first, and nothing is written twice.
        // Rounds first, then invitations, each in the order of their ids: the order
        // reminders and round closing take them in, so that neither they nor another
        // server's batch ever wait for this one in a circle.
        let rounds = Array(Set(batch.map(\.invitation.round.id))).sorted()
        var current: [Int64: (closedAt: String?, closesAt: String?)] = [:]
        for row in try await c.run(Batch.LockRounds.self, binds(rounds), logger: logger) {
            let (id, closedAt, closesAt) = try row.decode((Int64, String?, String?).self)
            current[id] = (closedAt, closesAt)
        }
        // One batch per round at a time, across servers: two batches of one round add to the
        // same rollup rows (a team's `response_group`), which their triggers take in no
        // fixed order, so that two at once could wait for each other in a circle (the
        // benchmark of two servers met one such deadlock in most runs, each a second lost).
        try await c.run(Batch.LockRollups.self, binds(rounds.map { Self.answerBatchLock ^ $0 }), logger: logger)
        let ids = Array(Set(batch.map(\.invitation.id))).sorted()
        try await c.run(Batch.LockInvitations.self, binds(ids), logger: logger)

        // Which answers are stored (their round open at their time), and for each link the
        // last of them: the one whose answers are kept.
        var outcomes = [WebAnswerOutcome?](repeating: nil, count: batch.count)
        var last: [Int64: Int] = [:]
        var order: [Int64] = []
        for (i, s) in batch.enumerated() {
            guard let round = current[s.invitation.round.id] else { outcomes[i] = .closed; continue }
            var invitation = s.invitation
            invitation.round.closedAt = round.closedAt
            invitation.round.closesAt = round.closesAt
            guard invitation.isOpen(at: s.now) else { outcomes[i] = .closed; continue }
            if last.updateValue(i, forKey: s.invitation.id) == nil { order.append(s.invitation.id) }
        }
        guard !order.isEmpty else { return outcomes.map { $0 ?? .closed } }
        let kept = order.map { batch[last[$0]!] }

        // The responses there are already, locked.
        var existing: [Int64: Int64] = [:]  // invitation id -> response id
        let byRoundRep = Dictionary(kept.map { (LinkKey($0.invitation.round.id, $0.invitation.rep.id!), $0.invitation.id) },
                                    uniquingKeysWith: { a, _ in a })
        for row in try await c.run(Batch.LockResponses.self, binds(kept.map(\.invitation.round.id), kept.map { $0.invitation.rep.id! }),
                                   logger: logger) {
            let (id, roundID, repID) = try row.decode((Int64, Int64, Int64).self)
            if let invitationID = byRoundRep[LinkKey(roundID, repID)] { existing[invitationID] = id }
        }

        // Each answer's outcome, as if they had been written one by one.
        var seen: Set<Int64> = []
        for (i, s) in batch.enumerated() where outcomes[i] == nil {
            let first = seen.insert(s.invitation.id).inserted && existing[s.invitation.id] == nil
            outcomes[i] = .stored(firstTime: first)
        }

        let replaced = kept.filter { existing[$0.invitation.id] != nil }, added = kept.filter { existing[$0.invitation.id] == nil }
        var responseIDs: [Int64: Int64] = existing
        if !replaced.isEmpty {
            let rows = Figures(replaced)
            let rids = replaced.map { existing[$0.invitation.id]! }
            try await c.run(Batch.Replace.self, binds(rids, rows.stamps, rows.morale, rows.hasMorale, rows.enps, rows.hasENPS), logger: logger)
            try await c.run(Batch.DeleteAnswers.self, binds(rids), logger: logger)
        }
        if !added.isEmpty {
            let rows = Figures(added)
            let byKey = Dictionary(added.map { (LinkKey($0.invitation.round.id, $0.invitation.rep.id!), $0.invitation.id) },
                                   uniquingKeysWith: { a, _ in a })
            for row in try await c.run(Batch.Add.self, binds(
                added.map(\.invitation.round.id), added.map { $0.invitation.rep.id! }, rows.teams, rows.hasTeam, rows.managers,
                rows.hasManager, rows.regions, rows.hasRegion, rows.stamps, rows.morale, rows.hasMorale, rows.enps, rows.hasENPS), logger: logger) {
                let (id, roundID, repID) = try row.decode((Int64, Int64, Int64).self)
                if let invitationID = byKey[LinkKey(roundID, repID)] { responseIDs[invitationID] = id }
            }
        }
        try await insertAnswers(kept.map { (responseIDs[$0.invitation.id]!, $0.answers) }, on: c, logger: logger)
        try await c.run(Batch.MarkAnswered.self, binds(order), logger: logger)
        return outcomes.map { $0 ?? .closed }
    }

    /// The statements of a batch of identified answers, prepared (see `PreparedText`).
    enum Batch {
        enum LockRounds: PreparedText {
            static let sql = "SELECT id, closed_at, closes_at FROM round WHERE id = ANY($1::BIGINT[]) ORDER BY id FOR SHARE"
        }
        enum LockRollups: PreparedText {
            static let sql = "SELECT pg_advisory_xact_lock(k) FROM unnest($1::BIGINT[]) WITH ORDINALITY AS t(k, n) ORDER BY n"
        }
        enum LockInvitations: PreparedText {
            static let sql = "SELECT 1 FROM invitation WHERE id = ANY($1::BIGINT[]) ORDER BY id FOR UPDATE"
        }
        enum LockResponses: PreparedText {
            static let sql = """
                SELECT s.id, s.round_id, s.rep_id FROM response s
                JOIN unnest($1::BIGINT[], $2::BIGINT[]) AS k(round_id, rep_id) ON s.round_id = k.round_id AND s.rep_id = k.rep_id
                ORDER BY s.id FOR UPDATE OF s
                """
        }
        enum Replace: PreparedText {
            static let sql = """
                UPDATE response s SET submitted_at = u.at, morale = CASE WHEN u.has_morale THEN u.morale END,
                       enps = CASE WHEN u.has_enps THEN u.enps END, source = 'web'
                FROM unnest($1::BIGINT[], $2::TEXT[], $3::DOUBLE PRECISION[], $4::BOOLEAN[], $5::INTEGER[], $6::BOOLEAN[])
                     AS u(id, at, morale, has_morale, enps, has_enps)
                WHERE s.id = u.id
                """
        }
        enum DeleteAnswers: PreparedText { static let sql = "DELETE FROM answer WHERE response_id = ANY($1::BIGINT[])" }
        enum Add: PreparedText {
            static let sql = """
                INSERT INTO response (round_id, rep_id, team, manager_email, region, submitted_at, morale, enps, source)
                SELECT round_id, rep_id, CASE WHEN has_team THEN team END, CASE WHEN has_manager THEN manager END,
                       CASE WHEN has_region THEN region END, at, CASE WHEN has_morale THEN morale END,
                       CASE WHEN has_enps THEN enps END, 'web'
                FROM unnest($1::BIGINT[], $2::BIGINT[], $3::TEXT[], $4::BOOLEAN[], $5::TEXT[], $6::BOOLEAN[], $7::TEXT[], $8::BOOLEAN[],
                            $9::TEXT[], $10::DOUBLE PRECISION[], $11::BOOLEAN[], $12::INTEGER[], $13::BOOLEAN[])
                     AS u(round_id, rep_id, team, has_team, manager, has_manager, region, has_region, at, morale, has_morale, enps, has_enps)
                RETURNING id, round_id, rep_id
                """
        }
        enum AddAnswers: PreparedText {
            static let sql = """
                INSERT INTO answer (response_id, question_id, number, text)
                SELECT rid, q, CASE WHEN has_n THEN n END, CASE WHEN has_n THEN NULL ELSE t END
                FROM unnest($1::BIGINT[], $2::TEXT[], $3::INTEGER[], $4::BOOLEAN[], $5::TEXT[]) AS u(rid, q, n, has_n, t)
                """
        }
        enum MarkAnswered: PreparedText { static let sql = "UPDATE invitation SET answered = TRUE WHERE id = ANY($1::BIGINT[])" }
    }

    /// The advisory locks of identified answer batches: this, with a round's id in its low bits.
    static let answerBatchLock: Int64 = 0x7075_6c73 << 32

    struct LinkKey: Hashable {
        var round: Int64, rep: Int64
        init(_ round: Int64, _ rep: Int64) { self.round = round; self.rep = rep }
    }

    /// The columns of a batch of answers, as arrays (PostgreSQL's arrays from Swift hold
    /// no NULL, so each column that may be one has a flag beside it).
    struct Figures {
        var stamps: [String] = [], morale: [Double] = [], hasMorale: [Bool] = [], enps: [Int] = [], hasENPS: [Bool] = []
        var teams: [String] = [], hasTeam: [Bool] = [], managers: [String] = [], hasManager: [Bool] = []
        var regions: [String] = [], hasRegion: [Bool] = []

        init(_ batch: [AnswerSubmission]) {
            for s in batch {
                let definition = s.invitation.definition, keys = s.invitation.keys
                let m = definition.morale(of: s.answers), e = definition.enpsQuestion.flatMap { s.answers[$0.id]?.number }
                stamps.append(Timestamp.string(s.now))
                morale.append(m ?? 0); hasMorale.append(m != nil)
                enps.append(e ?? 0); hasENPS.append(e != nil)
                teams.append(keys.team ?? ""); hasTeam.append(keys.team != nil)
                managers.append(keys.managerEmail ?? ""); hasManager.append(keys.managerEmail != nil)
                regions.append(keys.region ?? ""); hasRegion.append(keys.region != nil)
            }
        }
    }

    /// The answers of many responses in one statement.
    static func insertAnswers(_ all: [(responseID: Int64, answers: [String: AnswerValue])], on c: PostgresConnection, logger: Logger) async throws {
        var rids: [Int64] = [], questions: [String] = [], numbers: [Int] = [], hasNumber: [Bool] = [], texts: [String] = []
        for (rid, answers) in all {
            for (question, value) in answers.sorted(by: { $0.key < $1.key }) {
                rids.append(rid); questions.append(question)
                numbers.append(value.number ?? 0); hasNumber.append(value.number != nil)
                texts.append(value.text ?? "")
            }
        }
        guard !rids.isEmpty else { return }
        try await c.run(Batch.AddAnswers.self, binds(rids, questions, numbers, hasNumber, texts), logger: logger)
    }

    static func releaseExpiredHolds(now: Date, on c: PostgresConnection, logger: Logger) async throws {
        let stamp = Timestamp.string(now)
        try await c.query("""
            UPDATE invitation SET held_by = NULL WHERE held_by IS NOT NULL
              AND held_by NOT IN (SELECT id FROM answer_hold_lease WHERE expires_at > \(stamp))
            """, logger: logger)
        try await c.query("DELETE FROM answer_hold_lease WHERE expires_at <= \(stamp)", logger: logger)
    }

    /// Creates or renews a lease; whether it was there before.
    static func upsertLease(_ id: String, expires: Date, on c: PostgresConnection, logger: Logger) async throws -> Bool {
        let alive = try await c.query("SELECT 1 FROM answer_hold_lease WHERE id = \(id) FOR UPDATE", logger: logger).collect().isEmpty == false
        try await c.query("""
            INSERT INTO answer_hold_lease (id, expires_at) VALUES (\(id), \(Timestamp.string(expires)))
            ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at
            """, logger: logger)
        return alive
    }

    public func holdAnonymousAnswer(_ invitation: Invitation, lease: String, expires: Date, promised: Int, renewing: Bool,
                                    now: Date) async throws(PulseError) -> (outcome: WebAnswerOutcome, leaseAlive: Bool) {
        let held = try await run {
            try await client.withTransaction(logger: logger) { c -> Held in
                let alive = try await Self.upsertLease(lease, expires: expires, on: c, logger: logger)
                try await Self.releaseExpiredHolds(now: now, on: c, logger: logger)
                let leaseAlive = alive || !renewing
                guard try await Self.isOpen(invitation, on: c, now: now, logger: logger) else { return Held(outcome: .closed, leaseAlive: leaseAlive) }
                let stamp = Timestamp.string(now)
                let taken = try await c.query("""
                    SELECT i.answered OR (i.held_by IS NOT NULL AND EXISTS (SELECT 1 FROM answer_hold_lease l WHERE l.id = i.held_by AND l.expires_at > \(stamp)))
                    FROM invitation i WHERE i.id = \(invitation.id) FOR UPDATE
                    """, logger: logger).collect().first?.decode(Bool.self) ?? true
                if taken { return Held(outcome: .alreadyRecorded, leaseAlive: leaseAlive) }
                try await c.query("UPDATE invitation SET held_by = \(lease) WHERE id = \(invitation.id)", logger: logger)
                try await c.query("""
                    UPDATE round SET min_group_size = GREATEST(COALESCE(min_group_size, 0), \(promised)) WHERE id = \(invitation.round.id)
                    """, logger: logger)
                return Held(outcome: .stored(firstTime: true), leaseAlive: leaseAlive)
            }
        }
        return (held.outcome, held.leaseAlive)
    }

    struct Held: Sendable {
        var outcome: WebAnswerOutcome
        var leaseAlive: Bool
    }

    public func writeHeldBatch(_ all: [HeldAnswer], lease: String, threshold: Int) async throws(PulseError) -> Int {
        try await run {
            try await client.withTransaction(logger: logger) { c -> Int in
                guard try await !c.query("SELECT 1 FROM answer_hold_lease WHERE id = \(lease) FOR UPDATE", logger: logger).collect().isEmpty
                else { return 0 }
                var batch: [HeldAnswer] = []
                var seen: Set<Int64> = []
                for a in all.reversed() where seen.insert(a.invitationID).inserted {
                    let mine = try await c.query("""
                        SELECT held_by = \(lease) AND NOT answered FROM invitation WHERE id = \(a.invitationID) FOR UPDATE
                        """, logger: logger).collect().first?.decode(Bool?.self) ?? nil
                    if mine == true { batch.append(a) }
                }
                guard let tags = AnonymousCells.tags(batch.map(\.keys), threshold: threshold) else { return 0 }
                var answers: [(responseID: Int64, answers: [String: AnswerValue])] = []
                for i in Array(batch.indices).shuffled() {
                    let a = batch[i], keys = tags[i]
                    let id = Int64.random(in: 1...Int64.max)
                    try await c.query("""
                        INSERT INTO response (id, round_id, rep_id, team, manager_email, region, submitted_at, morale, enps, source)
                        VALUES (\(id), \(a.roundID), NULL, \(keys.team), \(keys.managerEmail), \(keys.region), NULL, \(a.morale), \(a.enps), 'web')
                        """, logger: logger)
                    answers.append((id, a.answers))
                }
                // In the same shuffled order as the responses.
                try await Self.insertAnswers(answers, on: c, logger: logger)
                for a in batch.shuffled() {
                    try await c.query("UPDATE invitation SET answered = TRUE, held_by = NULL WHERE id = \(a.invitationID)", logger: logger)
                }
                return batch.count
            }
        }
    }

    public func discardHeldAnswers(_ held: [HeldAnswer], roundID: Int64) async throws(PulseError) {
        try await run {
            try await client.withTransaction(logger: logger) { c in
                for a in held {
                    try await c.query("UPDATE invitation SET answered = TRUE, held_by = NULL WHERE id = \(a.invitationID)", logger: logger)
                }
                try await c.query("UPDATE round SET answers_not_kept = answers_not_kept + \(held.count) WHERE id = \(roundID)", logger: logger)
            }
        }
    }

    public func releaseHolds(_ invitationIDs: [Int64], lease: String) async throws(PulseError) {
        try await run {
            try await client.withTransaction(logger: logger) { c in
                for id in invitationIDs {
                    try await c.query("UPDATE invitation SET held_by = NULL WHERE id = \(id) AND held_by = \(lease)", logger: logger)
                }
            }
        }
    }

    public func renewLease(_ id: String, expires: Date, now: Date, renewing: Bool) async throws(PulseError) -> Bool {
        try await run {
            try await client.withTransaction(logger: logger) { c -> Bool in
                let alive = try await Self.upsertLease(id, expires: expires, on: c, logger: logger)
                try await Self.releaseExpiredHolds(now: now, on: c, logger: logger)
                return alive || !renewing
            }
        }
    }

    public func endLease(_ id: String) async throws(PulseError) {
        try await run {
            try await client.withTransaction(logger: logger) { c in
                try await c.query("UPDATE invitation SET held_by = NULL WHERE held_by = \(id)", logger: logger)
                try await c.query("DELETE FROM answer_hold_lease WHERE id = \(id)", logger: logger)
            }
        }
    }

    public func heldRoundStates(_ roundIDs: [Int64], now: Date) async throws(PulseError) -> [Int64: HeldRoundState] {
        try await run {
            var out: [Int64: HeldRoundState] = [:]
            for id in roundIDs { out[id] = .gone }
            guard !roundIDs.isEmpty else { return out }
            let stamp = Timestamp.string(now)
            for try await (id, ended) in try await client.query("""
                SELECT id, closed_at IS NOT NULL OR (closes_at IS NOT NULL AND closes_at <= \(stamp)) FROM round WHERE id = ANY(\(roundIDs))
                """, logger: logger).decode((Int64, Bool).self) {
                out[id] = ended ? .ended : .open
            }
            return out
        }
    }

    public func checkHealth() async throws(PulseError) {
        _ = try await database.schemaVersion()
    }
}

/// The failed look-ups of every server on the database, counted in one table.
extension PostgresAnswerStore: LookUpLimitStore {
    public func recordFailedLookUp(address: String, now: Date, window: TimeInterval, max: Int) async throws(PulseError) -> TimeInterval? {
        let stamp = Timestamp.string(now), cutoff = Timestamp.string(now.addingTimeInterval(-window))
        let logger = self.logger
        return try await run {
            try await client.withTransaction(logger: logger) { c -> TimeInterval? in
                try await c.query("DELETE FROM look_up_failure WHERE at <= \(cutoff)", logger: logger)
                let recent = try await c.query("""
                    SELECT at FROM look_up_failure WHERE address = \(address) ORDER BY at DESC LIMIT \(max)
                    """, logger: logger).collect().map { try $0.decode(String.self) }
                try await c.query("INSERT INTO look_up_failure (address, at) VALUES (\(address), \(stamp))", logger: logger)
                guard recent.count >= max, let oldest = recent.last.flatMap(Timestamp.parse) else { return nil }
                return Swift.max(1, window - now.timeIntervalSince(oldest))
            }
        }
    }
}
