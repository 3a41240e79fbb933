import Foundation
import PulseCore
import Testing
@testable import PulseStore

/// The storage contract of `AnswerStore`, through the protocol only: every engine runs
/// these unchanged (today the SQLite engine; the list grows with the engines).
@Suite struct AnswerStoreContract {
    static let now = Date(timeIntervalSince1970: 1_795_440_000)
    let key = TokenKey(bytes: Data(repeating: 7, count: 32))

    /// An engine with eight reps (five in east, three in west) invited to one round of
    /// the shipped anonymous eNPS survey; their tokens by email.
    struct Seeded {
        var store: any AnswerStore
        var tokens: [String: String]
        var database: AppDatabase
    }

    static let engines: [String] = ["sqlite"]

    func seeded(_ engine: String) throws -> Seeded {
        precondition(engine == "sqlite")
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
        return Seeded(store: SQLiteAnswerStore(db), tokens: tokens, database: db)
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

    func counts(_ s: Seeded) throws -> (responses: Int, answered: Int, held: Int) {
        try s.database.dbWriter.read { db in
            (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM response")!,
             try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM invitation WHERE answered")!,
             try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM invitation WHERE held_by IS NOT NULL")!)
        }
    }

    @Test(arguments: engines) func aHeldAnswerIsNeitherWrittenNorTakenTwice(engine: String) async throws {
        let s = try seeded(engine)
        let answers = try await held(s, ["r0@x.org"], lease: "a")
        #expect(try counts(s) == (0, 0, 1))
        let again = try #require(try await s.store.invitation(token: s.tokens["r0@x.org"]!))
        #expect(again.isRecordedAnonymously(at: Self.now), "the link says recorded while the answer is held")
        let second = try await s.store.holdAnonymousAnswer(again, lease: "b", expires: Self.now.addingTimeInterval(60), promised: 5,
                                                           renewing: false, now: Self.now)
        #expect(second.outcome == .alreadyRecorded)
        #expect(answers.count == 1)
    }

    @Test(arguments: engines) func batchesAreWrittenWholeAndNeverUnderTheThreshold(engine: String) async throws {
        let s = try seeded(engine)
        let answers = try await held(s, (0..<6).map { "r\($0)@x.org" }, lease: "a")
        #expect(try await s.store.writeHeldBatch(Array(answers.prefix(4)), lease: "a", threshold: 5) == 0)
        #expect(try counts(s) == (0, 0, 6), "four are under the threshold: nothing written")
        // Twice the same invitation counts once.
        #expect(try await s.store.writeHeldBatch(answers + [answers[0]], lease: "a", threshold: 5) == 6)
        #expect(try counts(s) == (6, 6, 0), "six answers with exactly their six flags")
    }

    @Test(arguments: engines) func aLeaseLetGoLosesItsHolds(engine: String) async throws {
        let s = try seeded(engine)
        let answers = try await held(s, (0..<5).map { "r\($0)@x.org" }, lease: "a")
        // Another server, two minutes on, lets the expired lease go.
        #expect(try await s.store.renewLease("b", expires: Self.now.addingTimeInterval(180), now: Self.now.addingTimeInterval(120),
                                             renewing: false))
        #expect(try await !s.store.renewLease("a", expires: Self.now.addingTimeInterval(180), now: Self.now.addingTimeInterval(120),
                                              renewing: true), "a finds its lease gone")
        #expect(try await s.store.writeHeldBatch(answers, lease: "a", threshold: 5) == 0, "nothing it held is written")
        #expect(try counts(s) == (0, 0, 0))
        let reopened = try #require(try await s.store.invitation(token: s.tokens["r0@x.org"]!))
        #expect(!reopened.isRecordedAnonymously(at: Self.now.addingTimeInterval(120)), "the link opens the form again")
    }

    @Test(arguments: engines) func aRoundThatEndsUnderTheThresholdKeepsNothing(engine: String) async throws {
        let s = try seeded(engine)
        let answers = try await held(s, ["r0@x.org", "r1@x.org"], lease: "a")
        let round = answers[0].roundID
        #expect(try await s.store.heldRoundStates([round, 999], now: Self.now) == [round: .open, 999: .gone])
        #expect(try s.database.closeRound(survey: "enps", period: Period("2026-Q4")!, now: Self.now))
        #expect(try await s.store.heldRoundStates([round], now: Self.now) == [round: .ended])
        try await s.store.discardHeldAnswers(answers, roundID: round)
        #expect(try counts(s) == (0, 2, 0))
        #expect(try s.database.answersNotKept(roundID: round) == 2)
    }

    @Test(arguments: engines) func releasedHoldsCountAsNotAnswered(engine: String) async throws {
        let s = try seeded(engine)
        let answers = try await held(s, ["r0@x.org", "r1@x.org"], lease: "a")
        try await s.store.releaseHolds(answers.map(\.invitationID), lease: "a")
        #expect(try counts(s) == (0, 0, 0))
        try await s.store.endLease("a")
        try await s.store.checkHealth()
    }
}
