import Foundation
import Logging
import PostgresNIO
import PulseCore
import PulsePostgres
import Testing
@testable import PulseStore

/// The storage contract of `AnswerStore`, through the protocol only: every engine runs
/// these unchanged. PostgreSQL runs where `PULSE_TEST_POSTGRES` names a server
/// (`scripts/test` starts a throwaway cluster for it); under `CI=true` it must.
@Suite struct AnswerStoreContract {
    static let now = Date(timeIntervalSince1970: 1_795_440_000)
    let key = TokenKey(bytes: Data(repeating: 7, count: 32))

    /// An engine with eight reps (five in east, three in west) invited to one round of
    /// the shipped anonymous eNPS survey; their tokens by email, and what the test reads
    /// of the engine's tables.
    struct Seeded {
        var store: any AnswerStore
        var roster: any RosterStore
        var tokens: [String: String]
        /// Responses, answered invitations, held invitations.
        var counts: @Sendable () async throws -> Counts
        var closeRound: @Sendable () async throws -> Void
        var answersNotKept: @Sendable () async throws -> Int
        /// The rollups checked against the raw rows (`pulse doctor`'s check).
        var rollups: @Sendable () async throws -> RollupCheck
        /// Each stored answer row as its response's eNPS and the answer's question and number, sorted.
        var answerRows: @Sendable () async throws -> [String]
    }

    struct Counts: Equatable, Sendable, CustomStringConvertible {
        var responses: Int, answered: Int, held: Int
        init(_ r: Int, _ a: Int, _ h: Int) { responses = r; answered = a; held = h }
        var description: String { "(\(responses), \(answered), \(held))" }
    }

    static let postgresURL = ProcessInfo.processInfo.environment["PULSE_TEST_POSTGRES"].flatMap { $0.isEmpty ? nil : $0 }
    static let engines: [String] = ["sqlite"] + (postgresURL == nil ? [] : ["postgres"])

    @Test func postgresRunsInCI() {
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            #expect(Self.postgresURL != nil, "CI runs the contract on PostgreSQL too: scripts/test sets PULSE_TEST_POSTGRES")
        }
    }

    func seeded(_ engine: String) async throws -> Seeded {
        engine == "sqlite" ? try seededSQLite() : try await seededPostgres()
    }

    func seededSQLite() throws -> Seeded {
        let db = try AppDatabase.inMemory()
        var roster = "email,name,team,manager_email,region\n"
        for i in 0..<8 { roster += "r\(i)@x.org,R\(i),\(i < 5 ? "east" : "west"),m@x.org,APAC\n" }
        _ = try db.importRoster(try CSVReader(bytes: Array(roster.utf8), file: "roster.csv"), now: Self.now)
        let survey = try SurveyDefinition.load(yaml: DefaultSurveys.enps, file: "enps.yaml")
        var tokens: [String: String] = [:]
        _ = try db.queueInvitations(survey: survey, period: Period("2026-Q4")!, team: nil, closesAt: Self.now.addingTimeInterval(7 * 86_400),
                                    minGroupSize: 5, key: key, now: Self.now, dryRun: false) { draft in
            tokens[draft.rep.email] = draft.token
            return RenderedMessage(messageID: "m\(draft.invitationID)@x", sender: "p@x.example", recipient: draft.rep.email,
                                   subject: "s", data: Data("x".utf8))
        }
        return Seeded(store: SQLiteAnswerStore(db), roster: SQLiteAnswerStore(db), tokens: tokens, counts: {
            try db.dbWriter.read { d in
                Counts(try Int.fetchOne(d, sql: "SELECT COUNT(*) FROM response")!,
                       try Int.fetchOne(d, sql: "SELECT COUNT(*) FROM invitation WHERE answered")!,
                       try Int.fetchOne(d, sql: "SELECT COUNT(*) FROM invitation WHERE held_by IS NOT NULL")!)
            }
        }, closeRound: {
            _ = try db.closeRound(survey: "enps", period: Period("2026-Q4")!, now: Self.now)
        }, answersNotKept: {
            try db.dbWriter.read { d in try Int.fetchOne(d, sql: "SELECT answers_not_kept FROM round")! }
        }, rollups: { try db.rollupCheck() }, answerRows: {
            try db.dbWriter.read { d in
                try String.fetchAll(d, sql: """
                    SELECT r.enps || ' ' || a.question_id || '=' || COALESCE(a.number, 'null') || COALESCE(' ' || a.text, '')
                    FROM answer a JOIN response r ON r.id = a.response_id
                    """).sorted()
            }
        })
    }

    /// A database of its own on the test server, created empty and migrated by Pulse.
    static func freshPostgres() async throws -> PulsePostgres.PostgresDatabase {
        let base = try PostgresDatabase.Location(url: Self.postgresURL!)
        let logger = { var l = Logger(label: "test"); l.logLevel = .critical; return l }()
        let name = "t" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let admin = PostgresClient(configuration: .init(host: base.host, port: base.port, username: base.user, password: nil,
                                                        database: base.database, tls: .disable), backgroundLogger: logger)
        let adminRun = Task { await admin.run() }
        try await admin.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
        adminRun.cancel()
        var location = base
        location.database = name
        return try await PulsePostgres.PostgresDatabase(location, password: nil)
    }

    /// A database of its own on the test server, migrated by Pulse, seeded by SQL.
    func seededPostgres() async throws -> Seeded {
        let logger = { var l = Logger(label: "test"); l.logLevel = .critical; return l }()
        let db = try await Self.freshPostgres()
        let c = db.client
        let survey = try SurveyDefinition.load(yaml: DefaultSurveys.enps, file: "enps.yaml")
        let stamp = Timestamp.string(Self.now), closes = Timestamp.string(Self.now.addingTimeInterval(7 * 86_400))
        try await c.query("INSERT INTO survey (id, title, anonymity) VALUES ('enps', 'eNPS', 'anonymous')", logger: logger)
        let version = try await c.query("""
            INSERT INTO survey_version (survey_id, number, definition, registered_at) VALUES ('enps', 1, \(survey.canonicalJSON()), \(stamp)) RETURNING id
            """, logger: logger).collect().first!.decode(Int64.self)
        let period = Period("2026-Q4")!
        let round = try await c.query("""
            INSERT INTO round (survey_id, survey_version_id, period, period_start, period_end, source, opened_at, closes_at, min_group_size)
            VALUES ('enps', \(version), \(period.description), \(period.start.description), \(period.end.description), 'sent', \(stamp), \(closes), 5)
            RETURNING id
            """, logger: logger).collect().first!.decode(Int64.self)
        var tokens: [String: String] = [:]
        for i in 0..<8 {
            let email = "r\(i)@x.org", team = i < 5 ? "east" : "west"
            let rep = try await c.query("""
                INSERT INTO rep (email, name, team, manager_email, region, created_at, updated_at)
                VALUES (\(email), \("R\(i)"), \(team), 'm@x.org', 'APAC', \(stamp), \(stamp)) RETURNING id
                """, logger: logger).collect().first!.decode(Int64.self)
            let invitation = try await c.query("""
                INSERT INTO invitation (round_id, rep_id, team, manager_email, region, created_at, sent_at)
                VALUES (\(round), \(rep), \(team), 'm@x.org', 'APAC', \(stamp), \(stamp)) RETURNING id
                """, logger: logger).collect().first!.decode(Int64.self)
            let token = key.token(invitationID: invitation, roundID: round)
            try await c.query("UPDATE invitation SET token_hash = \(tokenHash(token)) WHERE id = \(invitation)", logger: logger)
            tokens[email] = token
        }
        return Seeded(store: PostgresAnswerStore(db), roster: PostgresAnswerStore(db), tokens: tokens, counts: {
            let r = try await c.query("""
                SELECT (SELECT COUNT(*) FROM response), (SELECT COUNT(*) FROM invitation WHERE answered),
                       (SELECT COUNT(*) FROM invitation WHERE held_by IS NOT NULL)
                """, logger: logger).collect().first!.decode((Int, Int, Int).self)
            return Counts(r.0, r.1, r.2)
        }, closeRound: {
            try await c.query("UPDATE round SET closed_at = \(stamp)", logger: logger)
        }, answersNotKept: {
            try await c.query("SELECT answers_not_kept FROM round", logger: logger).collect().first!.decode(Int.self)
        }, rollups: { try await PostgresAnswerStore(db).rollupCheck() }, answerRows: {
            var out: [String] = []
            for try await line in try await c.query("""
                SELECT r.enps || ' ' || a.question_id || '=' || COALESCE(a.number::TEXT, 'null') || COALESCE(' ' || a.text, '')
                FROM answer a JOIN response r ON r.id = a.response_id
                """, logger: logger).decode(String.self) { out.append(line) }
            return out.sorted()
        })
    }

    func held(_ s: Seeded, _ emails: [String], lease: String) async throws -> [HeldAnswer] {
        var out: [HeldAnswer] = []
        for (n, e) in emails.enumerated() {
            let invitation = try #require(try await s.store.invitation(token: s.tokens[e]!))
            let r = try await s.store.holdAnonymousAnswer(invitation, lease: lease, expires: Self.now.addingTimeInterval(60), promised: 5,
                                                          renewing: n > 0, now: Self.now)
            #expect(r.outcome == .stored(firstTime: true) && r.leaseAlive, "\(e)")
            out.append(HeldAnswer(invitationID: invitation.id, roundID: invitation.round.id, keys: invitation.keys,
                                  answers: ["enps": .number(n)], morale: nil, enps: n))
        }
        return out
    }

    @Test(arguments: engines) func aHeldAnswerIsNeitherWrittenNorTakenTwice(engine: String) async throws {
        let s = try await seeded(engine)
        let answers = try await held(s, ["r0@x.org"], lease: "a")
        #expect(try await s.counts() == Counts(0, 0, 1))
        let again = try #require(try await s.store.invitation(token: s.tokens["r0@x.org"]!))
        #expect(again.isRecordedAnonymously(at: Self.now), "the link says recorded while the answer is held")
        let second = try await s.store.holdAnonymousAnswer(again, lease: "b", expires: Self.now.addingTimeInterval(60), promised: 5,
                                                           renewing: false, now: Self.now)
        #expect(second.outcome == .alreadyRecorded)
        #expect(answers.count == 1)
    }

    @Test(arguments: engines) func batchesAreWrittenWholeAndNeverUnderTheThreshold(engine: String) async throws {
        let s = try await seeded(engine)
        let answers = try await held(s, (0..<6).map { "r\($0)@x.org" }, lease: "a")
        #expect(try await s.store.writeHeldBatch(Array(answers.prefix(4)), lease: "a", threshold: 5) == 0)
        #expect(try await s.counts() == Counts(0, 0, 6), "four are under the threshold: nothing written")
        // Twice the same invitation counts once.
        #expect(try await s.store.writeHeldBatch(answers + [answers[0]], lease: "a", threshold: 5) == 6)
        #expect(try await s.counts() == Counts(6, 6, 0), "six answers with exactly their six flags")
        #expect(try await s.answerRows() == (0..<6).map { "\($0) enps=\($0)" }, "each response with its own answer, once")
        // The batch is in the rollup of answers, in its transaction: one atom of six.
        let rollups = try await s.rollups()
        #expect(rollups.differences.isEmpty && rollups.responseGroups == 1, "\(rollups)")
    }

    @Test(arguments: engines) func aLeaseLetGoLosesItsHolds(engine: String) async throws {
        let s = try await seeded(engine)
        let answers = try await held(s, (0..<5).map { "r\($0)@x.org" }, lease: "a")
        // Another server, two minutes on, lets the expired lease go.
        #expect(try await s.store.renewLease("b", expires: Self.now.addingTimeInterval(180), now: Self.now.addingTimeInterval(120),
                                             renewing: false))
        #expect(try await !s.store.renewLease("a", expires: Self.now.addingTimeInterval(180), now: Self.now.addingTimeInterval(120),
                                              renewing: true), "a finds its lease gone")
        #expect(try await s.store.writeHeldBatch(answers, lease: "a", threshold: 5) == 0, "nothing it held is written")
        #expect(try await s.counts() == Counts(0, 0, 0))
        let reopened = try #require(try await s.store.invitation(token: s.tokens["r0@x.org"]!))
        #expect(!reopened.isRecordedAnonymously(at: Self.now.addingTimeInterval(120)), "the link opens the form again")
    }

    @Test(arguments: engines) func aRoundThatEndsUnderTheThresholdKeepsNothing(engine: String) async throws {
        let s = try await seeded(engine)
        let answers = try await held(s, ["r0@x.org", "r1@x.org"], lease: "a")
        let round = answers[0].roundID
        #expect(try await s.store.heldRoundStates([round, 999], now: Self.now) == [round: .open, 999: .gone])
        try await s.closeRound()
        #expect(try await s.store.heldRoundStates([round], now: Self.now) == [round: .ended])
        try await s.store.discardHeldAnswers(answers, roundID: round)
        #expect(try await s.counts() == Counts(0, 2, 0))
        #expect(try await s.answersNotKept() == 2)
    }

    @Test(arguments: engines) func releasedHoldsCountAsNotAnswered(engine: String) async throws {
        let s = try await seeded(engine)
        let answers = try await held(s, ["r0@x.org", "r1@x.org"], lease: "a")
        try await s.store.releaseHolds(answers.map(\.invitationID), lease: "a")
        #expect(try await s.counts() == Counts(0, 0, 0))
        try await s.store.endLease("a")
        try await s.store.checkHealth()
    }
}

/// The PostgreSQL schema's migrations: a database migrated by a newer Pulse is refused,
/// and opening a migrated one again applies nothing twice.
@Suite struct PostgresMigrationTests {
    @Test func aSchemaFromANewerPulseIsRefused() async throws {
        guard let url = AnswerStoreContract.postgresURL else { return }
        let base = try PostgresDatabase.Location(url: url)
        let logger = { var l = Logger(label: "test"); l.logLevel = .critical; return l }()
        let name = "m" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let admin = PostgresClient(configuration: .init(host: base.host, port: base.port, username: base.user, password: nil,
                                                        database: base.database, tls: .disable), backgroundLogger: logger)
        let adminRun = Task { await admin.run() }
        defer { adminRun.cancel() }
        try await admin.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
        var location = base
        location.database = name
        let first = try await PostgresDatabase(location, password: nil)
        #expect(try await first.schemaVersion() == "v7-response-rollups")
        let again = try await PostgresDatabase(location, password: nil)
        #expect(try await again.schemaVersion() == "v7-response-rollups")
        try await first.client.query("INSERT INTO pulse_migration (id, applied_at) VALUES ('v99-from-the-future', 'now')", logger: logger)
        do {
            _ = try await PostgresDatabase(location, password: nil)
            Issue.record("opened a schema from a newer Pulse")
        } catch {
            #expect(error.description.contains("written by a newer version of Pulse") && error.description.contains("v99-from-the-future"),
                    "\(error)")
        }
    }
}

/// The storage contract of `RosterStore`, on every engine (the same seeded reps).
@Suite struct RosterStoreContract {
    let contract = AnswerStoreContract()
    static let now = Date(timeIntervalSince1970: 1_795_440_000)

    func file(_ text: String) throws -> RosterFile { try RosterFile(try CSVReader(bytes: Array(text.utf8), file: "roster.csv")) }

    @Test(arguments: AnswerStoreContract.engines) func anImportUpsertsByEmailAndLeavesAbsentColumns(engine: String) async throws {
        let s = try await contract.seeded(engine)
        // r0 changes team, r1 is as it was, NEW@x.org is new; the file has no region column.
        let summary = try await s.roster.importRoster(try file("""
            email,name,team,manager_email
            R0@x.org,R0,west,m@x.org
            r1@x.org,R1,east,m@x.org
            NEW@x.org,Nova,,m@x.org

            """), now: Self.now)
        #expect(summary.added == 1 && summary.updated == 1 && summary.unchanged == 1, "\(summary)")
        let r0 = try #require(try await s.roster.rep(email: "r0@X.org"))
        #expect(r0.team == "west" && r0.region == "APAC", "the absent region column left the region")
        let nova = try #require(try await s.roster.rep(email: "new@x.org"))
        #expect(nova.email == "new@x.org" && nova.team == nil && nova.active)
    }

    @Test(arguments: AnswerStoreContract.engines) func repsAreListedInOneOrderOnEveryEngine(engine: String) async throws {
        let s = try await contract.seeded(engine)
        _ = try await s.roster.importRoster(try file("email,name,team\nz@x.org,Z,\na@x.org,A,East\nb@x.org,B,east\n"), now: Self.now)
        let all = try await s.roster.reps(includeInactive: true, team: nil).map(\.email)
        #expect(all == ["z@x.org", "a@x.org", "b@x.org"] + (0..<5).map { "r\($0)@x.org" } + (5..<8).map { "r\($0)@x.org" }, "\(all)")
        #expect(try await s.roster.reps(includeInactive: true, team: "west").map(\.email) == ["r5@x.org", "r6@x.org", "r7@x.org"])
    }

    @Test(arguments: AnswerStoreContract.engines) func aDeactivatedRepStaysInactiveThroughAnImport(engine: String) async throws {
        let s = try await contract.seeded(engine)
        #expect(try await s.roster.setActive(email: "R2@x.org", active: false, now: Self.now))
        #expect(try await !s.roster.setActive(email: "r2@x.org", active: false, now: Self.now), "already inactive")
        let summary = try await s.roster.importRoster(try file("email,team\nr2@x.org,east\n"), now: Self.now)
        #expect(summary.inactive == ["r2@x.org"])
        #expect(try await s.roster.rep(email: "r2@x.org")?.active == false)
        #expect(try await !s.roster.reps(includeInactive: false, team: nil).contains { $0.email == "r2@x.org" })
        await #expect(throws: PulseError.self) { try await s.roster.setActive(email: "nobody@x.org", active: false, now: Self.now) }
        #expect(try await s.roster.setActive(email: "r2@x.org", active: true, now: Self.now))
    }
}
