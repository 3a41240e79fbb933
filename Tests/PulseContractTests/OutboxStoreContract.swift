import Foundation
import PulseCore
import PulsePostgres
import Synchronization
import Testing
@testable import PulseStore

/// The storage contract of `OutboxStore` and `RoundStore`, through the protocols only,
/// on every engine: invitations once per rep and round however many workers queue at
/// once, every message claimed by one worker, a dead worker's claims due again when
/// their lease ends, and the same rounds and outbox listed on every engine.
@Suite struct OutboxStoreContract {
    typealias Store = AnswerStore & RosterStore & OutboxStore & RoundStore
    static let now = Date(timeIntervalSince1970: 1_795_440_000)
    let key = TokenKey(bytes: Data(repeating: 9, count: 32))
    let survey = try! SurveyDefinition.load(yaml: DefaultSurveys.enps, file: "enps.yaml")
    let period = Period("2026-Q4")!

    /// An engine with twelve active reps (six in east, six in west) and one inactive.
    func engine(_ name: String) async throws -> any Store {
        let store: any Store = name == "sqlite"
            ? SQLiteAnswerStore(try AppDatabase.inMemory())
            : PostgresAnswerStore(try await AnswerStoreContract.freshPostgres())
        var roster = "email,name,team,manager_email\n"
        for i in 0..<13 { roster += "r\(String(format: "%02d", i))@x.org,R\(i),\(i % 2 == 0 ? "east" : "west"),m@x.org\n" }
        _ = try await store.importRoster(try RosterFile(try CSVReader(bytes: Array(roster.utf8), file: "roster.csv")), now: Self.now)
        _ = try await store.setActive(email: "r12@x.org", active: false, now: Self.now)
        return store
    }

    /// Renders a message and keeps the draft's token.
    final class Tokens: @unchecked Sendable {
        private let lock = NSLock()
        private var byEmail: [String: [String]] = [:]
        func add(_ email: String, _ token: String) { lock.withLock { byEmail[email, default: []].append(token) } }
        var all: [String: [String]] { lock.withLock { byEmail } }
    }

    func renderer(_ tokens: Tokens) -> MessageRenderer {
        { draft in
            tokens.add(draft.rep.email, draft.token)
            return RenderedMessage(messageID: "\(draft.kind.rawValue)-\(draft.invitationID)-\(draft.reminderNumber)@x.example",
                                   sender: "pulse@x.example", recipient: draft.rep.email, subject: "\(draft.survey.id) \(draft.period)",
                                   data: Data("token \(draft.token)".utf8))
        }
    }

    func request(team: String? = nil) -> InvitationRequest {
        InvitationRequest(survey: survey, period: period, team: team, closesAt: Self.now.addingTimeInterval(7 * 86_400), openDays: 7,
                          minGroupSize: 5)
    }

    @Test(arguments: AnswerStoreContract.engines) func fourWorkersQueueingAtOnceInviteEachRepOnce(engine name: String) async throws {
        let store = try await engine(name)
        let tokens = Tokens()
        let render = renderer(tokens)
        let summaries = try await withThrowingTaskGroup(of: QueueSummary.self) { group in
            for _ in 0..<4 {
                group.addTask { try await store.queueInvitations(request(), key: key, now: Self.now, dryRun: false, render: render) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(summaries.map(\.queued.count).reduce(0, +) == 12, "\(summaries.map(\.queued.count))")
        #expect(summaries.filter(\.roundCreated).count == 1)
        #expect(summaries.map(\.skipped).sorted() == [0, 12, 12, 12], "\(summaries.map(\.skipped))")
        #expect(tokens.all.count == 12 && tokens.all.values.allSatisfy { $0.count == 1 }, "the inactive rep is not invited")
        #expect(try await store.outboxCounts() == ["queued": 12])
        let summary = try #require(try await store.roundSummaries(survey: "enps").first)
        #expect(summary.round.minGroupSize == 5 && summary.invited == 0 && summary.version == 1)
        // The token in the message opens the rep's invitation.
        let token = try #require(tokens.all["r03@x.org"]?.first)
        #expect(try await store.invitation(token: token)?.rep.email == "r03@x.org")
    }

    @Test(arguments: AnswerStoreContract.engines) func aDryRunStoresNothingAndATeamNarrowsTheInvitations(engine name: String) async throws {
        let store = try await engine(name)
        let render = renderer(Tokens())
        let dry = try await store.queueInvitations(request(), key: key, now: Self.now, dryRun: true, render: render)
        #expect(dry.queued.count == 12 && dry.roundCreated)
        #expect(try await store.outboxCounts().isEmpty)
        #expect(try await store.rounds(survey: nil).isEmpty, "the dry run opened no round")
        let east = try await store.queueInvitations(request(team: "east"), key: key, now: Self.now, dryRun: false, render: render)
        #expect(east.queued.map(\.email) == ["r00@x.org", "r02@x.org", "r04@x.org", "r06@x.org", "r08@x.org", "r10@x.org"])
        await #expect(throws: PulseError.self) {
            _ = try await store.queueInvitations(request(team: "esat"), key: key, now: Self.now, dryRun: false, render: render)
        }
        #expect(try await store.queueInvitations(request(), key: key, now: Self.now, dryRun: false, render: render).queued.count == 6)
    }

    /// A round queued in chunks: each call queues at most its limit, in its own transaction
    /// (what it queued is there to claim before the next begins), says how many remain,
    /// and the next call goes on from there; four workers doing it at once still invite each rep once.
    @Test(arguments: AnswerStoreContract.engines) func aRoundQueuedInChunksInvitesEachRepOnce(engine name: String) async throws {
        let store = try await engine(name)
        let tokens = Tokens()
        let render = renderer(tokens)
        var limited = request()
        limited.limit = 5
        let first = try await store.queueInvitations(limited, key: key, now: Self.now, dryRun: false, render: render)
        #expect(first.queued.count == 5 && first.remaining == 7 && first.skipped == 0 && first.roundCreated)
        #expect(try await store.outboxCounts() == ["queued": 5], "the first chunk is committed on its own")
        let counts = Mutex<[Int]>([])
        let rest = try await store.queueInvitations(request(), chunk: 3, key: key, now: Self.now, dryRun: false, render: render,
                                                    committed: { n in counts.withLock { $0.append(n) } })
        #expect(counts.withLock { $0 } == [3, 6, 7], "three transactions of at most three")
        #expect(rest.queued.count == 7 && rest.skipped == 5 && rest.remaining == 0 && !rest.roundCreated)
        #expect(tokens.all.count == 12 && tokens.all.values.allSatisfy { $0.count == 1 })
        #expect(try await store.outboxCounts() == ["queued": 12])
        // Four workers at once over a fresh round, two at a time.
        let other = try await engine(name)
        let many = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<4 {
                group.addTask { try await other.queueInvitations(request(), chunk: 2, key: key, now: Self.now, dryRun: false,
                                                                 render: render).queued.count }
            }
            return try await group.reduce(0, +)
        }
        #expect(many == 12)
        #expect(try await other.outboxCounts() == ["queued": 12])
        // A dry run is one transaction, whatever the chunk.
        let dry = try await store.queueInvitations(request(), chunk: 1, key: key, now: Self.now, dryRun: true, render: render)
        #expect(dry.queued.isEmpty && dry.skipped == 12)
    }

    @Test(arguments: AnswerStoreContract.engines) func twoWorkersClaimEachMessageOnceAndADeadOnesLeaseEnds(engine name: String) async throws {
        let store = try await engine(name)
        _ = try await store.queueInvitations(request(), key: key, now: Self.now, dryRun: false, render: renderer(Tokens()))
        let claims = try await withThrowingTaskGroup(of: [QueuedMessage].self) { group in
            for _ in 0..<2 { group.addTask { try await store.claimDueMessages(limit: 7, now: Self.now, lease: 300) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let ids = claims.flatMap { $0.map(\.id) }
        #expect(ids.count == 12 && Set(ids).count == 12, "each message claimed once: \(claims.map { $0.map(\.id) })")
        #expect(claims.flatMap { $0 }.allSatisfy { $0.attempts == 1 && !$0.data.isEmpty })
        #expect(try await store.claimDueMessages(limit: 100, now: Self.now.addingTimeInterval(299), lease: 300).isEmpty,
                "claimed messages are not due while their lease runs")
        // One worker sends its messages; the other dies. Its claims are due when the lease ends.
        let (sent, lost) = (claims[0], claims[1])
        for m in sent { try await store.markSent(m.id, reply: "250 ok", now: Self.now) }
        let again = try await store.claimDueMessages(limit: 100, now: Self.now.addingTimeInterval(301), lease: 300)
        #expect(again.map(\.id).sorted() == lost.map(\.id).sorted() && again.allSatisfy { $0.attempts == 2 })
        // A retry not counted gives the attempt back; a failure is final.
        try await store.markRetry(again[0].id, error: "421 try later", at: Self.now.addingTimeInterval(400), countAttempt: false)
        try await store.markFailed(again[1].id, error: "550 no such user")
        for m in again.dropFirst(2) { try await store.markSent(m.id, reply: "250 ok", now: Self.now) }
        #expect(try await store.outboxCounts() == ["sent": 11 - 1, "queued": 1, "failed": 1])
        #expect(try await store.nextDueTime() == Self.now.addingTimeInterval(400))
        let entries = try await store.outbox(status: nil, limit: 100)
        #expect(entries.map(\.id) == entries.map(\.id).sorted(by: >), "latest first")
        let retried = try #require(entries.first { $0.id == again[0].id })
        #expect(retried.status == "queued" && retried.attempts == 1 && retried.lastError == "421 try later")
        #expect(try await store.outbox(status: "failed", limit: 10).map(\.lastError) == ["550 no such user"])
        let summary = try #require(try await store.roundSummaries(survey: nil).first)
        #expect(summary.invited == 10, "an invitation counts as sent once the server took it")
    }

    @Test(arguments: AnswerStoreContract.engines) func remindersReachOnlyWhoHasNotAnsweredAndIsNotHeld(engine name: String) async throws {
        let store = try await engine(name)
        let tokens = Tokens()
        _ = try await store.queueInvitations(request(), key: key, now: Self.now, dryRun: false, render: renderer(tokens))
        for m in try await store.claimDueMessages(limit: 100, now: Self.now, lease: 300) {
            try await store.markSent(m.id, reply: "250 ok", now: Self.now)
        }
        // r00 has an answer held by a live lease: no reminder reaches them.
        let later = Self.now.addingTimeInterval(3 * 86_400)
        let held = try #require(try await store.invitation(token: tokens.all["r00@x.org"]![0]))
        _ = try await store.holdAnonymousAnswer(held, lease: "L", expires: later.addingTimeInterval(60), promised: 5, renewing: false, now: later)
        let reminders = ReminderRequest(survey: "enps", period: period, max: 2, minDaysApart: 2)
        let plan = try await store.reminderPlan(reminders, now: later)
        #expect(plan.count == 11 && plan.allSatisfy { $0.reason == "due now" }, "\(plan.map(\.reason))")
        let queued = try await store.queueReminders(reminders, key: key, now: later, dryRun: false, render: renderer(tokens))
        #expect(queued.queued.map(\.email) == (1..<12).map { "r\(String(format: "%02d", $0))@x.org" })
        #expect(tokens.all["r05@x.org"]!.count == 2 && Set(tokens.all["r05@x.org"]!).count == 1, "a reminder carries the same link")
        #expect(try await store.queueReminders(reminders, key: key, now: later, dryRun: false, render: renderer(tokens)).queued.isEmpty,
                "not again within min_days_apart")
        let afterMax = try await store.reminderPlan(ReminderRequest(survey: "enps", period: period, max: 1, minDaysApart: 2), now: later)
        #expect(afterMax.first { $0.email == "r05@x.org" }?.reason == "none: 1 of 1 sent (reminders.max)")
    }

    @Test(arguments: AnswerStoreContract.engines) func roundsCloseByHandAndWhenTheirTimeIsUp(engine name: String) async throws {
        let store = try await engine(name)
        let render = renderer(Tokens())
        _ = try await store.queueInvitations(request(), key: key, now: Self.now, dryRun: false, render: render)
        let weekly = InvitationRequest(survey: try SurveyDefinition.load(yaml: DefaultSurveys.weeklyPulse, file: "weekly.yaml"),
                                       period: Period("2026-W48")!, closesAt: Self.now.addingTimeInterval(2 * 86_400), openDays: 2)
        _ = try await store.queueInvitations(weekly, key: key, now: Self.now, dryRun: false, render: render)
        #expect(try await store.openSentRounds(now: Self.now).map(\.period.description).sorted() == ["2026-Q4", "2026-W48"])
        #expect(try await store.closeDueRounds(now: Self.now.addingTimeInterval(86_400), dryRun: false).isEmpty)
        #expect(try await store.closeDueRounds(now: Self.now.addingTimeInterval(3 * 86_400), dryRun: true) == ["weekly-pulse 2026-W48"])
        #expect(try await store.closeDueRounds(now: Self.now.addingTimeInterval(3 * 86_400), dryRun: false) == ["weekly-pulse 2026-W48"])
        #expect(try await store.openSentRounds(now: Self.now.addingTimeInterval(3 * 86_400)).map(\.survey) == ["enps"])
        #expect(try await store.closeRound(survey: "enps", period: period, now: Self.now))
        #expect(try await !store.closeRound(survey: "enps", period: period, now: Self.now), "already closed")
        await #expect(throws: PulseError.self) { _ = try await store.closeRound(survey: "enps", period: Period("2025-Q1")!, now: Self.now) }
        await #expect(throws: PulseError.self, "a closed round takes no more invitations") {
            _ = try await store.queueInvitations(request(), key: key, now: Self.now, dryRun: false, render: render)
        }
        let rounds = try await store.rounds(survey: nil)
        #expect(rounds.map(\.surveyID) == ["enps", "weekly-pulse"] || rounds.map(\.surveyID) == ["weekly-pulse", "enps"])
        #expect(rounds.allSatisfy { $0.closedAt != nil })
    }

    /// One round of the identified weekly pulse, open two days; the tokens by email.
    func weeklyRound(_ store: any Store, week: String = "2026-W48") async throws -> Tokens {
        let tokens = Tokens()
        let weekly = InvitationRequest(survey: try SurveyDefinition.load(yaml: DefaultSurveys.weeklyPulse, file: "weekly.yaml"),
                                       period: Period(week)!, closesAt: Self.now.addingTimeInterval(2 * 86_400), openDays: 2)
        _ = try await store.queueInvitations(weekly, key: key, now: Self.now, dryRun: false, render: renderer(tokens))
        return tokens
    }

    @Test(arguments: AnswerStoreContract.engines) func answersThroughOneLinkAtOnceLeaveOneResponse(engine name: String) async throws {
        let store = try await engine(name)
        let tokens = try await weeklyRound(store)
        let invitation = try #require(try await store.invitation(token: tokens.all["r04@x.org"]![0]))
        let outcomes = try await withThrowingTaskGroup(of: WebAnswerOutcome.self) { group in
            for n in 1...8 {
                group.addTask {
                    try await store.submitAnswers(invitation, answers: ["energy": .number(n % 5 + 1), "workload": .number(3), "support": .number(4),
                                                                        "quota_confidence": .number(2)], now: Self.now)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 == .stored(firstTime: true) }.count == 1, "\(outcomes)")
        #expect(outcomes.filter { $0 == .stored(firstTime: false) }.count == 7, "\(outcomes)")
        let found = try #require(try await store.invitationAndAnswers(token: tokens.all["r04@x.org"]![0]))
        #expect(found.invitation.answered && found.answers?.count == 4 && found.answers?["workload"] == .number(3))
        #expect(try await store.roundSummaries(survey: "weekly-pulse").first?.responses == 1)
    }

    /// A group commit of identified answers: each checked on its own, in order (a second
    /// answer through one link replaces the first), one outcome each; several servers'
    /// batches over the same links at once neither deadlock nor write a response twice.
    @Test(arguments: AnswerStoreContract.engines) func answersInOneBatchAreEachCheckedAndStoredInOrder(engine name: String) async throws {
        let store = try await engine(name)
        let tokens = try await weeklyRound(store)
        func answers(_ energy: Int) -> [String: AnswerValue] {
            ["energy": .number(energy), "workload": .number(3), "support": .number(4), "quota_confidence": .number(2)]
        }
        let emails = (0..<12).map { "r\(String(format: "%02d", $0))@x.org" }
        var invitations: [Invitation] = []
        for e in emails { invitations.append(try #require(try await store.invitation(token: tokens.all[e]![0]))) }
        let late = Self.now.addingTimeInterval(3 * 86_400)
        let outcomes = try await store.submitAnswers([
            AnswerSubmission(invitations[0], answers: answers(1), now: Self.now),
            AnswerSubmission(invitations[1], answers: answers(2), now: late),
            AnswerSubmission(invitations[0], answers: answers(5), now: Self.now),
        ])
        #expect(outcomes == [.stored(firstTime: true), .closed, .stored(firstTime: false)])
        #expect(try await store.invitationAndAnswers(token: tokens.all[emails[0]]![0])?.answers?["energy"] == .number(5))
        #expect(try await store.invitationAndAnswers(token: tokens.all[emails[1]]![0])?.answers == nil, "its window had ended")
        // Four servers' batches over the same twelve links, each in its own order.
        let all = invitations
        let results = try await withThrowingTaskGroup(of: [WebAnswerOutcome].self) { group in
            for w in 0..<4 {
                group.addTask {
                    let order = w % 2 == 0 ? all : all.reversed()
                    return try await store.submitAnswers(order.map { AnswerSubmission($0, answers: answers(w + 1), now: Self.now) })
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(results.count == 48 && results.filter { $0 == .stored(firstTime: true) }.count == 11, "\(results)")
        #expect(try await store.roundSummaries(survey: "weekly-pulse").first?.responses == 12)
        // One batch that replaces some answers, adds none, keeps a comment, drops an
        // answer a link no longer gives, and takes the same link twice: what is stored is
        // each link's last answer, whole, and the rollups agree with the rows.
        var edit = answers(9)
        edit["comment"] = .text("ยังไหวอยู่ — fine, 'quoted' \\N")
        edit["workload"] = nil
        let second = try await store.submitAnswers([
            AnswerSubmission(invitations[2], answers: answers(2), now: Self.now),
            AnswerSubmission(invitations[3], answers: edit, now: Self.now),
            AnswerSubmission(invitations[2], answers: answers(7), now: Self.now.addingTimeInterval(60)),
        ])
        #expect(second == [.stored(firstTime: false), .stored(firstTime: false), .stored(firstTime: false)])
        #expect(try await store.invitationAndAnswers(token: tokens.all[emails[2]]![0])?.answers == answers(7))
        #expect(try await store.invitationAndAnswers(token: tokens.all[emails[3]]![0])?.answers == edit)
        for e in emails.dropFirst(4) {
            let stored = try #require(try await store.invitationAndAnswers(token: tokens.all[e]![0])?.answers)
            #expect((1...4).map(answers).contains(stored), "\(e): one batch's answers, whole: \(stored)")
        }
        let check = try await rollupCheck(store)
        #expect(check.differences.isEmpty && check.responseGroups > 0, "\(check.differences)")
    }

    /// Batches of one round on several servers at once, each replacing one team's answer
    /// and adding another team's: they share the teams' rollup rows, and none waits for
    /// another in a circle (each would be a deadlock PostgreSQL breaks after a second, by
    /// failing one batch).
    @Test(arguments: AnswerStoreContract.engines) func batchesOfOneRoundAtOnceNeverDeadlock(engine name: String) async throws {
        let store = try await engine(name)
        func answers(_ energy: Int) -> [String: AnswerValue] {
            ["energy": .number(energy), "workload": .number(3), "support": .number(4), "quota_confidence": .number(2)]
        }
        for week in 43...48 {
            let tokens = try await weeklyRound(store, week: "2026-W\(week)")
            var invitations: [Invitation] = []
            for i in 0..<12 { invitations.append(try #require(try await store.invitation(token: tokens.all["r\(String(format: "%02d", i))@x.org"]![0]))) }
            _ = try await store.submitAnswers(invitations[0..<6].map { AnswerSubmission($0, answers: answers(1), now: Self.now) })
            // r00, r02, r04 are east and r01, r03, r05 west, answered; r06 to r11 not yet.
            let pairs = [(0, 7), (1, 6), (2, 9), (3, 8), (4, 11), (5, 10)]
            let all = invitations
            let outcomes = try await withThrowingTaskGroup(of: [WebAnswerOutcome].self) { group in
                for (replaced, added) in pairs {
                    group.addTask {
                        try await store.submitAnswers([AnswerSubmission(all[replaced], answers: answers(2), now: Self.now),
                                                       AnswerSubmission(all[added], answers: answers(3), now: Self.now)])
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(outcomes.filter { $0 == .stored(firstTime: true) }.count == 6 && outcomes.count == 12, "\(week): \(outcomes)")
        }
        let check = try await rollupCheck(store)
        #expect(check.differences.isEmpty, "\(check.differences)")
    }

    func rollupCheck(_ store: any Store) async throws -> RollupCheck {
        if let s = store as? SQLiteAnswerStore { return try s.database.rollupCheck() }
        return try await #require(store as? PostgresAnswerStore).rollupCheck()
    }
}
